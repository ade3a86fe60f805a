// Error codes of key isolation: the key process, its channels, the proxy keys, the reloader.
// Each failure also carries its text (kiteline::failure), as the logs show it.
#pragma once

#include <system_error>

namespace kiteline::keys {

/// Why a key could not be had. Values are stable.
enum class errc {
  ok = 0,
  cannot_start = 1,         ///< the key process cannot be started (exec file, channels, fork)
  key_process_down = 2,     ///< a channel failed or the key process does not answer in time
  no_channel = 3,           ///< no channel came free within the reply timeout
  request_too_large = 4,    ///< a request does not fit one datagram
  refused = 5,              ///< the key process answered with an error (its text is the detail)
  not_allowed = 6,          ///< the file is not one of the key process's files
  bad_reply = 7,            ///< the key process's reply does not parse
  unsupported_key = 8,      ///< a public key the proxy cannot stand for (type, EC group)
  certificate_refused = 9,  ///< a reloaded certificate is expired, not yet valid or unverified
};

/// The "kiteline.keys" category.
const std::error_category& keys_category() noexcept;

inline std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), keys_category()};
}

}  // namespace kiteline::keys

template <>
struct std::is_error_code_enum<kiteline::keys::errc> : std::true_type {};
