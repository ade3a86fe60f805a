// The relay's options: listeners, protocols, domains and their secrets, TLS endpoints,
// timeouts and the probation limits.
#include <algorithm>

#include "config/apply_option.hpp"
#include "config/error_url.hpp"
#include "config/values.hpp"
#include "core/text.hpp"

namespace kiteline::config {
namespace {

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

}  // namespace

void apply_relay(relay_config& cfg, const raw_option& o, const apply_context& ctx) {
  if (apply_process(cfg.process, o, ctx)) {
    return;
  }
  ctx.origins[o.name] = o.origin;
  if (apply_relay_access(cfg, o, ctx) || apply_relay_fleet(cfg.fleet, o, ctx)) {
    return;
  }
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
  } else if (apply_auth_option(cfg.auth, o, n, v, ctx)) {
    // --authdomain and friends (apply_relay_auth.cpp)
  } else if (n == "errorurl") {
    if (!apply_error_url(v, cfg.error_url, cfg.error_urls)) {
      ctx.error(o, "needs a URL");
    }
  } else {
    ctx.error(o, dashed(n) + " is not handled by kiteline's relay (internal: unmapped option)");
  }
}

}  // namespace kiteline::config
