// Kite authentication (spec §4.3, §4.7): BE signatures, FE challenge tokens, session ids.
// Pure: secrets, the Unix time and random salts are arguments.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "wire/errc.hpp"
#include "wire/handshake.hpp"

namespace kiteline::wire {

/// Signature / token length (SALT8 + 28 hex).
inline constexpr std::size_t signature_length = 36;
/// Dynamic-DNS signature length (SALT8 + 40 hex).
inline constexpr std::size_t dyndns_signature_length = 48;
/// Challenge window in seconds; a token is accepted in its own and the next window.
inline constexpr std::uint64_t token_window_seconds = 600;

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

/// "%x" of floor(unix_time / 600): the challenge window label.
[[nodiscard]] std::string token_window(std::uint64_t unix_time);

/// FE challenge token (36 chars, starts with 't'):
/// T8 || SHA1HEX(fe_secret || proto:domain:bsalt || window || T8)[:28] with T8 = "t" + rand7hex.
/// `rand7hex`: 7 random hex chars (KL_ASSERT in debug builds; it is trusted input).
[[nodiscard]] std::string make_token(std::string_view fe_secret, std::string_view proto,
                                     std::string_view domain, std::string_view bsalt,
                                     std::uint64_t unix_time, std::string_view rand7hex);

/// Checks kite.fsalt as a token of this FE for the current or the previous 600-s window
/// (so a token lives 10-20 minutes). errc::bad_token when it is malformed, from another
/// secret or another kite, or expired.
[[nodiscard]] result<void> check_token(std::string_view fe_secret, const kite_request& kite,
                                       std::uint64_t unix_time);

/// "%x:<sha1hex>" (§4.7), e.g. "6b02be47:7c24...". `sha1hex` is normally
/// sha1_hex(per-process secret + kite list), computed by the caller.
[[nodiscard]] std::string make_session_id(std::uint64_t unix_time, std::string_view sha1hex);

/// Compares two strings in time that depends only on their lengths.
[[nodiscard]] bool constant_time_equal(std::string_view a, std::string_view b) noexcept;

}  // namespace kiteline::wire
