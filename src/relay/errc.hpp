// Error codes of the relay (start-up, and the tunnels it refuses) (kiteline::failure carries the text: the option's origin, the file, the system's reason).
#pragma once

#include <system_error>

namespace kiteline::relay {

/// Why a relay could not start, or refused a tunnel. Values are stable.
enum class errc {
  ok = 0,
  tls_policy = 1,     ///< --tls_protocols / --tls_legacy / --tls_ciphers do not make a policy
  tls_endpoint = 2,   ///< a --tls_endpoint pair does not load
  bad_host = 3,       ///< --host is not an address
  cannot_listen = 4,  ///< a port cannot be bound
  probation_full = 5,              ///< --max_unauth_tunnels tunnels await a kite already
  probation_full_for_address = 6,  ///< as many from this address (--max_unauth_tunnels N/M)
  bad_access_rules = 7,  ///< an ACL rule or the --accept_acl_file cannot be used at start
  auth_app = 8,          ///< an --authdomain auth app cannot be run, or names no capability
};

/// The "kiteline.relay" category.
const std::error_category& relay_category() noexcept;

inline std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), relay_category()};
}

}  // namespace kiteline::relay

template <>
struct std::is_error_code_enum<kiteline::relay::errc> : std::true_type {};
