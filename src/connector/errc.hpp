// Error codes of the connector's start-up and its folder server (kiteline::failure carries the text: the file, the folder, the system's reason).
#pragma once

#include <system_error>

namespace kiteline::connector {

/// Why a connector, or one of its folder servers, could not start. Values are stable.
enum class errc {
  ok = 0,
  no_kites = 1,            ///< no kite is enabled
  no_relay = 2,            ///< neither --frontend nor --frontends
  tls_policy = 3,          ///< --tls_protocols / --tls_legacy / --tls_ciphers do not make a policy
  tls_context = 4,         ///< the TLS client context cannot be built (policy, CA file)
  client_certificate = 5,  ///< --tls_client_cert does not load or install
  bad_folder = 6,          ///< a folder to serve does not exist or is not a directory
  cannot_listen = 7,       ///< the folder server cannot listen on 127.0.0.1
};

/// The "kiteline.connector" category.
const std::error_category& connector_category() noexcept;

inline std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), connector_category()};
}

}  // namespace kiteline::connector

template <>
struct std::is_error_code_enum<kiteline::connector::errc> : std::true_type {};
