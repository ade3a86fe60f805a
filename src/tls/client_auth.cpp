#include "tls/client_auth.hpp"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>

#include "core/text.hpp"
#include "tls/openssl_error.hpp"

namespace kiteline::tls {

outcome<void> request_client_certificates(SSL_CTX* ctx, const std::string& ca_file) {
  if (::SSL_CTX_load_verify_locations(ctx, ca_file.c_str(), nullptr) != 1) {
    return failure(errc::ca_file, "cannot load client CA certificates from " + ca_file + ": " +
                                      drain_openssl_errors());
  }
  STACK_OF(X509_NAME)* names = ::SSL_load_client_CA_file(ca_file.c_str());
  if (names == nullptr) {
    return failure(errc::ca_file,
                   "no CA certificate in " + ca_file + ": " + drain_openssl_errors());
  }
  ::SSL_CTX_set_client_CA_list(ctx, names);  // takes ownership
  // Session resumption with client verification needs a session id context.
  static constexpr unsigned char sid_ctx[] = "kiteline-relay";
  ::SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof sid_ctx - 1);
  ::SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  return {};
}

std::vector<std::string> verified_peer_names(SSL* ssl) {
  std::vector<std::string> out;
  X509* cert = ::SSL_get0_peer_certificate(ssl);
  if (cert == nullptr || ::SSL_get_verify_result(ssl) != X509_V_OK) {
    return out;
  }
  auto* sans = static_cast<GENERAL_NAMES*>(
      ::X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; sans != nullptr && i < sk_GENERAL_NAME_num(sans); ++i) {
    const GENERAL_NAME* g = sk_GENERAL_NAME_value(sans, i);
    if (g->type == GEN_DNS) {
      const auto* s = g->d.dNSName;
      out.push_back(to_lower(std::string_view(
          reinterpret_cast<const char*>(::ASN1_STRING_get0_data(s)),
          static_cast<std::size_t>(::ASN1_STRING_length(s)))));
    }
  }
  ::GENERAL_NAMES_free(sans);
  if (out.empty()) {
    char cn[256] = {};
    const int n = ::X509_NAME_get_text_by_NID(::X509_get_subject_name(cert), NID_commonName, cn,
                                              sizeof cn);
    if (n > 0) {
      out.push_back(to_lower(std::string_view(cn, static_cast<std::size_t>(n))));
    }
  }
  return out;
}

bool names_cover(const std::vector<std::string>& names, std::string_view domain) {
  const std::string d = to_lower(domain);
  return std::any_of(names.begin(), names.end(), [&](const std::string& n) {
    if (n == d) {
      return true;
    }
    if (!n.starts_with("*.")) {
      return false;
    }
    const auto dot = d.find('.');
    return dot != std::string::npos && dot > 0 && std::string_view(d).substr(dot) ==
                                                      std::string_view(n).substr(1);
  });
}

outcome<void> use_client_certificate(SSL_CTX* ctx, const std::string& pem_file) {
  if (::SSL_CTX_use_certificate_chain_file(ctx, pem_file.c_str()) != 1) {
    return failure(errc::client_certificate, "cannot load the client certificate chain from " +
                                                 pem_file + ": " + drain_openssl_errors());
  }
  if (::SSL_CTX_use_PrivateKey_file(ctx, pem_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    return failure(errc::client_certificate, "cannot load the client private key from " +
                                                 pem_file + ": " + drain_openssl_errors());
  }
  if (::SSL_CTX_check_private_key(ctx) != 1) {
    return failure(errc::client_certificate,
                   "the private key does not match the client certificate in " + pem_file +
                       ": " + drain_openssl_errors());
  }
  return {};
}

}  // namespace kiteline::tls
