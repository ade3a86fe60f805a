// parse_command_line: applies the option stream to relay_config / connector_config in order.
#include "config/parse.hpp"

#include <algorithm>
#include <array>

#include "config/service_spec.hpp"
#include "config/short_form.hpp"
#include "config/validate.hpp"
#include "config/values.hpp"
#include "core/text.hpp"

namespace kiteline::config {
namespace {

/// pagekite.py's SERVICE_CERTS (common.py): added by --defaults and --whitelabel(s).
constexpr std::array service_certs{"b5p.us",       "frontends.b5p.us", "pagekite.net",
                                   "pagekite.me",  "pagekite.com",     "pagekite.org",
                                   "testing.is",   "302.is"};

constexpr std::array deprecated{"reloadfile", "autosave",   "noautosave",    "webroot",
                                "webaccess",  "webindexes", "delete_backend"};

std::string dashed(std::string_view name) { return "--" + std::string(name); }

std::string replace_all(std::string text, std::string_view from, std::string_view to) {
  for (auto pos = text.find(from); pos != std::string::npos; pos = text.find(from, pos)) {
    text.replace(pos, from.size(), to);
    pos += to.size();
  }
  return text;
}

struct context {
  std::vector<diagnostic>& errors;
  std::vector<diagnostic>& warnings;
  origin_map& origins;

