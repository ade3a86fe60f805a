// Applying one option of the stream to relay_config / connector_config: parse_command_line's
// steps, inside config/ (apply_shared.cpp, apply_relay.cpp, apply_connector.cpp).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "config/connector_config.hpp"
#include "config/diagnostic.hpp"
#include "config/options.hpp"
#include "config/relay_config.hpp"
#include "config/service_spec.hpp"
#include "config/validate.hpp"

namespace kiteline::config {

/// Where the apply_* functions report: errors and warnings at the option's origin, and the
/// origin of each option applied (for validation's messages).
struct apply_context {
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

/// "--name".
inline std::string dashed(std::string_view name) { return "--" + std::string(name); }

/// The option's value, "" for a flag.
inline std::string value_of(const raw_option& o) { return o.value.value_or(std::string()); }

/// Options both roles share (logging, threads, buffers, runas, ...). Returns false when `o` is
/// not one of them.
bool apply_process(process_config& p, const raw_option& o, const apply_context& ctx);

/// --httpd, --httppass, --metrics_per_kite (apply_console.cpp). False when `o` is not one of them.
bool apply_console(console_config& c, const raw_option& o, const apply_context& ctx);

/// --accesslog / --accesslog_format (apply_accesslog.cpp; called by apply_process). False when
/// `o` is not one of them.
bool apply_accesslog(process_config& p, const raw_option& o, const apply_context& ctx);

/// --tls_legacy / --tls_ciphers / --tls_protocols / --tls_openssl_records, shared by both roles.
/// False when `o` is not one of them.
template <class Config>
bool apply_tls_policy(Config& cfg, const raw_option& o, const apply_context& ctx) {
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

/// --authdomain, --auththreads, --authfail_closed/_open, --authdns, --authdns_timeout,
/// --authdomain_recheck_seconds (apply_relay_auth.cpp). False when `o` is not one of them.
bool apply_auth_option(relay_auth_config& auth, const raw_option& o, const std::string& n,
                       const std::string& v, const apply_context& ctx);
/// --client_acl, --tunnel_acl, --accept_acl_file, --ratelimit_ips, --overload*
/// (apply_relay_access.cpp). False when `o` is not one of them.
bool apply_relay_access(relay_config& cfg, const raw_option& o, const apply_context& ctx);

/// --fleet_dns, --fleet_zone, --fleet_tsig, --fleet_address, --fleet_port, --fleet_secret,
/// --fleet_ttl, --fleet_cache_seconds, --fleet_peer_timeout, --fleet_ping_seconds
/// (apply_relay_fleet.cpp). False when `o` is not one of them.
bool apply_relay_fleet(relay_fleet_config& fleet, const raw_option& o, const apply_context& ctx);

/// A relay option (the role's options, then the shared ones).
void apply_relay(relay_config& cfg, const raw_option& o, const apply_context& ctx);

/// A connector option; --service_cfg settings are collected in `cfgs` for apply_flags.
void apply_connector(connector_config& cfg, std::vector<flag_setting>& cfgs, const raw_option& o,
                     const apply_context& ctx);

/// Applies --service_cfg (and short-form) flag settings to the kites they name; a setting that
/// matches no kite is a warning.
void apply_flags(connector_config& cfg, const std::vector<flag_setting>& settings,
                 std::vector<diagnostic>& warnings);

}  // namespace kiteline::config
