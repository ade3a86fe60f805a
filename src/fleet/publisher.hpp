// fleet::publisher: a relay's records in the fleet's zone (issue 24, items 1 and 3), kept by
// its own thread. Callers (any worker) only lock a mutex, change the desired state and notify:
// a DNS server that is slow or down never blocks a tunnel or a visitor. The thread reconciles
// what is wanted with what the zone holds (TSIG-signed RFC 2136 UPDATEs, coalesced, retried
// with backoff), reads the zone every --fleet_ping_seconds (AXFR: its own stale records go,
// records it lost come back), pings the other relays it finds there and deletes every record of
// a relay that has not answered for --fleet_peer_timeout. It only ever adds or deletes records
// that carry its own addresses, except for those of a dead peer.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>

#include "config/relay_fleet_config.hpp"
#include "fleet/desired_state.hpp"
#include "fleet/dns_client.hpp"
#include "metrics/counter.hpp"

namespace spdlog {
class logger;
}

namespace kiteline::fleet {

class publisher {
 public:
  /// `ping_port`: the relay's first public port (every relay of the fleet uses the same).
  /// `uuid`: this relay's X-PageKite-UUID (a ping answered with it is this relay itself).
  publisher(config::relay_fleet_config cfg, std::uint16_t ping_port, std::string uuid,
            std::shared_ptr<spdlog::logger> log);
  publisher(const publisher&) = delete;
  publisher& operator=(const publisher&) = delete;
  ~publisher();

  /// Starts the thread; the relay joins the pool fe.ZONE.
  void start();
  /// Leaves the pool, deletes this relay's records (at most `budget`), joins the thread.
  void stop(std::chrono::milliseconds budget = std::chrono::milliseconds(2000));

  /// A tunnel for `kite` registered / went (refcounted). Any thread; never blocks on DNS.
  void kite_up(std::string_view kite);
  void kite_down(std::string_view kite);
  /// Drain: out of the pool for good. Any thread.
  void leave_pool();
  /// Asked on the publisher's thread every --fleet_ping_seconds (set before start()): while it
  /// says true the relay is out of the pool fe.ZONE. Must be safe from any thread.
  void set_overload_check(std::function<bool()> overloaded) { overloaded_ = std::move(overloaded); }

  /// What the publisher did, for the console (read-only, any thread).
  struct counts {
    metrics::counter updates_ok;       ///< UPDATEs the server accepted
    metrics::counter updates_failed;   ///< UPDATEs unanswered or failed (retried)
    metrics::counter updates_refused;  ///< UPDATEs refused (REFUSED/NOTAUTH or a TSIG error)
    metrics::counter zone_reads;       ///< zone transfers read
    metrics::counter peers_removed;    ///< silent peers whose records were deleted
    metrics::gauge kites_published;    ///< kite names the zone holds with this relay's address
    metrics::gauge in_pool;            ///< 1 while the zone has this relay in fe.ZONE
  };
  [[nodiscard]] const counts& stats() const noexcept { return counts_; }

 private:
  void run();
  /// Sends one UPDATE for what `desired` and published_ differ by; true when nothing is left.
  bool reconcile(const std::set<address_record>& desired, std::chrono::milliseconds timeout);
  /// AXFR: published_ becomes what the zone holds with our addresses; peers are noted.
  void read_zone();
  void watch_peers();
  bool send_update(const std::vector<address_record>& adds,
                   const std::vector<address_record>& deletes, std::chrono::milliseconds timeout,
                   std::string_view what);
  [[nodiscard]] std::set<address_record> desired_now();
  /// counts_'s gauges from published_.
  void note_published();
  void update_pool(bool in);

  config::relay_fleet_config cfg_;
  std::uint16_t ping_port_;
  std::string uuid_;
  std::shared_ptr<spdlog::logger> log_;
  std::optional<dns_server> server_;
  std::function<bool()> overloaded_;
  tsig_key key_;

  std::mutex mu_;
  std::condition_variable cv_;
  desired_state desired_;  // guarded by mu_
  bool dirty_ = true;      // guarded by mu_
  bool stopping_ = false;  // guarded by mu_
  bool left_pool_ = false; // guarded by mu_
  std::thread thread_;
  counts counts_;

  // The thread's own state.
  std::set<address_record> published_;
  std::map<std::string, std::vector<address_record>> peers_;  // address -> its records
  std::map<std::string, std::chrono::steady_clock::time_point> peer_seen_;
  std::chrono::milliseconds backoff_{0};
  std::chrono::steady_clock::time_point next_try_{};
  bool transfer_refused_logged_ = false;  // a zone transfer refusal was logged
  std::uint16_t next_id_ = 1;
  std::chrono::milliseconds stop_budget_{2000};  // guarded by mu_
};

}  // namespace kiteline::fleet
