// Kite authentication (spec §4.3, §4.7): BE signatures, FE challenge tokens, session ids.
// Pure: secrets, the Unix time and random salts are arguments.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "wire/handshake.hpp"

namespace kiteline::wire {

/// Signature / token length (SALT8 + 28 hex).
inline constexpr std::size_t signature_length = 36;
/// Dynamic-DNS signature length (SALT8 + 40 hex).
inline constexpr std::size_t dyndns_signature_length = 48;
/// How long a challenge token stays valid, in seconds: enough for libpagekite's Flow A
/// reconnect and pagekite.py's Flow A/B rounds (they sign the token as soon as they read it),
/// short enough that a captured kite line cannot be replayed later (hardening issue, item 3).
inline constexpr std::uint64_t token_lifetime_seconds = 180;

/// SALT8 || SHA1HEX(secret || payload || SALT8)[:28] (36 chars). Uses the first 8 chars of
/// `salt8` (fewer if it is shorter). For a BE signature `salt8` must not start with 't' (the FE
/// would take it for a time-stamped token); callers pass 8 random hex chars.
[[nodiscard]] std::string sign(std::string_view secret, std::string_view payload,
                               std::string_view salt8);

/// The dynamic-DNS variant (§9.6): SALT8 || SHA1HEX(secret || payload || SALT8) (48 chars).
[[nodiscard]] std::string sign_dyndns(std::string_view secret, std::string_view payload,
                                      std::string_view salt8);

/// The signed payload P = proto ":" domain ":" bsalt ":" fsalt (proto and domain lower-cased).
[[nodiscard]] std::string kite_payload(std::string_view proto, std::string_view domain,
                                       std::string_view bsalt, std::string_view fsalt);

/// A BE kite signature: sign(secret, kite_payload(...), salt8). proto/domain are lower-cased
/// first, as the FE does before verifying. `salt8`: 8 random hex chars, not starting with 't'.
[[nodiscard]] std::string make_kite_signature(std::string_view secret, std::string_view proto,
                                              std::string_view domain, std::string_view bsalt,
                                              std::string_view fsalt, std::string_view salt8);

/// FE check of a kite line's signature: recomputes with the first 8 chars of the received
/// signature and compares in constant time. False for a signature that is not 36 chars or that
/// starts with 't'.
[[nodiscard]] bool verify_kite_signature(std::string_view secret, const kite_request& kite);

/// Checks a 48-char dynamic-DNS signature over `payload`.
[[nodiscard]] bool verify_dyndns_signature(std::string_view secret, std::string_view payload,
                                           std::string_view signature);

/// FE challenge token (36 chars, starts with 't', no ':'), kiteline's own format (spec §4.3
/// lets an FE choose it; the BE treats it as opaque):
///   HEAD  = "t" || TIME || NONCE      TIME: 8 lower-case hex digits of issued_at mod 2^32,
///                                     NONCE: `rand7hex` (7 random hex chars)
///   TOKEN = HEAD || HMAC-SHA1-HEX(fe_secret, proto:domain:bsalt || ":" || HEAD)[:20]
/// proto and domain are lower-cased as the FE does. The issue time travels in the token, so the
/// FE needs no per-challenge state; the HMAC under a per-process secret makes the token valid
/// only on the FE process that issued it and only for that kite and BSALT. `issued_at` is any
/// seconds clock the caller also passes to check_token (the relay uses a monotonic one).
/// `rand7hex`: 7 random hex chars (KL_ASSERT in debug builds; it is trusted input).
[[nodiscard]] std::string make_token(std::string_view fe_secret, std::string_view proto,
                                     std::string_view domain, std::string_view bsalt,
                                     std::uint64_t issued_at, std::string_view rand7hex);

/// What check_token found.
enum class token_verdict : std::uint8_t {
  valid,    ///< issued by this FE for this kite less than token_lifetime_seconds ago
  foreign,  ///< not a token of this FE for this kite: malformed, another FE process (or
            ///< pagekite.py's format), another kite or BSALT, or forged
  expired,  ///< a token of this FE for this kite, but token_lifetime_seconds or more old
};

/// "valid", "not from this relay", "expired": for log lines.
[[nodiscard]] std::string_view describe(token_verdict v) noexcept;

/// Result of check_token. `expires_at` (same clock as `now`) is when the token stops being
/// valid; set only for `valid` (a used-token store keeps the token until then).
struct token_check {
  token_verdict verdict = token_verdict::foreign;
  std::uint64_t expires_at = 0;
};

/// Checks kite.fsalt as a token make_token(fe_secret, kite.proto, kite.domain, kite.bsalt, t, _)
/// with now - token_lifetime_seconds < t <= now (ages are computed mod 2^32, so a token "from
/// the future" counts as expired). Runs in time independent of where a wrong MAC differs.
/// Accepting a token ONCE is the caller's job (relay::token_book).
[[nodiscard]] token_check check_token(std::string_view fe_secret, const kite_request& kite,
                                      std::uint64_t now);

/// "%x:<sha1hex>" (§4.7), e.g. "6b02be47:7c24...". `sha1hex` is normally
/// sha1_hex(per-process secret + kite list), computed by the caller.
[[nodiscard]] std::string make_session_id(std::uint64_t unix_time, std::string_view sha1hex);

/// Compares two strings in time that depends only on their lengths.
[[nodiscard]] bool constant_time_equal(std::string_view a, std::string_view b) noexcept;

}  // namespace kiteline::wire
