// fleet::peer_mark: the PROXY v2 header one relay sends another when it forwards a visitor
// (issue 24), signed with HMAC-SHA256 under --fleet_secret over the header's bytes with the MAC
// zeroed, and its check on the peer port (valid MAC, compared in constant time; the time within
// ±30 s; hop count 1, so a forwarded visitor is never forwarded again).
#pragma once

#include "wire/proxy_v2.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <span>
#include <unordered_set>
#include <string_view>
#include <vector>

namespace kiteline::fleet {

/// How far a peer's clock may be from ours.
inline constexpr std::int64_t peer_clock_skew_seconds = 30;

/// The signed header for a visitor: `h`'s addresses, kiteline's TLV (hop 1, `unix_time`)
/// appended to its TLVs, the MAC under `key`.
[[nodiscard]] std::vector<std::byte> sign_peer_header(wire::proxy_header h, std::uint64_t unix_time,
                                                      std::string_view key);

enum class peer_verdict : std::uint8_t { ok, no_mark, bad_mac, stale_time, bad_hops, replayed };
[[nodiscard]] std::string_view describe(peer_verdict v) noexcept;

/// Checks a decoded header (`d`, status done) whose bytes are `in` (at least d.length).
[[nodiscard]] peer_verdict verify_peer_header(std::span<const std::byte> in,
                                              const wire::proxy_decoded& d, std::string_view key,
                                              std::uint64_t now);

/// Refuses a header seen before. The MAC covers both addresses, both ports and the second, so
/// a relay never sends one twice (one TCP 4-tuple is not reused within a second); the same MAC
/// again is a captured header replayed (with other bytes after it) inside the ±30 s window.
/// Remembers the MACs of accepted headers for 2 × skew + 1 seconds, at most `capacity` (past
/// that the oldest go first: only headers with a valid MAC get here, so only real forwarding
/// traffic can fill it). Any thread.
class replay_guard {
 public:
  explicit replay_guard(std::size_t capacity = 500'000) : capacity_(capacity) {}
  /// True the first time `mac` (the header's bytes from verify_peer_header) is offered at `now`.
  [[nodiscard]] bool first_use(std::span<const std::byte> mac, std::uint64_t now);
  [[nodiscard]] std::size_t size() const;

 private:
  using key = std::array<std::uint8_t, 16>;  // 128 bits of the MAC
  struct key_hash {
    std::size_t operator()(const key& k) const noexcept;
  };
  mutable std::mutex mu_;
  std::size_t capacity_;
  std::unordered_set<key, key_hash> seen_;
  std::deque<std::pair<std::uint64_t, key>> order_;  // (second, key), oldest first
};

/// verify_peer_header, then `guard`: `replayed` for a valid header whose MAC was seen before.
[[nodiscard]] peer_verdict verify_peer_header(std::span<const std::byte> in,
                                              const wire::proxy_decoded& d, std::string_view key,
                                              std::uint64_t now, replay_guard& guard);

}  // namespace kiteline::fleet