  void error(const raw_option& o, std::string message) const {
    add(errors, o.origin, o.name, std::move(message));
  }
  void warn(const raw_option& o, std::string message) const {
    add(warnings, o.origin, o.name, std::move(message));
  }
};

std::string value_of(const raw_option& o) { return o.value.value_or(std::string()); }

// Options both roles share. Returns false when `o` is not one of them.
bool apply_process(process_config& p, const raw_option& o, const context& ctx) {
  const std::string v = value_of(o);
  if (o.name == "logfile") {
    if (v.empty()) {
      ctx.error(o, "needs a file name, `stdio` or `syslog`");
    } else {
      p.logfile = v;
    }
  } else if (o.name == "loglevel") {
    constexpr std::array levels{"none", "err", "warn", "info", "mach", "debug", "all"};
    const bool named = std::find(levels.begin(), levels.end(), v) != levels.end();
    if (!named && !parse_unsigned(v, 9)) {
      ctx.error(o, "`" + v + "` is not a log level (none, err, warn, info, mach, debug, all, 0-9)");
    } else {
      p.loglevel = v;
    }
  } else if (o.name == "threads") {
    if (const auto n = parse_unsigned(v, 1024)) {
      p.threads = static_cast<unsigned>(*n);
    } else {
      ctx.error(o, "expected a number of threads 0-1024 (0 = one per core)");
    }
  } else if (o.name == "buffers") {
    const auto n = parse_unsigned(v, 1u << 22);
    if (n && *n > 0) {
      p.buffers_kib = static_cast<std::size_t>(*n);
    } else {
      ctx.error(o, "expected a size in KiB, 1-4194304");
    }
  } else if (o.name == "evict_after") {
    if (const auto n = parse_unsigned(v, 86400)) {
      p.evict_after_s = static_cast<unsigned>(*n);
    } else {
      ctx.error(o, "expected seconds, 0-86400 (0 = never evict)");
    }
  } else if (o.name == "stalled_after") {
    if (const auto n = parse_unsigned(v, 86400)) {
      p.stalled_after_s = static_cast<unsigned>(*n);
    } else {
      ctx.error(o, "expected seconds, 0-86400 (0 = never)");
    }
  } else if (o.name == "half_closed_timeout") {
    if (const auto n = parse_unsigned(v, 86400)) {
      p.half_closed_timeout_s = static_cast<unsigned>(*n);
    } else {
      ctx.error(o, "expected seconds, 0-86400 (0 = never)");
    }
  } else if (o.name == "nozchunks") {
    p.nozchunks = true;
  } else if (o.name == "runas") {
    const auto parts = split(v, ':');
    if (v.empty() || parts.size() > 2 || parts[0].empty() ||
        (parts.size() == 2 && parts[1].empty())) {
      ctx.error(o, "expected USER or USER:GROUP");
    } else {
      p.runas = v;
    }
  } else if (o.name == "chroot") {
    if (v.empty()) {
      ctx.error(o, "needs a directory");
    } else {
      p.chroot = v;
    }
  } else {
    return false;
  }
  ctx.origins[o.name] = o.origin;
  return true;
}

// --tls_legacy / --tls_ciphers / --tls_protocols / --tls_openssl_records, shared by both roles.
// False when `o` is not one of them.
template <class Config>
bool apply_tls_policy(Config& cfg, const raw_option& o, const context& ctx) {
  const std::string v = value_of(o);
  if (o.name == "tls_legacy") {
    cfg.tls_legacy = true;
  } else if (o.name == "tls_openssl_records") {
    cfg.tls_openssl_records = true;
  } else if (o.name == "tls_ciphers") {
    if (v.empty()) {
      ctx.error(o, "needs an OpenSSL cipher list");
    } else {
      cfg.tls_ciphers = v;
    }
  } else if (o.name == "tls_protocols") {
    if (v.empty()) {
      ctx.error(o, "needs a protocol list, e.g. `all -tlsv1 -tlsv1.1`");
    } else {
      cfg.tls_protocols = v;
    }
  } else {
    return false;
  }
  return true;
}

std::optional<proto_port> parse_proto_port(std::string_view text) {
  const auto parts = split(to_lower(text), '-');
  if (parts.size() > 2 || !is_known_proto(parts[0])) {
    return std::nullopt;
  }
  proto_port out{parts[0], std::nullopt};
  if (parts.size() == 2) {
    const auto port = parse_port(parts[1]);
    if (!port) {
      return std::nullopt;
    }
    out.port = *port;
  }
  return out;
}

void apply_relay(relay_config& cfg, const raw_option& o, const context& ctx) {
  if (apply_process(cfg.process, o, ctx)) {
    return;
  }
  ctx.origins[o.name] = o.origin;
  const std::string v = value_of(o);
  const std::string& n = o.name;
  if (n == "host") {
    std::string host = v;
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
      host = host.substr(1, host.size() - 2);
    }
    if (host.empty()) {
      ctx.error(o, "needs an address");
    } else {
      cfg.host = host;
    }
  } else if (n == "ports") {
    std::vector<std::uint16_t> ports;
    for (const auto& item : split(v, ',')) {
      if (item == "0") {
        ports.push_back(0);  // kiteline: an ephemeral port, reported on the "ready" line
      } else if (const auto p = parse_port(item)) {
        ports.push_back(*p);
      } else {
        ctx.error(o, "`" + item + "` is not a port (0-65535; 0 = any free port)");
        return;
      }
    }
    cfg.ports = std::move(ports);
  } else if (n == "portalias") {
    const auto parts = split(v, ':');
    const auto a = parts.size() == 2 ? parse_port(parts[0]) : std::nullopt;
    const auto b = parts.size() == 2 ? parse_port(parts[1]) : std::nullopt;
    if (!a || !b) {
      ctx.error(o, "expected LISTENPORT:REPORTEDPORT");
    } else {
      cfg.port_aliases.push_back(port_alias{*a, *b});
    }
  } else if (n == "protos") {
    std::vector<std::string> protos;
    for (const auto& item : split(to_lower(v), ',')) {
      if (!is_known_proto(item)) {
        ctx.error(o, "unknown protocol `" + item + "`");
        return;
      }
      protos.push_back(item);
    }
    cfg.protos = std::move(protos);
  } else if (n == "rawports") {
    std::vector<std::uint16_t> ports;
    bool virt = false;
    for (const auto& item : split(v, ',')) {
      if (item == "virtual") {
        virt = true;
      } else if (const auto p = parse_port(item)) {
        ports.push_back(*p);
      } else {
        ctx.error(o, "`" + item + "` is not a port (1-65535) or `virtual`");
        return;
      }
    }
    cfg.raw_ports = std::move(ports);
    cfg.raw_virtual = virt;
  } else if (n == "domain") {
    const auto parts = split(v, ':');
    if (parts.size() != 3) {
      ctx.error(o, "expected PROTOS:DOMAIN:SECRET");
      return;
    }
    domain_rule rule;
    rule.origin = o.origin;
    rule.domain = to_lower(parts[1]);
    rule.shared_secret = secret(parts[2]);
    if (parts[0].empty() || parts[0] == "*") {
      rule.any_proto = true;
    } else {
      for (auto item : split(parts[0], ',')) {
        std::replace(item.begin(), item.end(), '/', '-');
        const auto pp = parse_proto_port(item);
        if (!pp) {
          ctx.error(o, "bad protocol `" + item + "` (PROTO or PROTO-PORT, PROTO one of --protos)");
          return;
        }
        rule.protos.push_back(*pp);
      }
    }
    if (!is_valid_name(rule.domain, true)) {
      ctx.error(o, "`" + rule.domain + "` is not a valid domain (NAME or *.NAME)");
      return;
    }
    if (rule.shared_secret.empty()) {
      ctx.error(o, "the secret is empty");
      return;
    }
    for (const auto& other : cfg.domains) {
      const bool overlap =
          other.domain == rule.domain &&
          (other.any_proto || rule.any_proto ||
           std::any_of(rule.protos.begin(), rule.protos.end(), [&](const proto_port& p) {
             return std::find(other.protos.begin(), other.protos.end(), p) != other.protos.end();
           }));
      if (overlap) {
        ctx.error(o, "same protocol and domain defined twice (first at " + other.origin + ")");
        return;
      }
    }
    cfg.domains.push_back(std::move(rule));
  } else if (n == "tls_endpoint") {
    const auto colon = v.find(':');
    const std::string name = to_lower(v.substr(0, colon));
    if (colon == std::string::npos || colon + 1 == v.size()) {
      ctx.error(o, "expected NAME:PEMFILE");
    } else if (!is_valid_name(name, true)) {
      ctx.error(o, "`" + name + "` is not a valid name (NAME or *.NAME)");
    } else {
      cfg.tls_endpoints.push_back(tls_endpoint{name, v.substr(colon + 1), o.origin});
    }
  } else if (n == "tls_default") {
    const std::string name = to_lower(v);
    if (!is_valid_name(name, false)) {
      ctx.error(o, "`" + v + "` is not a valid name");
    } else {
      cfg.tls_default = name;
    }
  } else if (apply_tls_policy(cfg, o, ctx)) {
    return;
  } else if (n == "tls_client_ca") {
    cfg.tls_client_ca = v;
  } else if (n == "tls_keys_inprocess") {
    cfg.tls_keys_inprocess = true;
  } else if (n == "tls_reload_seconds") {
    const auto secs = parse_unsigned(v, 86400);
    if (!secs) {
      ctx.error(o, "expected seconds, 0-86400");
    } else {
      cfg.tls_reload_interval = std::chrono::seconds(*secs);
    }
  } else if (n == "tls_endpoint_ca") {
    cfg.tls_endpoint_ca = v;
  } else if (n == "tls_client_required") {
    cfg.tls_client_required = true;
  } else if (n == "motd") {
    cfg.motd_file = v;
  } else if (n == "visitor_timeout") {
    const auto secs = parse_unsigned(v, 3600);
    if (!secs || *secs == 0) {
      ctx.error(o, "expected seconds, 1-3600");
    } else {
      cfg.visitor_timeout = std::chrono::seconds(*secs);
    }
  } else if (n == "auth_timeout") {
    const auto secs = parse_unsigned(v, 3600);
    if (!secs || *secs == 0) {
      ctx.error(o, "expected seconds, 1-3600");
    } else {
      cfg.auth_timeout = std::chrono::seconds(*secs);
    }
  } else if (n == "max_unauth_tunnels") {
    const auto parts = split(v, '/');
    const auto total = parts.size() <= 2 ? parse_unsigned(parts[0], 1000000) : std::nullopt;
    const auto per_ip =
        parts.size() == 2 ? parse_unsigned(parts[1], 1000000) : std::optional<std::uint64_t>(0);
    if (!total || *total == 0 || !per_ip) {
      ctx.error(o, "expected N or N/PER_IP (N 1-1000000; PER_IP 1-1000000, default N/16)");
    } else {
      cfg.max_unauth_tunnels = static_cast<std::size_t>(*total);
      if (parts.size() == 2 && *per_ip > 0) {
        cfg.max_unauth_per_ip = static_cast<std::size_t>(*per_ip);
      }
    }
  } else if (n == "errorurl") {
    ctx.error(o, "--errorurl is not implemented yet by kiteline for the relay");
  } else {
    ctx.error(o, dashed(n) + " is not handled by kiteline's relay (internal: unmapped option)");
  }
}

void apply_presets(connector_config& cfg, std::string_view domain, bool secure_url,
                   std::vector<std::string> first_names, const raw_option& o,
                   const context& ctx) {
  // pk.py APPVER_DNS (§9.3): fe4_152.DOMAIN for the pagekite.py 1.5.2.x kiteline follows.
  cfg.pool = frontend_pool{1, versioned_relay_name(domain), "", 443};
  for (const char* c : service_certs) {
    if (c != domain) {
      first_names.emplace_back(c);
    }
  }
  for (auto& name : first_names) {
    cert_name cn{std::move(name), std::nullopt};
    if (std::find(cfg.fe_certnames.begin(), cfg.fe_certnames.end(), cn) ==
        cfg.fe_certnames.end()) {
      cfg.fe_certnames.push_back(std::move(cn));
    }
  }
  cfg.error_url = (secure_url ? "https://www." : "http://www.") + std::string(domain) +
                  "/offline/?";
  ctx.warn(o, "the dynamic DNS updates this preset implies in pagekite.py are not implemented "
              "by kiteline");
}

void apply_connector(connector_config& cfg, std::vector<flag_setting>& cfgs, const raw_option& o,
                     const context& ctx) {
  if (apply_process(cfg.process, o, ctx)) {
    return;
  }
  ctx.origins[o.name] = o.origin;
  const std::string v = value_of(o);
  const std::string& n = o.name;
  if (n == "frontend") {
    const auto hp = parse_host_port(v, 443);
    if (!hp) {
      ctx.error(o, "expected HOST:PORT, [IPV6]:PORT or IPV6:PORT (`" + v + "`)");
    } else {
      cfg.frontends.push_back(frontend_address{hp->host, hp->port, o.origin});
    }
  } else if (n == "frontends") {
    const auto parts = split(v, ':');
    const auto count = parts.size() == 3 ? parse_unsigned(parts[0], 1000) : std::nullopt;
    const auto port = parts.size() == 3 ? parse_port(parts[2]) : std::nullopt;
    if (!count || *count == 0 || !port || parts[1].empty() || parts[1] == "@") {
      ctx.error(o, "expected N:DNSNAME:PORT or N:@FILE:PORT (N 1-1000)");
      return;
    }
    frontend_pool pool;
    pool.count = static_cast<unsigned>(*count);
    pool.port = *port;
    if (parts[1].starts_with('@')) {
      pool.file = parts[1].substr(1);
    } else {
      pool.dns_name = to_lower(parts[1]);
      if (!is_valid_name(pool.dns_name, false)) {
        ctx.error(o, "`" + parts[1] + "` is not a valid DNS name");
        return;
      }
    }
    cfg.pool = std::move(pool);
  } else if (n == "defaults") {
    apply_presets(cfg, "b5p.us", true, {"b5p.us"}, o, ctx);
    cfg.error_url = "https://pagekite.net/offline/?";
  } else if (n == "whitelabel" || n == "whitelabels") {
    const std::string d = to_lower(v);
    if (!is_valid_name(d, false)) {
      ctx.error(o, "`" + v + "` is not a valid domain");
      return;
    }
    apply_presets(cfg, d, n == "whitelabels", {"fe." + d, d}, o, ctx);
  } else if (n == "service_on" || n == "service_off") {
    const std::string spec = replace_all(replace_all(v, "@kitesecret", cfg.kitesecret.reveal()),
                                         "@kitename", cfg.kitename);
    auto parsed = parse_service_spec(spec, n == "service_on", o.origin);
    if (!parsed.error.empty()) {
      ctx.error(o, parsed.error);
      return;
    }
    for (auto& s : parsed.services) {
      const auto dup = std::find_if(cfg.services.begin(), cfg.services.end(),
                                    [&](const service& x) { return x.id() == s.id(); });
      if (dup != cfg.services.end()) {
        ctx.error(o, "same kite defined twice: " + s.id() + " (first at " + dup->origin + ")");
        continue;
      }
      if (s.kite_secret.empty()) {
        for (const auto& x : cfg.services) {
          if (x.kite_name == s.kite_name && !x.kite_secret.empty()) {
            s.kite_secret = x.kite_secret;
            break;
          }
        }
      }
      if (cfg.kitename.empty()) {
        cfg.kitename = s.kite_name;
        cfg.kitesecret = s.kite_secret;
      }
      cfg.services.push_back(std::move(s));
    }
  } else if (n == "service_cfg") {
    std::string error;
    auto f = parse_service_cfg(v, o.origin, error);
    if (!error.empty()) {
      ctx.error(o, error);
    } else {
      cfgs.push_back(std::move(f));
    }
  } else if (n == "kitename") {
    cfg.kitename = to_lower(v);
  } else if (n == "kitesecret") {
    cfg.kitesecret = secret(v);
  } else if (n == "max_conns") {
    const auto c = parse_unsigned(v, 1000000);
    if (!c || *c == 0) {
      ctx.error(o, "expected a number of streams, 1-1000000");
    } else {
      cfg.max_conns = static_cast<std::size_t>(*c);
    }
  } else if (n == "origin_idle_timeout") {
    if (const auto secs = parse_unsigned(v, 604800)) {
      cfg.origin_idle_timeout = std::chrono::seconds(*secs);
    } else {
      ctx.error(o, "expected seconds, 0-604800 (0 = never)");
    }
  } else if (n == "keepalive") {
    if (v == "auto") {
      cfg.keepalive.reset();
    } else if (const auto secs = parse_unsigned(v, 86400)) {
      if (*secs < 20) {
        ctx.warn(o, "raised to the minimum of 20 seconds (as pagekite.py does)");
      }
      cfg.keepalive = std::chrono::seconds(std::max<std::uint64_t>(*secs, 20));
    } else {
      ctx.error(o, "expected seconds (>= 20, at most 86400) or `auto`");
    }
  } else if (n == "insecure") {
    cfg.insecure = true;
  } else if (n == "noprobes") {
    cfg.noprobes = true;
  } else if (n == "all") {
    cfg.require_all = true;
  } else if (n == "noall") {
    cfg.require_all = false;
  } else if (n == "new") {
    cfg.new_only = true;
  } else if (n == "errorurl") {
    if (const auto at = v.find(":http"); at != std::string::npos) {
      cfg.error_urls.push_back(error_url_rule{to_lower(v.substr(0, at)), v.substr(at + 1)});
    } else if (v.empty()) {
      ctx.error(o, "needs a URL");
    } else {
      cfg.error_url = v;
    }
  } else if (n == "fe_certname") {
    if (v.empty()) {
      cfg.fe_certnames.clear();
      return;
    }
    const std::string lower = to_lower(v);
    const auto slash = lower.find('/');
    cert_name cn{lower.substr(0, slash), std::nullopt};
    if (slash != std::string::npos) {
      const std::string pin = lower.substr(slash + 1);
      const bool hex = pin.size() == 40 && is_lower_hex(pin);
      if (!hex) {
        ctx.error(o, "expected NAME or NAME/SHA1 (40 hex digits of the DER certificate's SHA-1)");
        return;
      }
      cn.sha1 = pin;
    }
    if (!is_valid_name(cn.name, true)) {
      ctx.error(o, "`" + cn.name + "` is not a valid certificate name");
      return;
    }
    if (std::find(cfg.fe_certnames.begin(), cfg.fe_certnames.end(), cn) ==
        cfg.fe_certnames.end()) {
      cfg.fe_certnames.push_back(std::move(cn));
    }
  } else if (n == "fe_nocertcheck") {
    cfg.fe_nocertcheck = true;
  } else if (n == "tls_direct") {
    cfg.tls_direct = true;
  } else if (apply_tls_policy(cfg, o, ctx)) {
    return;
  } else if (n == "tls_keys_inprocess") {
    cfg.tls_keys_inprocess = true;
  } else if (n == "tls_client_cert") {
    if (v.empty()) {
      ctx.error(o, "needs a PEM file (private key + certificate chain)");
    } else {
      cfg.tls_client_cert = v;
    }
  } else if (n == "ca_certs") {
    if (v.empty()) {
      ctx.error(o, "needs a file, `auto` or `curl`");
    } else {
      cfg.ca_certs = v;
    }
  } else {
    ctx.error(o, dashed(n) + " is not handled by kiteline's connector (internal: unmapped option)");
  }
}

void apply_flags(connector_config& cfg, const std::vector<flag_setting>& settings,
                 std::vector<diagnostic>& warnings) {
  for (const auto& f : settings) {
    bool matched = false;
    for (auto& s : cfg.services) {
      if (flag_target(s) == f.target) {
        apply_flag(s.flags, f);
        matched = true;
      }
    }
    if (!matched) {
      add(warnings, f.origin, "service_cfg", "`" + f.target + "` matches no kite");
    }
  }
}

}  // namespace

