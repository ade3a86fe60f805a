#include "tls/policy.hpp"

#include <openssl/opensslv.h>
#include <openssl/ssl.h>

#include <memory>

#include "tls/openssl_error.hpp"

namespace kiteline::tls {
namespace {

int openssl_version(tls::tls_version v) {
  switch (v) {
    case tls::tls_version::ssl3:
      return SSL3_VERSION;
    case tls::tls_version::tls1:
      return TLS1_VERSION;
    case tls::tls_version::tls1_1:
      return TLS1_1_VERSION;
    case tls::tls_version::tls1_2:
      return TLS1_2_VERSION;
    case tls::tls_version::tls1_3:
      return TLS1_3_VERSION;
  }
  return TLS1_2_VERSION;
}

std::string version_name(int v) {
  switch (v) {
    case TLS1_VERSION:
      return "TLSv1";
    case TLS1_1_VERSION:
      return "TLSv1.1";
    case TLS1_2_VERSION:
      return "TLSv1.2";
    case TLS1_3_VERSION:
      return "TLSv1.3";
    case 0:
      return "(library limit)";
    default:
      return "0x" + std::to_string(v);
  }
}

std::string join(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (const auto& i : items) {
    out += (out.empty() ? "" : std::string(sep)) + i;
  }
  return out;
}

}  // namespace

tls::tls_support linked_support() {
  tls::tls_support s;
  s.library = OpenSSL_version(OPENSSL_VERSION);
  s.can[static_cast<std::size_t>(tls::tls_version::ssl3)] = false;
#ifdef OPENSSL_NO_TLS1
  s.can[static_cast<std::size_t>(tls::tls_version::tls1)] = false;
#endif
#ifdef OPENSSL_NO_TLS1_1
  s.can[static_cast<std::size_t>(tls::tls_version::tls1_1)] = false;
#endif
#ifdef OPENSSL_NO_TLS1_2
  s.can[static_cast<std::size_t>(tls::tls_version::tls1_2)] = false;
#endif
#ifdef OPENSSL_NO_TLS1_3
  s.can[static_cast<std::size_t>(tls::tls_version::tls1_3)] = false;
#endif
  return s;
}

outcome<protocol_policy> make_policy(std::string_view protocols, bool legacy, std::string ciphers,
                                     std::vector<std::string>& warnings) {
  const auto range = tls::resolve_tls_protocols(protocols, legacy, linked_support());
  warnings.insert(warnings.end(), range.warnings.begin(), range.warnings.end());
  if (!range.ok()) {
    return failure(errc::bad_protocols, join(range.errors, "; "));
  }
  return protocol_policy{range.min, range.max, std::move(ciphers)};
}

outcome<void> apply_policy(SSL_CTX* ctx, const protocol_policy& policy) {
  const bool legacy = policy.min < tls::tls_version::tls1_2;
  if (legacy) {
    // Before the cipher list, so that an explicit @SECLEVEL in --tls_ciphers still wins.
    ::SSL_CTX_set_security_level(ctx, 0);
  }
  if (::SSL_CTX_set_min_proto_version(ctx, openssl_version(policy.min)) != 1 ||
      ::SSL_CTX_set_max_proto_version(ctx, openssl_version(policy.max)) != 1) {
    return failure(errc::protocol_range, "cannot set the TLS protocol range " +
                                             std::string(display_name(policy.min)) + ".." +
                                             std::string(display_name(policy.max)) + ": " +
                                             drain_openssl_errors());
  }
  std::string ciphers = policy.ciphers;
  if (ciphers.empty()) {
    ciphers = std::string(modern_tls12_ciphers);
    if (legacy) {
      ciphers += ":" + std::string(legacy_tls10_ciphers);
    }
  }
  if (::SSL_CTX_set_cipher_list(ctx, ciphers.c_str()) != 1) {
    return failure(errc::bad_cipher_list,
                   "bad cipher list '" + ciphers + "': " + drain_openssl_errors());
  }
  if (::SSL_CTX_set_ciphersuites(ctx, std::string(tls13_suites).c_str()) != 1) {
    return failure(errc::tls13_suites, "cannot set the TLS 1.3 suites: " + drain_openssl_errors());
  }
  return {};
}

policy_report describe(SSL_CTX* ctx) {
  policy_report r;
  r.min_version = version_name(static_cast<int>(::SSL_CTX_get_min_proto_version(ctx)));
  r.max_version = version_name(static_cast<int>(::SSL_CTX_get_max_proto_version(ctx)));
  r.security_level = ::SSL_CTX_get_security_level(ctx);
  std::unique_ptr<SSL, decltype(&::SSL_free)> ssl(::SSL_new(ctx), &::SSL_free);
  if (!ssl) {
    drain_openssl_errors();
    return r;
  }
  STACK_OF(SSL_CIPHER)* list = ::SSL_get1_supported_ciphers(ssl.get());
  for (int i = 0; list != nullptr && i < sk_SSL_CIPHER_num(list); ++i) {
    const SSL_CIPHER* c = sk_SSL_CIPHER_value(list, i);
    std::string name = ::SSL_CIPHER_get_name(c);
    if (std::string_view(::SSL_CIPHER_get_version(c)) == "TLSv1.3") {
      r.tls13_suites.push_back(std::move(name));
    } else {
      r.tls12_ciphers.push_back(std::move(name));
    }
  }
  sk_SSL_CIPHER_free(list);
  return r;
}

std::string format_report(std::string_view role, const policy_report& r) {
  const std::string p = std::string(role) + " TLS ";
  std::string out;
  out += p + "minimum version: " + r.min_version + "\n";
  out += p + "maximum version: " + r.max_version + "\n";
  out += p + "security level: " + std::to_string(r.security_level) + "\n";
  out += p + "1.3 suites: " + (r.tls13_suites.empty() ? "(none)" : join(r.tls13_suites, ":")) +
         "\n";
  out += p + "<=1.2 ciphers: " +
         (r.tls12_ciphers.empty() ? "(none)" : join(r.tls12_ciphers, ":")) + "\n";
  return out;
}

}  // namespace kiteline::tls
