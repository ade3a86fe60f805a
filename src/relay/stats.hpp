// relay/stats: what the relay counts for its console beyond relay_counters: visitor connections
// by proto and result, the byte totals of closed tunnels, and the recent refusals (a small
// bounded ring). Counting is a relaxed atomic add; only a refusal takes a (short) lock.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "metrics/counter.hpp"

namespace kiteline::relay {

/// The proto label of visitor connections (metrics never carry a host or an address).
enum class visitor_proto : std::uint8_t { http, https, websocket, raw, unknown };
inline constexpr std::size_t visitor_proto_count = 5;
/// How a visitor connection ended its first phase.
enum class visitor_result : std::uint8_t { routed, refused, timed_out };
inline constexpr std::size_t visitor_result_count = 3;

[[nodiscard]] std::string_view name_of(visitor_proto p) noexcept;
[[nodiscard]] std::string_view name_of(visitor_result r) noexcept;
/// "http", "https", "websocket", "raw" (and "http2"/"http3" as http); anything else unknown.
[[nodiscard]] visitor_proto visitor_proto_of(std::string_view proto) noexcept;

/// One refusal for the console: what was refused and why. Texts are the peer's bytes at times
/// (a kite name): the console escapes them.
struct refusal {
  std::chrono::system_clock::time_point when;
  std::string what;    ///< "tunnel", "kite" or "visitor"
  std::string name;    ///< the kite or host asked for ("" when none)
  std::string peer;    ///< the peer's address
  std::string reason;
};

/// The last `capacity` refusals. Any thread (a mutex: refusals are not the data path).
class refusal_log {
 public:
  explicit refusal_log(std::size_t capacity = 32) : capacity_(capacity) {}
  /// Records one refusal; texts longer than 200 bytes are cut.
  void note(std::string_view what, std::string_view name, std::string_view peer,
            std::string_view reason);
  /// Newest first.
  [[nodiscard]] std::vector<refusal> recent() const;

 private:
  std::size_t capacity_;
  mutable std::mutex mu_;
  std::deque<refusal> ring_;
};

/// Why forwarding a visitor to a fleet peer failed (relay/peer_forward.hpp).
enum class forward_failure : std::uint8_t { no_holder, holders_failed };
inline constexpr std::size_t forward_failure_count = 2;
/// Why the fleet peer port refused a connection (relay/peer_port.cpp).
enum class peer_refusal : std::uint8_t { no_header, bad_mac, stale_time, bad_hops, replayed };
inline constexpr std::size_t peer_refusal_count = 5;
[[nodiscard]] std::string_view name_of(forward_failure f) noexcept;
[[nodiscard]] std::string_view name_of(peer_refusal r) noexcept;

/// The fleet's forwarding counters (issue 24; the publisher counts its DNS work itself).
struct fleet_stats {
  metrics::counter forwarded;  ///< visitors handed to a holder
  std::array<metrics::counter, forward_failure_count> forward_failed;
  metrics::counter peer_accepted;  ///< visitors a peer forwarded to this relay
  std::array<metrics::counter, peer_refusal_count> peer_refused;

  void failed(forward_failure f) noexcept { forward_failed[static_cast<std::size_t>(f)].add(); }
  void refused(peer_refusal r) noexcept { peer_refused[static_cast<std::size_t>(r)].add(); }
};

/// Relay-wide console counters (any thread).
struct relay_stats {
  std::array<std::array<metrics::counter, visitor_result_count>, visitor_proto_count> visitors;
  /// Bytes of the tunnels that closed, per worker: plain numbers, touched only on that worker
  /// (added as a tunnel leaves its worker's table, read there with the live tunnels, so a
  /// snapshot counts every tunnel exactly once).
  struct closed_totals {
    std::uint64_t visitor_received = 0;
    std::uint64_t visitor_sent = 0;
    std::uint64_t tunnel_received = 0;
    std::uint64_t tunnel_sent = 0;
  };
  std::vector<closed_totals> closed;  ///< [worker]
  refusal_log refusals;
  fleet_stats fleet;
  std::chrono::system_clock::time_point started = std::chrono::system_clock::now();

  void visitor(visitor_proto p, visitor_result r) noexcept {
    visitors[static_cast<std::size_t>(p)][static_cast<std::size_t>(r)].add();
  }
};

}  // namespace kiteline::relay