parse_outcome parse_command_line(std::span<const std::string> argv, const environment& env) {
  parse_outcome out;
  expansion exp = expand_options(argv, env);

  const auto has = [&](std::string_view name) {
    return std::any_of(exp.options.begin(), exp.options.end(),
                       [&](const raw_option& o) { return o.name == name; });
  };
  if (has("help") || has("version")) {
    out.what = has("help") ? action::help : action::version;
    if (out.what == action::help) {
      out.help_text = help_text();
    }
    out.warnings = std::move(exp.errors);
    return out;
  }
  out.errors = std::move(exp.errors);

  bool relay_role = exp.subcommand == "frontend";
  for (const auto& o : exp.options) {
    if (o.name == "isfrontend") {
      if (exp.subcommand == "backend") {
        add(out.errors, o.origin, o.name, "--isfrontend conflicts with `kiteline backend`");
      }
      if (!exp.subcommand) {
        relay_role = true;
      }
    }
  }
  const char* role_name = relay_role ? "relay" : "connector";

  origin_map origins;
  const context ctx{out.errors, out.warnings, origins};
  relay_config relay;
  connector_config connector;
  std::vector<flag_setting> service_cfgs;
  bool check = false;
  for (const auto& o : exp.options) {
    const option_spec* spec = find_option(o.name);
    if (spec == nullptr) {
      continue;  // cannot happen: expand_options only emits known names
    }
    if ((spec->role == option_role::relay && !relay_role) ||
        (spec->role == option_role::connector && relay_role)) {
      ctx.error(o, dashed(o.name) + " is a " +
                       (spec->role == option_role::relay ? "relay" : "connector") +
                       " option; it makes no sense for the " + role_name +
                       (relay_role ? " (drop --isfrontend / `frontend` to run a connector)"
                                   : " (add --isfrontend or run `kiteline frontend`)"));
      continue;
    }
    if (spec->status == option_status::not_implemented) {
      ctx.error(o, dashed(o.name) + " is recognised but not implemented yet by kiteline");
      continue;
    }
    if (spec->status == option_status::ignored) {
      if (std::find(deprecated.begin(), deprecated.end(), o.name) != deprecated.end()) {
        ctx.warn(o, "deprecated pagekite.py option, ignored");
      }
      continue;
    }
    if (o.name == "isfrontend" || o.name == "clean") {
      continue;
    }
    if (o.name == "check_config") {
      check = true;
      continue;
    }
    if (relay_role) {
      apply_relay(relay, o, ctx);
    } else {
      apply_connector(connector, service_cfgs, o, ctx);
    }
  }

  if (relay_role) {
    if (!exp.positionals.empty()) {
      add(out.errors, exp.positional_origins.front(), "",
          "unexpected argument `" + exp.positionals.front() +
              "`: the short form (SERVICE KITENAME) is for the connector");
    }
    validate(relay, out.errors, out.warnings, origins, env.tls);
    out.relay = std::move(relay);
    out.what = check ? action::check_config : action::run_relay;
    return out;
  }

  std::vector<flag_setting> flags = std::move(service_cfgs);
  bool short_form_failed = false;
  if (!exp.positionals.empty()) {
    auto sf = parse_short_form(exp.positionals, exp.positional_origins, connector);
    out.errors.insert(out.errors.end(), sf.errors.begin(), sf.errors.end());
    short_form_failed = !sf.errors.empty();
    if (sf.errors.empty()) {
      // Kites given this way are the only ones active for this run (§10.3).
      for (auto& s : connector.services) {
        s.enabled = false;
      }
      for (auto& s : sf.services) {
        const auto same = std::find_if(connector.services.begin(), connector.services.end(),
                                       [&](const service& x) { return x.id() == s.id(); });
        if (same != connector.services.end()) {
          *same = std::move(s);
        } else {
          connector.services.push_back(std::move(s));
        }
      }
      flags.insert(flags.end(), sf.flags.begin(), sf.flags.end());
    }
  }
  apply_flags(connector, flags, out.warnings);
  const std::size_t before_validation = out.errors.size();
  validate(connector, out.errors, out.warnings, origins, env.tls);
  if (short_form_failed) {
    // "no kites to serve" only repeats the short-form problem already reported.
    out.errors.erase(std::remove_if(out.errors.begin() + static_cast<std::ptrdiff_t>(
                                                             before_validation),
                                    out.errors.end(),
                                    [](const diagnostic& d) {
                                      return d.origin.empty() && d.key == "service_on";
                                    }),
                     out.errors.end());
  }
  out.connector = std::move(connector);
  out.what = check ? action::check_config : action::run_connector;
  return out;
}

}  // namespace kiteline::config
