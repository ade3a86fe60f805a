// The pagekite.py short form, following ParseFriendlyBackendSpecs (PyPagekite pk.py).
#include "config/short_form.hpp"

#include <algorithm>
#include <filesystem>

#include "config/values.hpp"

namespace kiteline::config {
namespace {

bool all_digits(std::string_view s) noexcept {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string without_slashes(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c != '/') {
      out += c;
    }
  }
  return out;
}

std::string replace_all(std::string text, std::string_view from, std::string_view to) {
  for (auto pos = text.find(from); pos != std::string::npos; pos = text.find(from, pos)) {
    text.replace(pos, from.size(), to);
    pos += to.size();
  }
  return text;
}

// Protocols the short form accepts in front of SERVICE, and their default ports.
const char* short_form_default_port(std::string_view proto) noexcept {
  if (proto == "http" || proto == "http2" || proto == "http3") {
    return "80";
  }
  if (proto == "https" || proto == "tls") {
    return "443";
  }
  if (proto == "ssh") {
    return "22";
  }
  if (proto == "irc") {
    return "6667";
  }
  if (proto == "xmpp") {
    return "5222";
  }
  if (proto == "minecraft") {
    return "25565";
  }
  return nullptr;
}

struct one_set {
  std::vector<std::string> words;
  std::vector<std::string> origins;
};

void parse_set(const one_set& set, const connector_config& cfg, short_form_result& out) {
  std::vector<std::string> flags;
  std::vector<std::string> args;
  std::vector<std::string> arg_origins;
  for (std::size_t i = 0; i < set.words.size(); ++i) {
    if (set.words[i].starts_with('+')) {
      flags.push_back(set.words[i]);
    } else {
      args.push_back(set.words[i]);
      arg_origins.push_back(set.origins[i]);
    }
  }
  const std::string set_origin = set.origins.empty() ? std::string("argv") : set.origins.front();
  if (args.empty()) {
    add(out.errors, set_origin, "", "expected [SERVICE] KITENAME before the +flags");
    return;
  }
  const std::string origin = arg_origins.back();
  const std::string fe_spec = replace_all(
      replace_all(args.back(), "@kitesecret", cfg.kitesecret.reveal()), "@kitename",
      cfg.kitename);
  args.pop_back();
  if (args.size() > 1) {
    add(out.errors, arg_origins.front(), "",
        "expected [SERVICE] KITENAME, got " + std::to_string(args.size() + 1) +
            " words (serving several paths is not supported; give one folder)");
    return;
  }

  // SERVICE
  std::string be_proto = "http";
  std::string be_host;
  std::string be_port;
  std::string folder;
  bool have_be = false;
  if (args.size() == 1) {
    const std::string& a = args.front();
    std::error_code ec;
    const auto st = std::filesystem::status(a, ec);
    if (!ec && std::filesystem::is_directory(st)) {
      folder = a;
      have_be = true;
    } else if (!ec && std::filesystem::exists(st)) {
      add(out.errors, arg_origins.front(), "",
          "`" + a + "` is a file; serving single files is not supported, give its folder");
      return;
    } else {
      auto be = split_outside_brackets(without_slashes(a), ':');
      const std::string first = to_lower(be.front());
      if (const char* port = short_form_default_port(first); port != nullptr) {
        // PROTO, PROTO:PORT, PROTO:HOST or PROTO:HOST:PORT. (pagekite.py appends the default
        // port to a lone PORT and so reads `ssh:22` as host "22"; kiteline reads it as a port.)
        be_proto = first;
        be.erase(be.begin());
        if (be.empty()) {
          be.emplace_back(port);
        } else if (be.size() == 1 && !all_digits(be.front())) {
          be.emplace_back(port);
        }
      }
      if (be.size() > 2) {
        add(out.errors, arg_origins.front(), "", "bad SERVICE `" + a + "`");
        return;
      }
      if (be.size() < 2) {
        if (be.front() != "builtin" && !all_digits(be.front())) {
          add(out.errors, arg_origins.front(), "",
              "`" + a + "` should be a folder, a port, HOST:PORT or PROTO:[HOST:]PORT");
          return;
        }
        be.insert(be.begin(), "localhost");
      }
      be_host = be[0];
      be_port = be[1];
      have_be = true;
    }
  }

  // KITENAME
  const auto scheme = fe_spec.find("://");
  const auto path_at = fe_spec.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  if (path_at != std::string::npos) {
    add(out.errors, origin, "", "paths in kite names (`" + fe_spec + "`) are not supported");
    return;
  }
  const auto fe = split(without_slashes(fe_spec), ':');
  std::string proto;
  std::string name;
  std::string public_port;
  if (fe.size() == 3) {
    proto = fe[0];
    name = fe[1];
    public_port = fe[2];
  } else if (fe.size() == 2 && all_digits(fe[1])) {
    proto = be_proto;
    name = fe[0];
    public_port = fe[1];
  } else if (fe.size() == 2) {
    proto = fe[0];
    name = fe[1];
  } else if (fe.size() == 1) {
    name = fe[0];
    if (have_be) {
      proto = be_proto;
    }
  } else {
    add(out.errors, origin, "", "bad KITENAME `" + fe_spec + "` (NAME, NAME:PORT, PROTO://NAME)");
    return;
  }
  proto = to_lower(proto);
  if (proto == "ssh" && !public_port.empty()) {
    proto = "raw";
  }
  std::string protos = proto;
  if (!public_port.empty()) {
    protos += "-" + public_port;
  }
  name = to_lower(name);

  // Secret: a configured kite of that name, else --kitesecret.
  std::string secret_text;
  for (const auto& s : cfg.services) {
    if (s.kite_name == name && !s.kite_secret.empty()) {
      secret_text = s.kite_secret.reveal();
      break;
    }
  }
  if (secret_text.empty()) {
    secret_text = cfg.kitesecret.reveal();
  }

  std::vector<service> made;
  if (!have_be) {
    // Re-enable the configured kites of that name (and protocol, when given).
    for (const auto& s : cfg.services) {
      if (s.kite_name != name) {
        continue;
      }
      if (!proto.empty()) {
        auto wanted = build_services(protos, name, "", "builtin", "", true, origin);
        if (!wanted.error.empty() || wanted.services.empty() ||
            wanted.services.front().proto != s.proto ||
            (wanted.services.front().public_port && wanted.services.front().public_port !=
                                                        s.public_port)) {
          continue;
        }
      }
      service copy = s;
      copy.enabled = true;
      made.push_back(std::move(copy));
    }
  }
  if (made.empty()) {
    const std::string port = !folder.empty() ? std::string("builtin") : be_port;
    auto built = build_services(protos, name, be_host, port, secret_text, true, origin);
    if (!built.error.empty()) {
      add(out.errors, origin, "", built.error);
      return;
    }
    for (auto& s : built.services) {
      if (!folder.empty()) {
        s.kind = origin_kind::folder;
        s.folder = folder;
      }
      made.push_back(std::move(s));
    }
  }
  for (auto& s : made) {
    if (s.kite_secret.empty() && cfg.tls_client_cert.empty()) {
      add(out.errors, origin, "",
          "no secret for kite `" + s.kite_name +
              "`: give --kitesecret=SECRET, or configure it with "
              "--service_on=PROTO:KITE:HOST:PORT:SECRET (kiteline never signs up interactively)");
      return;
    }
  }
  const std::string target = flag_target(made.front());
  for (const auto& word : flags) {
    auto f = parse_plus_flag(word, target, set_origin);
    if (!f) {
      add(out.errors, set_origin, word, f.error().message());
      continue;
    }
    out.flags.push_back(std::move(*f));
  }
  for (auto& s : made) {
    out.services.push_back(std::move(s));
  }
}

}  // namespace

short_form_result parse_short_form(std::span<const std::string> words,
                                   std::span<const std::string> origins,
                                   const connector_config& configured) {
  short_form_result out;
  std::vector<one_set> sets(1);
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (words[i] == "AND") {
      sets.emplace_back();
      continue;
    }
    sets.back().words.push_back(words[i]);
    sets.back().origins.push_back(i < origins.size() ? origins[i] : std::string("argv"));
  }
  for (const auto& set : sets) {
    if (set.words.empty()) {
      add(out.errors, "argv", "AND", "expected [SERVICE] KITENAME around AND");
      continue;
    }
    parse_set(set, configured, out);
  }
  return out;
}

}  // namespace kiteline::config
