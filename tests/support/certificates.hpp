// Test keys and certificates: keys of a chosen type, certificates with chosen names, serial,
// validity and issuer, and PEM files of a self-signed pair. The one place tests make them.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "support/temp_dir.hpp"

using EVP_PKEY = struct evp_pkey_st;

namespace kiteline::test {

/// A private key ("rsa2048", "p256" or "p384"). Thread-compatible.
class test_key {
 public:
  explicit test_key(const std::string& type);
  ~test_key();
  test_key(const test_key&) = delete;
  test_key& operator=(const test_key&) = delete;
  [[nodiscard]] EVP_PKEY* get() const noexcept { return key_; }
  /// Byte strings that betray the private key in memory: the PKCS#8 DER, every base64 line of
  /// its PEM body, and the private numbers (RSA d/p/q, EC scalar) big- and little-endian.
  [[nodiscard]] std::vector<std::vector<std::uint8_t>> needles() const;

 private:
  EVP_PKEY* key_ = nullptr;
};

/// The PEM of a certificate for `key` with `serial`, valid from now + not_before to now +
/// not_after, CN names[0] and SAN DNS:every name: self-signed (CA:TRUE), or issued by `issuer`,
/// the key of the test CA (cert_pem(ca_key, N, ..., {"kiteline test CA"}) is that CA's
/// certificate).
[[nodiscard]] std::string cert_pem(const test_key& key, long serial,
                                   std::chrono::seconds not_before,
                                   std::chrono::seconds not_after,
                                   const std::vector<std::string>& names,
                                   const test_key* issuer = nullptr);
/// cert_pem for one name (default "fe.test").
[[nodiscard]] std::string cert_pem(const test_key& key, long serial,
                                   std::chrono::seconds not_before,
                                   std::chrono::seconds not_after,
                                   const std::string& name = "fe.test",
                                   const test_key* issuer = nullptr);
/// The PEM (PKCS#8) of `key`.
[[nodiscard]] std::string key_pem(const test_key& key);

/// A self-signed P-256 certificate + key for `names` (first = CN, all = SAN DNS entries),
/// serial 1, valid from an hour ago for a week, written as PEM files into a fresh temp
/// directory; removed by the destructor.
class test_cert {
 public:
  explicit test_cert(const std::vector<std::string>& names);
  test_cert(const test_cert&) = delete;
  test_cert& operator=(const test_cert&) = delete;
  /// key + certificate in one file (the relay's --tls_endpoint PEMFILE).
  [[nodiscard]] const std::string& pem_file() const noexcept { return pem_; }
  /// The certificate alone (a client's CA file).
  [[nodiscard]] const std::string& cert_file() const noexcept { return crt_; }

 private:
  temp_dir dir_{"cert"};
  std::string pem_;
  std::string crt_;
};

}  // namespace kiteline::test
