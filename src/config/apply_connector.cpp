// The connector's options: relays (--frontend, --frontends, presets), kites (--service_on,
// --service_cfg), origin and keepalive timing, relay certificate checks.
#include <algorithm>
#include <array>

#include "config/apply_option.hpp"
#include "config/error_url.hpp"
#include "config/values.hpp"
#include "core/text.hpp"

namespace kiteline::config {
namespace {

/// pagekite.py's SERVICE_CERTS (common.py): added by --defaults and --whitelabel(s).
constexpr std::array service_certs{"b5p.us",       "frontends.b5p.us", "pagekite.net",
                                   "pagekite.me",  "pagekite.com",     "pagekite.org",
                                   "testing.is",   "302.is"};

std::string replace_all(std::string text, std::string_view from, std::string_view to) {
  for (auto pos = text.find(from); pos != std::string::npos; pos = text.find(from, pos)) {
    text.replace(pos, from.size(), to);
    pos += to.size();
  }
  return text;
}

void apply_presets(connector_config& cfg, std::string_view domain, bool secure_url,
                   std::vector<std::string> first_names) {
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
}

}  // namespace

void apply_connector(connector_config& cfg, std::vector<flag_setting>& cfgs, const raw_option& o,
                     const apply_context& ctx) {
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
    apply_presets(cfg, "b5p.us", true, {"b5p.us"});
    cfg.error_url = "https://pagekite.net/offline/?";
    cfg.dyndns = dyndns_setting{*dyndns_provider_template("pagekite.net"), "", {}, o.origin};
  } else if (n == "whitelabel" || n == "whitelabels") {
    const std::string d = to_lower(v);
    if (!is_valid_name(d, false)) {
      ctx.error(o, "`" + v + "` is not a valid domain");
      return;
    }
    apply_presets(cfg, d, n == "whitelabels", {"fe." + d, d});
    cfg.dyndns =
        dyndns_setting{dyndns_whitelabel_template(d, n == "whitelabels"), "", {}, o.origin};
  } else if (n == "dyndns") {
    std::string why;
    cfg.dyndns = parse_dyndns(v, why);
    if (!why.empty()) {
      ctx.error(o, why);
    } else if (cfg.dyndns) {
      cfg.dyndns->origin = o.origin;
    }
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
    auto f = parse_service_cfg(v, o.origin);
    if (!f) {
      ctx.error(o, f.error().message());
    } else {
      cfgs.push_back(std::move(*f));
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
    if (!apply_error_url(v, cfg.error_url, cfg.error_urls)) {
      ctx.error(o, "needs a URL");
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

}  // namespace kiteline::config
