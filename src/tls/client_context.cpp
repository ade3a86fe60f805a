#include "tls/client_context.hpp"

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "core/text.hpp"
#include "tls/openssl_error.hpp"
#include "tls/record_protection.hpp"

namespace kiteline::tls {

outcome<std::shared_ptr<asio::ssl::context>> make_client_context(const client_settings& s) {
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  SSL_CTX* c = ctx->native_handle();
  ::SSL_CTX_set_options(c, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  if (s.policy.own_records) {
    enable_traffic_secrets(c);  // tls::tls_stream moves TLS 1.3 records itself
  }
  if (outcome<void> applied = apply_policy(c, s.policy); !applied) {
    return applied.error();
  }
  if (s.no_verify) {
    ::SSL_CTX_set_verify(c, SSL_VERIFY_NONE, nullptr);
    return ctx;
  }
  bool pinned_only = !s.names.empty();
  for (const auto& n : s.names) {
    pinned_only = pinned_only && n.sha1_pin.has_value();
  }
  if (pinned_only) {
    // Every name is pinned: the pin is the trust anchor (self-signed relays work), checked in
    // check_peer after the handshake.
    ::SSL_CTX_set_verify(c, SSL_VERIFY_NONE, nullptr);
    return ctx;
  }
  if (!s.ca_file.empty()) {
    if (::SSL_CTX_load_verify_locations(c, s.ca_file.c_str(), nullptr) != 1) {
      return failure(errc::ca_file, "cannot load CA certificates from " + s.ca_file + ": " +
                                        drain_openssl_errors());
    }
  } else if (::SSL_CTX_set_default_verify_paths(c) != 1) {
    return failure(errc::ca_file, "cannot load the system CA store: " + drain_openssl_errors());
  }
  // Verification result is checked after the handshake so the reason can be reported.
  ::SSL_CTX_set_verify(c, SSL_VERIFY_NONE, nullptr);
  return ctx;
}

std::string peer_sha1(SSL* ssl) {
  X509* cert = ::SSL_get1_peer_certificate(ssl);
  if (cert == nullptr) {
    return {};
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  ::X509_digest(cert, ::EVP_sha1(), md, &len);
  ::X509_free(cert);
  return to_hex(std::span<const std::uint8_t>(md, len));
}

std::string check_peer(SSL* ssl, const client_settings& s) {
  if (s.no_verify) {
    return {};
  }
  X509* cert = ::SSL_get1_peer_certificate(ssl);
  if (cert == nullptr) {
    return "relay sent no certificate";
  }
  std::string reason;
  const std::string digest = peer_sha1(ssl);
  bool any_unpinned = false;
  bool pin_ok = false;
  for (const auto& n : s.names) {
    if (n.sha1_pin) {
      pin_ok = pin_ok || *n.sha1_pin == digest;
    } else {
      any_unpinned = true;
    }
  }
  if (pin_ok) {
    ::X509_free(cert);
    return {};
  }
  if (!any_unpinned && !s.names.empty()) {
    ::X509_free(cert);
    return "certificate pin mismatch: relay certificate SHA-1 is " + digest;
  }
  long v = ::SSL_get_verify_result(ssl);
  if (v != X509_V_OK) {
    reason = std::string("certificate verify failed: ") + ::X509_verify_cert_error_string(v);
  } else if (!s.names.empty()) {
    bool name_ok = false;
    for (const auto& n : s.names) {
      if (!n.sha1_pin &&
          ::X509_check_host(cert, n.name.c_str(), n.name.size(), 0, nullptr) == 1) {
        name_ok = true;
        break;
      }
    }
    if (!name_ok) {
      reason = "certificate name mismatch: no configured --fe_certname matches the relay "
               "certificate";
    }
  }
  ::X509_free(cert);
  return reason;
}

}  // namespace kiteline::tls
