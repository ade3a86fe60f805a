// A certificate chain with its private key (real or a key-process proxy), loading from PEM, the
// reload failsafe checks (match, validity, CA) and installing a pair into any SSL_CTX.
#pragma once

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/outcome.hpp"
#include "tls/errc.hpp"

namespace kiteline::tls {

struct pkey_deleter {
  void operator()(EVP_PKEY* k) const noexcept { ::EVP_PKEY_free(k); }
};
struct x509_deleter {
  void operator()(X509* x) const noexcept { ::X509_free(x); }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_deleter>;
using x509_ptr = std::unique_ptr<X509, x509_deleter>;

/// A leaf certificate, its chain and the matching private key. `key` is either the real key
/// (in-process) or a proxy whose private operations run in the key process (key_client); both
/// install into an SSL_CTX the same way. Immutable after loading; any thread may read it.
struct certified_key {
  std::shared_ptr<EVP_PKEY> key;            ///< private key or key-process proxy
  std::vector<std::shared_ptr<X509>> chain;  ///< leaf first, then intermediates

  [[nodiscard]] X509* leaf() const noexcept { return chain.empty() ? nullptr : chain[0].get(); }
};

/// Shares ownership of an X509 / EVP_PKEY (up-refs it).
std::shared_ptr<X509> share(X509* x);
std::shared_ptr<EVP_PKEY> share(EVP_PKEY* k);

/// The parsed contents of a pagekite.py PEM file (private key + certificate chain): the real
/// key, so only the key process (or an in-process key store) calls this. Fails with a message
/// when the key or certificate is missing or the certificate does not match the key
/// ("certificate does not match private key"). Any thread.
struct pem_pair {
  pkey_ptr key;
  std::vector<x509_ptr> chain;
};
/// Errors: errc::cannot_read_file, no_private_key, no_certificate, key_mismatch.
outcome<pem_pair> load_pem_pair(const std::string& pem_file);

/// load_pem_pair() as a certified_key held in this process (what keys::make_inprocess_key_store
/// hands out); load_pem_pair's failures when the file does not load.
outcome<certified_key> load_certified_key(const std::string& pem_file);

/// Only the certificates of a PEM file, DER-encoded, leaf first (what the key process sends
/// to the network process). Any thread.
std::vector<std::vector<std::uint8_t>> chain_der(const std::vector<x509_ptr>& chain);

/// The certificate's serial as "0x" + upper-case hex ("0x01A2..."); "?" without a cert.
std::string serial_hex(const X509* x);
/// notAfter as "YYYY-MM-DD HH:MM:SS UTC".
std::string not_after_text(const X509* x);

/// sslmate's failsafe, on the public parts: the leaf is currently valid (notBefore <= now <=
/// notAfter) and, when `ca_file` is not empty, verifies against it with the rest of the chain
/// as intermediates. Returns "" when acceptable, else the reason ("certificate has expired
/// (notAfter ...)", "certificate is not yet valid (notBefore ...)", "certificate does not
/// verify against CA FILE: ..."). The key match is checked where the key is (load).
std::string check_certificate(const certified_key& pair, const std::string& ca_file);

/// Installs the chain and the key into `ctx` (any SSL_CTX: server or client) and checks that
/// they match (public parts only: no private-key operation). Returns "" or the reason.
std::string install_certified_key(SSL_CTX* ctx, const certified_key& pair);

}  // namespace kiteline::tls
