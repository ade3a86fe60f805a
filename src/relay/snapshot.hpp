// relay/snapshot: a copy of the relay's state for the console and the SIGUSR1 dump, gathered on
// every worker by server::snapshot() (posted there: no lock on the data path).
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "relay/stats.hpp"

namespace kiteline::relay {

/// One live tunnel.
struct tunnel_snapshot {
  std::uint64_t id = 0;
  std::size_t worker = 0;
  std::string peer;
  std::vector<std::string> kites;  ///< "proto[-port]:domain"
  std::chrono::system_clock::time_point since;
  std::uint64_t tunnel_received = 0;  ///< bytes read from the tunnel
  std::uint64_t tunnel_sent = 0;      ///< bytes written to the tunnel
  std::uint64_t visitor_received = 0;  ///< bytes read from its visitors
  std::uint64_t visitor_sent = 0;      ///< bytes written to its visitors
  std::size_t streams = 0;
  std::uint64_t buffered = 0;      ///< bytes waiting for visitors
  std::uint64_t outbox = 0;        ///< bytes waiting for the tunnel
  std::string tls;                 ///< "TLSv1.3 TLS_AES_128_GCM_SHA256", "" for plain
};

/// The fleet (issue 24): forwarding and the publisher's DNS work. Only with --fleet_dns.
struct fleet_snapshot {
  std::uint64_t forwarded = 0;
  std::array<std::uint64_t, forward_failure_count> forward_failed{};
  std::uint64_t peer_accepted = 0;
  std::array<std::uint64_t, peer_refusal_count> peer_refused{};
  bool publishing = false;  ///< a publisher runs (the fields below are its)
  std::int64_t kites_published = 0;
  bool in_pool = false;
  std::uint64_t updates_ok = 0;
  std::uint64_t updates_failed = 0;
  std::uint64_t updates_refused = 0;
  std::uint64_t zone_reads = 0;
  std::uint64_t peers_removed = 0;
};

/// The whole relay.
struct relay_snapshot {
  std::string uuid;
  std::chrono::system_clock::time_point started;
  std::chrono::system_clock::time_point taken;
  std::vector<std::uint16_t> ports;
  std::size_t workers = 0;
  bool complete = true;  ///< false: a worker did not answer in time (its tunnels are missing)
  std::vector<tunnel_snapshot> tunnels;
  std::vector<refusal> refusals;  ///< newest first
  // Counters.
  std::uint64_t connections = 0;
  std::uint64_t pings = 0;
  std::uint64_t tunnels_up = 0;
  std::uint64_t tunnels_down = 0;
  std::uint64_t handshakes_refused = 0;
  std::array<std::array<std::uint64_t, visitor_result_count>, visitor_proto_count> visitors{};
  /// Totals, closed and live tunnels together.
  std::uint64_t visitor_received = 0;
  std::uint64_t visitor_sent = 0;
  std::uint64_t tunnel_received = 0;
  std::uint64_t tunnel_sent = 0;
  std::optional<fleet_snapshot> fleet;  ///< with --fleet_dns
};

}  // namespace kiteline::relay
