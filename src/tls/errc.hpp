// Error codes of the TLS layer's set-up: contexts, policy, key pairs, client certificates.
// Each failure also carries its text (kiteline::failure): the file and OpenSSL's reason.
#pragma once

#include <system_error>

namespace kiteline::tls {

/// Why a TLS context or key pair could not be set up. Values are stable.
enum class errc {
  ok = 0,
  bad_protocols = 1,          ///< --tls_protocols / --tls_legacy do not resolve to a range
  protocol_range = 2,         ///< OpenSSL refused the protocol range
  bad_cipher_list = 3,        ///< OpenSSL refused the TLS <= 1.2 cipher list
  tls13_suites = 4,           ///< OpenSSL refused the TLS 1.3 suites
  cannot_read_file = 5,       ///< a PEM file cannot be opened or read
  no_private_key = 6,         ///< a PEM file holds no private key
  no_certificate = 7,         ///< a PEM file holds no certificate
  key_mismatch = 8,           ///< the certificate does not match the private key
  cannot_install_pair = 9,    ///< a certificate/key pair does not go into a context
  ca_file = 10,               ///< a CA file (or the system store) does not load
  client_certificate = 11,    ///< the connector's client certificate or key does not load
};

/// The "kiteline.tls" category.
const std::error_category& tls_category() noexcept;

inline std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), tls_category()};
}

}  // namespace kiteline::tls

template <>
struct std::is_error_code_enum<kiteline::tls::errc> : std::true_type {};
