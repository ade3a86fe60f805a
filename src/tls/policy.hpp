// tls policy: the protocol range and cipher lists every kiteline SSL_CTX gets, and a report of
// what OpenSSL makes of them (--check-config).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/outcome.hpp"
#include "net/asio.hpp"
#include "tls/errc.hpp"
#include "tls/protocols.hpp"

namespace kiteline::tls {

/// TLS <= 1.2 cipher list used unless --tls_ciphers: ECDHE key exchange (forward secrecy) with
/// AEAD ciphers only, ECDSA before RSA, AES-128-GCM first.
inline constexpr std::string_view modern_tls12_ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

/// Appended (unless --tls_ciphers) when TLS 1.0/1.1 are enabled: those versions have no AEAD
/// suites, so ECDHE with AES-CBC and SHA-1 MACs.
inline constexpr std::string_view legacy_tls10_ciphers =
    "ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA:ECDHE-RSA-AES256-SHA";

/// TLS 1.3 suites (OpenSSL 3's default set, stated explicitly so --check-config shows it).
inline constexpr std::string_view tls13_suites =
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";

/// TLS protocol policy shared by server and client contexts.
struct protocol_policy {
  tls::tls_version min = tls::tls_version::tls1_2;
  tls::tls_version max = tls::tls_version::tls1_3;
  std::string ciphers;  ///< TLS <= 1.2 cipher list ("" = modern_tls12_ciphers, + legacy ones)
  /// TLS 1.3 application data moved by kiteline's record layer after OpenSSL's handshake
  /// (docs/tls.md §5); false (--tls_openssl_records): OpenSSL moves every record.
  bool own_records = true;
};

/// What the linked OpenSSL can negotiate: SSLv3 never (OpenSSL 3 has none; OPENSSL_NO_*
/// of the headers kiteline was built with for the others). Any thread.
tls::tls_support linked_support();

/// Resolves --tls_protocols / --tls_legacy against linked_support() into a policy. On errors
/// fails with errc::bad_protocols, the errors joined as its text; warnings are appended to
/// `warnings`.
outcome<protocol_policy> make_policy(std::string_view protocols, bool legacy, std::string ciphers,
                                     std::vector<std::string>& warnings);

/// Applies the policy to a fresh context: min/max protocol version, security level 0 when
/// TLS 1.0/1.1 are on (OpenSSL 3 refuses their SHA-1 signatures otherwise), the TLS <= 1.2
/// cipher list and the TLS 1.3 suites. Calling thread, before the context is used. Fails with
/// errc::protocol_range, errc::bad_cipher_list or errc::tls13_suites and OpenSSL's reason.
outcome<void> apply_policy(SSL_CTX* ctx, const protocol_policy& policy);

/// What a configured context will negotiate, as OpenSSL resolves it.
struct policy_report {
  std::string min_version;                ///< "TLSv1.2"
  std::string max_version;                ///< "TLSv1.3"
  int security_level = 0;
  std::vector<std::string> tls13_suites;  ///< in preference order
  std::vector<std::string> tls12_ciphers; ///< TLS <= 1.2 ciphers, in preference order
};

/// Reads back min/max, security level and the enabled ciphers (SSL_get1_supported_ciphers on a
/// throw-away SSL: the list depends on the protocol range and the security level). Any thread.
policy_report describe(SSL_CTX* ctx);

/// Multi-line text of a report for --check-config, every line prefixed by `role` + " TLS".
std::string format_report(std::string_view role, const policy_report& r);

}  // namespace kiteline::tls
