// connector::client: one PageKite connector (pagekite.py's back-end) as a self-contained context:
// a tunnel_client per relay, relay discovery for --frontends, the folder web servers.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <spdlog/logger.h>

#include "config/connector_config.hpp"
#include "connector/client_context.hpp"
#include "connector/errc.hpp"
#include "connector/tunnel_client.hpp"
#include "connector/request_ring.hpp"
#include "core/outcome.hpp"
#include "core/result.hpp"
#include "net/signal.hpp"
#include "net/worker.hpp"

namespace kiteline::connector {

class static_site;
class dyndns_updater;

/// One relay for the console: its status and its live tunnel's figures.
struct relay_snapshot {
  relay_status status;
  std::uint64_t tunnel_received = 0;
  std::uint64_t tunnel_sent = 0;
  std::uint64_t origin_received = 0;  ///< bytes read from origins
  std::uint64_t origin_sent = 0;      ///< bytes written to origins
  std::size_t streams = 0;
};

/// The connector's state for the console and the SIGUSR1 dump (client::snapshot()).
struct connector_snapshot {
  std::chrono::system_clock::time_point started;
  std::chrono::system_clock::time_point taken;
  std::size_t workers = 0;
  bool complete = true;  ///< false: a worker did not answer in time
  std::vector<relay_snapshot> relays;
  std::vector<request_entry> requests;  ///< newest first, every relay
  std::uint64_t attempts = 0;
  std::uint64_t reconnects = 0;
  std::uint64_t tunnels_up = 0;
  std::uint64_t tunnels_lost = 0;
  std::uint64_t kites_rejected = 0;
  std::uint64_t streams_opened = 0;
  std::uint64_t streams_refused = 0;
  std::uint64_t origin_connects = 0;
  std::uint64_t origin_failures = 0;
  std::uint64_t origin_streams = 0;
};

/// What a connector drain did (client::drain's on_done; also logged).
struct drain_summary {
  std::uint64_t streams = 0;  ///< streams in flight at the start
  std::uint64_t cut = 0;      ///< streams still open when the grace ran out
  bool grace_over = false;
  std::chrono::milliseconds took{0};
};

/// The connector. Construct, start(), then run() or start_threads(); stop() ends it. Every piece
/// of state lives here (no globals), so tests run several connectors in one process.
/// Threading: --threads workers (io_context + thread each; 0 = one per relay, at most one per
/// core). Each tunnel_client (and the origin streams of its tunnel) lives on one worker, the
/// tunnels spread round-robin; relay discovery and the folder servers live on worker 0.
class client {
 public:
  client(config::connector_config cfg, std::shared_ptr<spdlog::logger> log,
         client_options opts = {});
  ~client();
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  /// Checks the configuration (kites, relays, TLS files), starts the folder servers and the
  /// tunnel loops (they run once run()/start_threads() is called). Calling thread, before
  /// run(). Fails with a connector::errc and the human text.
  outcome<void> start();
  /// Runs the worker on this thread until stop().
  void run();
  /// Runs the worker on its own thread (tests, main).
  void start_threads();
  /// Closes every tunnel and stops the worker. Any thread except the worker's; idempotent.
  void stop();
  /// Graceful drain (SIGTERM, --grace_seconds): new streams from the relays are refused as
  /// pagekite.py refuses those it cannot serve (503 page / TLS alert), streams in flight run
  /// on. `on_done` is called once, on worker 0, when none is left or after `grace`; it must not
  /// call stop() (wake the thread that will). Call once, after start_threads(); any thread
  /// but a worker's.
  void drain(std::chrono::seconds grace, std::function<void(const drain_summary&)> on_done);

  /// Relays with a live tunnel (at least one kite accepted). Any thread.
  [[nodiscard]] std::size_t live_tunnels() const;
  /// One status per relay currently wanted (configured, or chosen from the pool). Any thread.
  [[nodiscard]] std::vector<relay_status> relays() const;
  [[nodiscard]] const client_counters& counters() const noexcept { return ctx_->counters; }
  /// Number of workers (threads) the connector runs.
  [[nodiscard]] std::size_t workers() const noexcept { return pool_.size(); }
  /// Why the connector gave up for good ("" while it has not): --all found a kite live on no
  /// relay after the first attempts. Any thread.
  [[nodiscard]] std::string failure() const;
  /// The largest outbox_peak of the live tunnels (tests: the outbox stays bounded). Any thread
  /// but a worker's; waits up to 2 s for each tunnel's executor.
  [[nodiscard]] std::uint64_t outbox_peak_for_test() const;
  /// The configuration the connector runs with (immutable).
  [[nodiscard]] const config::connector_config& config() const noexcept { return ctx_->cfg; }
  /// The connector's state (connector/client_snapshot.cpp): each relay's status, and its
  /// tunnel's figures and recent requests gathered on its worker (posted; waits up to `wait`
  /// for each). Any thread but a worker's.
  [[nodiscard]] connector_snapshot snapshot(
      std::chrono::milliseconds wait = std::chrono::seconds(2)) const;

 private:
  /// --tls_client_cert into the TLS context: the chain and a proxy key when the key lives in
  /// the key process, else the PEM file's own key. errc::client_certificate.
  outcome<void> install_client_certificate(const std::string& pem_file);

  net::awaitable<void> discover(std::shared_ptr<client_context> ctx);
  net::awaitable<void> check_all(std::shared_ptr<client_context> ctx);
  /// The next worker's executor (round-robin). Caller holds mu_.
  asio::any_io_executor next_executor();
  /// True when a non-retiring relay has a live tunnel. Any thread.
  bool replacement_live() const;
  /// A relay sent its drain notice (client_context::relay_going): a pool relay is retired and
  /// discovery runs at once, without it; a --frontend relay keeps its place (its loop
  /// reconnects when it is back). Its uuid is never chosen again. Any worker.
  void relay_going(const std::string& label, const std::string& uuid, std::uint32_t grace);
  /// Worker 0: counts down a drain (client::drain).
  net::awaitable<void> drain_watch(std::chrono::steady_clock::time_point deadline,
                                   std::function<void(const drain_summary&)> on_done);

  std::shared_ptr<client_context> ctx_;
  net::worker_pool pool_;
  mutable std::mutex mu_;  // guards tunnels_, next_worker_, live_kites_, failure_
  std::vector<std::shared_ptr<tunnel_client>> tunnels_;
  std::size_t next_worker_ = 0;
  std::vector<std::string> live_kites_;  // "proto:name" of kites live at least once
  std::string failure_;
  std::vector<std::string> going_uuids_;  // relays that sent a drain notice (last 64)
  std::unique_ptr<net::signal> rediscover_;  // worker 0: wakes discovery before its interval
  std::atomic<bool> pool_ready_{false};  // discovery's first pass is over
  std::vector<std::shared_ptr<static_site>> sites_;
  std::shared_ptr<dyndns_updater> dyndns_;  // --dyndns (worker 0)
  bool started_ = false;
  bool threads_started_ = false;
  std::atomic<bool> stopped_{false};
  std::chrono::system_clock::time_point started_at_ = std::chrono::system_clock::now();
};

}  // namespace kiteline::connector
