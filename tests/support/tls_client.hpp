// A blocking OpenSSL test client with a chosen protocol range: real handshakes against an
// in-process relay (protocol policy and mutual-TLS tests).
#pragma once

#include <cstdint>
#include <string>

#include "support/test_env.hpp"

namespace kiteline::test {

/// What one handshake did.
struct tls_handshake_result {
  bool ok = false;
  int version = 0;    ///< SSL_version() after success (TLS1_1_VERSION, ...)
  std::string serial;  ///< "0x" + upper-case hex serial of the certificate served
  std::string sigalg;  ///< the server's signature type: "RSA-PSS", "RSA" (PKCS#1 v1.5), "ECDSA"
  std::string error;  ///< OpenSSL's reason on failure
};

/// How to shake hands.
struct tls_client_options {
  int min_version = 0;      ///< 0 = library minimum
  int max_version = 0;      ///< 0 = library maximum
  std::string sni;          ///< "" = no SNI
  std::string ciphers;      ///< "" = OpenSSL default; "DEFAULT@SECLEVEL=0" for TLS 1.0/1.1
  std::string client_pem;   ///< key + certificate to present ("" = none)
  std::string sigalgs;      ///< signature algorithms offered ("" = OpenSSL default)
};

/// Connects to 127.0.0.1:`port` and performs a TLS handshake (no verification of the server),
/// bounded by test_timeout() through socket timeouts. Test thread.
tls_handshake_result tls_handshake(std::uint16_t port, const tls_client_options& opts);

}  // namespace kiteline::test
