// config tls_protocols: the Apache-like --tls_protocols list -> effective min..max TLS versions.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace kiteline::tls {

/// Protocol versions, oldest first (the order matters: ranges are min..max).
enum class tls_version { ssl3 = 0, tls1 = 1, tls1_1 = 2, tls1_2 = 3, tls1_3 = 4 };

inline constexpr std::size_t tls_version_count = 5;

/// "SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3" (OpenSSL's and Apache's spelling).
std::string_view display_name(tls_version v) noexcept;

/// Which versions the linked TLS library can negotiate at all. The default is Debian 12's
/// OpenSSL 3 (no SSLv3); tls::linked_support() fills it from the library kiteline links.
struct tls_support {
  std::array<bool, tls_version_count> can{false, true, true, true, true};
  std::string library = "OpenSSL 3";  ///< for messages

  [[nodiscard]] bool supports(tls_version v) const noexcept {
    return can[static_cast<std::size_t>(v)];
  }
};

/// The outcome of resolve_tls_protocols: what OpenSSL is told (one contiguous range), plus
/// every warning and error, each a complete sentence naming the entry at fault.
struct tls_protocol_range {
  tls_version min = tls_version::tls1_2;
  tls_version max = tls_version::tls1_3;
  std::vector<std::string> warnings;
  std::vector<std::string> errors;  ///< non-empty: min/max are meaningless, refuse to start

  [[nodiscard]] bool ok() const noexcept { return errors.empty(); }
  /// TLS 1.0/1.1 handshakes use SHA-1 (or MD5+SHA-1) signatures, which OpenSSL 3 only allows
  /// at security level 0.
  [[nodiscard]] bool needs_security_level_0() const noexcept { return min < tls_version::tls1_2; }
};

/// Resolves the protocol policy (pure; docs/tls.md has the grammar):
///  - `list` empty: TLSv1.2..TLSv1.3, or TLSv1..TLSv1.3 with `legacy` (--tls_legacy).
///  - Entries separated by blanks or commas, case-insensitive: `all` (TLSv1..TLSv1.3, never
///    SSLv3), `SSLv3`, `TLSv1` (also `TLSv1.0`), `TLSv1.1`, `TLSv1.2`, `TLSv1.3`, each with an
///    optional `+` (enable) or `-` (disable) prefix, applied left to right.
///  - The set starts EMPTY when the first entry has no prefix, and from the default
///    (TLSv1.2, TLSv1.3) when it has one (so `-tlsv1.2` alone means TLS 1.3 only).
///  - An entry without prefix ADDS its protocols (it never replaces earlier entries); after
///    the first entry that is warned about, because Apache's SSLProtocol would let it replace.
/// Warnings: a later bare entry (Apache's pitfall), contradictory entries (`+x` and `-x`,
/// or `all` re-enabling an `-x`), a protocol the linked library cannot do (left out), a gap
/// (OpenSSL takes one min..max range: protocols below the gap are left out, never is the gap
/// filled), --tls_legacy given together with a list (the list decides).
/// Errors: SSLv3 enabled (OpenSSL 3 cannot), unknown entries, a list that enables nothing.
tls_protocol_range resolve_tls_protocols(std::string_view list, bool legacy,
                                         const tls_support& support = {});

}  // namespace kiteline::tls
