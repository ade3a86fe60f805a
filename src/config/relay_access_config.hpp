// config::relay_access_config: the relay's access rules, rate limits and overload settings
// (--client_acl, --tunnel_acl, --accept_acl_file, --ratelimit_ips, --overload*), as configured;
// relay/access_control compiles and applies them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace kiteline::config {

/// One --client_acl / --tunnel_acl rule: POLICY:REGEX.
struct acl_rule_config {
  bool allow = false;
  std::string pattern;  ///< a regex (checked at parse time), `localhost` or `any`
  std::string origin;
  friend bool operator==(const acl_rule_config&, const acl_rule_config&) = default;
};

/// One --ratelimit_ips=[KITE:]N/SECS.
struct ratelimit_config {
  std::string kite = "*";  ///< lower-cased domain, or "*" (every kite without its own rule)
  std::uint32_t n = 0;
  std::uint32_t seconds = 1;
  friend bool operator==(const ratelimit_config&, const ratelimit_config&) = default;
};

struct relay_access_config {
  std::vector<acl_rule_config> client_acl;      ///< --client_acl, in order
  std::vector<acl_rule_config> tunnel_acl;      ///< --tunnel_acl, in order
  std::string accept_acl_file;                  ///< --accept_acl_file ("" = none)
  std::vector<ratelimit_config> ratelimit_ips;  ///< --ratelimit_ips, in order
  std::uint64_t overload = 0;                   ///< --overload: base budget (0 = none)
  std::string overload_file;                    ///< --overload_file ("" = none)
  double overload_cpu = 0.75;                   ///< --overload_cpu
  double overload_mem = 0.85;                   ///< --overload_mem (0..1.5)
  friend bool operator==(const relay_access_config&, const relay_access_config&) = default;
};

}  // namespace kiteline::config
