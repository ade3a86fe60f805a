// fleet::peer_mark: the PROXY v2 header one relay sends another when it forwards a visitor
// (issue 24), signed with HMAC-SHA256 under --fleet_secret over the header's bytes with the MAC
// zeroed, and its check on the peer port (valid MAC, compared in constant time; the time within
// ±30 s; hop count 1, so a forwarded visitor is never forwarded again).
#pragma once

#include "wire/proxy_v2.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace kiteline::fleet {

/// How far a peer's clock may be from ours.
inline constexpr std::int64_t peer_clock_skew_seconds = 30;

/// The signed header for a visitor: `h`'s addresses, kiteline's TLV (hop 1, `unix_time`)
/// appended to its TLVs, the MAC under `key`.
[[nodiscard]] std::vector<std::byte> sign_peer_header(wire::proxy_header h, std::uint64_t unix_time,
                                                      std::string_view key);

enum class peer_verdict : std::uint8_t { ok, no_mark, bad_mac, stale_time, bad_hops };
[[nodiscard]] std::string_view describe(peer_verdict v) noexcept;

/// Checks a decoded header (`d`, status done) whose bytes are `in` (at least d.length).
[[nodiscard]] peer_verdict verify_peer_header(std::span<const std::byte> in,
                                              const wire::proxy_decoded& d, std::string_view key,
                                              std::uint64_t now);

}  // namespace kiteline::fleet
