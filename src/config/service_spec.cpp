// --service_on specs and per-kite flags, following pagekite.py's ArgToBackendSpecs.
#include "config/service_spec.hpp"

#include <algorithm>
#include <array>
#include <filesystem>

#include "config/values.hpp"
#include "core/text.hpp"

namespace kiteline::config {
namespace {

constexpr std::array known_protos{std::string_view("http"),  std::string_view("http2"),
                                  std::string_view("http3"), std::string_view("https"),
                                  std::string_view("websocket"), std::string_view("irc"),
                                  std::string_view("raw"),   std::string_view("minecraft"),
                                  std::string_view("xmpp")};

std::string without(std::string_view text, char c) {
  std::string out;
  for (char x : text) {
    if (x != c) {
      out += x;
    }
  }
  return out;
}

bool all_digits(std::string_view s) noexcept {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool is_directory(const std::string& path) {
  std::error_code ec;
  return std::filesystem::is_directory(path, ec);
}

}  // namespace

bool is_known_proto(std::string_view proto) noexcept {
  return std::find(known_protos.begin(), known_protos.end(), proto) != known_protos.end();
}

std::optional<std::uint16_t> default_origin_port(std::string_view proto) noexcept {
  if (proto == "http" || proto == "http2" || proto == "http3" || proto == "websocket") {
    return 80;
  }
  if (proto == "https") {
    return 443;
  }
  if (proto == "irc") {
    return 6667;
  }
  if (proto == "xmpp") {
    return 5222;
  }
  if (proto == "minecraft") {
    return 25565;
  }
  return std::nullopt;
}

service_spec_result build_services(std::string_view protos, std::string_view kite,
                                   std::string_view host, std::string_view port,
                                   std::string_view secret_text, bool enabled,
                                   const std::string& origin) {
  service_spec_result out;
  const std::string name = to_lower(without(kite, '/'));
  if (!is_valid_name(name, true)) {
    out.error = "`" + name + "` is not a valid kite name";
    return out;
  }
  std::string origin_host = to_lower(host);
  if (origin_host.size() >= 2 && origin_host.front() == '[' && origin_host.back() == ']') {
    origin_host = origin_host.substr(1, origin_host.size() - 2);
  }
  if (origin_host.empty()) {
    origin_host = "localhost";
  }
  std::string proto_list = to_lower(protos);
  std::replace(proto_list.begin(), proto_list.end(), '/', '-');
  if (proto_list.empty()) {
    proto_list = "http";
  }
  for (const auto& item : split(proto_list, ',')) {
    service s;
    s.kite_name = name;
    s.origin_host = origin_host;
    s.kite_secret = secret(std::string(secret_text));
    s.enabled = enabled;
    s.origin = origin;
    std::optional<std::uint16_t> default_port;
    if (item == "ssh") {
      s.proto = "raw";
      s.public_port = 22;
      default_port = 22;
    } else {
      const auto parts = split(item, '-');
      if (parts.size() > 2) {
        out.error = "bad protocol `" + item + "` (PROTO, PROTO-PORT or PROTO/PORT)";
        return {std::vector<service>{}, out.error};
      }
      s.proto = parts[0].starts_with("tls") ? "https" : parts[0];
      if (parts.size() == 2) {
        const auto p = parse_port(parts[1]);
        if (!p) {
          return {{}, "bad public port `" + parts[1] + "` in `" + item + "` (1-65535)"};
        }
        s.public_port = *p;
      }
      if (!is_known_proto(s.proto)) {
        return {{}, "unknown protocol `" + s.proto +
                        "` (http, http2, http3, https, websocket, irc, raw, minecraft, xmpp, "
                        "ssh, tls)"};
      }
      default_port = default_origin_port(s.proto);
      if (s.proto == "raw" && !default_port && s.public_port) {
        default_port = s.public_port;
      }
    }
    if (port == "builtin") {
      s.kind = origin_kind::builtin;
    } else if (port.empty()) {
      if (!default_port) {
        return {{}, "no origin port for `" + item + "`: give PROTOS:KITE:HOST:PORT"};
      }
      s.origin_port = *default_port;
    } else {
      const auto p = parse_port(port);
      if (!p) {
        return {{}, "bad origin port `" + std::string(port) + "` (1-65535 or builtin)"};
      }
      s.origin_port = *p;
    }
    out.services.push_back(std::move(s));
  }
  return out;
}

service_spec_result parse_service_spec(std::string_view spec, bool enabled,
                                       const std::string& origin) {
  const auto f = split_outside_brackets(spec, ':');
  switch (f.size()) {
    case 5:
      return build_services(f[0], f[1], f[2], f[3], f[4], enabled, origin);
    case 4:
      return build_services(f[0], f[1], f[2], f[3], "", enabled, origin);
    case 3:
      return build_services(f[0], f[1], "", f[2], "", enabled, origin);
    case 2:
      if (f[1] == "builtin" || all_digits(f[1])) {
        return build_services("http", f[0], "", f[1], "", enabled, origin);
      }
      if (f[0].find('.') != std::string::npos && is_directory(f[1])) {
        auto out = build_services("http", f[0], "", "builtin", "", enabled, origin);
        for (auto& s : out.services) {
          s.kind = origin_kind::folder;
          s.folder = f[1];
        }
        return out;
      }
      return build_services(f[0], f[1], "", "", "", enabled, origin);
    case 1:
      return build_services("", f[0], "", "", "", enabled, origin);
    default:
      return {{}, "expected PROTOS:KITE:HOST:PORT:SECRET (or a shorter form: PROTOS:KITE:HOST:"
                  "PORT, PROTOS:KITE:PORT, KITE:PORT, PROTO:KITE, KITE)"};
  }
}

std::string flag_target(const service& s) {
  return s.kite_name + "/" + std::to_string(s.public_port.value_or(80));
}

outcome<flag_setting> parse_plus_flag(std::string_view word, std::string target,
                                      std::string origin) {
  flag_setting f;
  f.target = std::move(target);
  f.origin = std::move(origin);
  std::string_view body = word.substr(1);
  if (const auto eq = body.find('='); eq != std::string_view::npos) {
    f.key = std::string(body.substr(0, eq));
    f.text = std::string(body.substr(eq + 1));
  } else if (body.starts_with("no")) {
    f.key = std::string(body.substr(2));
    f.on = false;
  } else {
    f.key = std::string(body);
  }
  if (f.key.find(':') != std::string::npos) {
    return failure(errc::bad_flag, "do not use `:` in flag names (" + std::string(word) + ")");
  }
  if (f.key.starts_with("user/")) {
    f.key = "password/" + f.key.substr(5);
  }
  if (std::string problem = check_flag(f); !problem.empty()) {
    return failure(errc::bad_flag, std::move(problem));
  }
  return f;
}

outcome<flag_setting> parse_service_cfg(std::string_view value, std::string origin) {
  flag_setting f;
  f.origin = std::move(origin);
  const auto first = value.find(':');
  const auto second = first == std::string_view::npos ? first : value.find(':', first + 1);
  if (second == std::string_view::npos) {
    return failure(errc::bad_service_cfg, "expected KITE/PORT:KEY:VALUE");
  }
  const std::string_view target = value.substr(0, first);
  f.key = std::string(value.substr(first + 1, second - first - 1));
  const std::string_view text = value.substr(second + 1);
  const auto slash = target.find('/');
  const std::string kite = to_lower(target.substr(0, slash));
  std::uint16_t port = 80;
  if (slash != std::string_view::npos) {
    const auto p = parse_port(target.substr(slash + 1));
    if (!p) {
      return failure(errc::bad_port, "bad port in `" + std::string(target) + "` (KITE/PORT)");
    }
    port = *p;
  }
  if (!is_valid_name(kite, true)) {
    return failure(errc::bad_kite_name, "`" + kite + "` is not a valid kite name");
  }
  f.target = kite + "/" + std::to_string(port);
  if (f.key.starts_with("user/")) {
    f.key = "password/" + f.key.substr(5);
  }
  if (text == "True") {
    f.on = true;
  } else if (text == "False" || text == "None") {
    f.on = false;
  } else {
    f.text = std::string(text);
  }
  if (std::string problem = check_flag(f); !problem.empty()) {
    return failure(errc::bad_flag, std::move(problem));
  }
  return f;
}

std::string check_flag(const flag_setting& f) {
  const std::string& k = f.key;
  if (k == "rewritehost") {
    if (f.text && !is_valid_name(to_lower(*f.text), false)) {
      return "rewritehost: `" + *f.text + "` is not a host name";
    }
    return {};
  }
  if (k == "rawheaders" || k == "proxyproto" || k == "insecure" || k == "hide") {
    if (f.text) {
      return k + " takes no value";
    }
    return {};
  }
  if (k == "indexes") {
    if (f.text && *f.text != "all") {
      return "indexes takes no value or `all`";
    }
    return {};
  }
  if (k.starts_with("ip/")) {
    const std::string_view addr = std::string_view(k).substr(3);
    const bool ok = !addr.empty() && std::all_of(addr.begin(), addr.end(), [](char c) {
      return is_hex_digit(c) || c == '.' || c == ':';
    });
    if (!ok) {
      return "ip/ADDRESS: `" + std::string(addr) + "` is not an IP address or prefix";
    }
    if (f.text) {
      return k + " takes no value";
    }
    return {};
  }
  if (k.starts_with("password/")) {
    if (k.size() == 9) {
      return "password/USER=PASS: the user name is missing";
    }
    if (f.on && (!f.text || f.text->empty())) {
      return "password/USER=PASS: the password is missing";
    }
    return {};
  }
  if (k == "uploads" || k == "ul_filenames" || k == "cgi" || k == "photobackup" || k == "root") {
    return "the built-in web server flag `" + k + "` is not implemented yet by kiteline";
  }
  return "unknown flag `" + k +
         "` (rewritehost, rawheaders, proxyproto, insecure, ip/ADDR, password/USER, indexes, "
         "hide)";
}

void apply_flag(service_flags& flags, const flag_setting& f) {
  const std::string& k = f.key;
  if (k == "rewritehost") {
    if (!f.on) {
      flags.rewrite_host.reset();
    } else {
      flags.rewrite_host = f.text ? to_lower(*f.text) : std::string();
    }
  } else if (k == "rawheaders") {
    flags.rawheaders = f.on;
  } else if (k == "proxyproto") {
    flags.proxyproto = f.on;
  } else if (k == "insecure") {
    flags.insecure = f.on;
  } else if (k == "hide") {
    flags.hide = f.on;
  } else if (k == "indexes") {
    flags.indexes = !f.on ? index_mode::off : (f.text ? index_mode::all : index_mode::on);
  } else if (k.starts_with("ip/")) {
    const std::string addr = k.substr(3);
    auto& v = flags.ip_allow;
    v.erase(std::remove(v.begin(), v.end(), addr), v.end());
    if (f.on) {
      v.push_back(addr);
    }
  } else if (k.starts_with("password/")) {
    const std::string user = k.substr(9);
    auto& v = flags.passwords;
    v.erase(std::remove_if(v.begin(), v.end(),
                           [&](const basic_credential& c) { return c.user == user; }),
            v.end());
    if (f.on && f.text) {
      v.push_back(basic_credential{user, secret(*f.text)});
    }
  }
}

}  // namespace kiteline::config
