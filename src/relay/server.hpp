// relay::server: one PageKite relay (pagekite.py --isfrontend) as a self-contained context.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <spdlog/logger.h>

#include "accesslog/sink.hpp"
#include "config/relay_config.hpp"
#include "core/outcome.hpp"
#include "core/result.hpp"
#include "net/asio.hpp"
#include "tunnel/link.hpp"
#include "net/worker.hpp"
#include "relay/auth_answer.hpp"
#include "relay/errc.hpp"
#include "relay/kite_registry.hpp"
#include "relay/snapshot.hpp"
#include "keys/key_store.hpp"
#include "tls/server_context.hpp"

namespace kiteline::relay {

/// Relay-wide counters (atomics: read from any thread, e.g. by tests).
struct relay_counters {
  std::atomic<std::uint64_t> connections{0};
  std::atomic<std::uint64_t> pings{0};
  std::atomic<std::uint64_t> tunnels_up{0};
  std::atomic<std::uint64_t> tunnels_down{0};
  std::atomic<std::uint64_t> handshakes_refused{0};
  std::atomic<std::uint64_t> visitors_routed{0};
  std::atomic<std::uint64_t> visitors_refused{0};
  std::atomic<std::uint64_t> visitors_timed_out{0};
};

/// A registered tunnel: its link plus the bookkeeping of its handshake.
class tunnel {
 public:
  std::uint64_t id = 0;
  std::size_t worker = 0;
  std::shared_ptr<kiteline::tunnel::link> link;
  std::vector<std::string> keys;         ///< registered "proto[-port]:domain" keys
  std::map<std::string, std::string> bsalts;  ///< key -> the connector's BSALT for it
  std::vector<std::string> session_ids;  ///< every session id issued on this tunnel
  bool add_kites = false;                ///< connector advertised AddKites
  bool on_probation = false;             ///< no kite accepted yet: counted in max_unauth_tunnels
  std::string peer;                      ///< connector address, for logs
  std::string tls;                       ///< "TLSv1.3 TLS_AES_128_GCM_SHA256" (empty: plain), for logs
  std::vector<std::string> cert_names;   ///< names of a verified client certificate (mTLS)
  std::chrono::system_clock::time_point since;  ///< when the handshake completed (console)
  bool told_draining = false;            ///< the drain notice was sent on it (server::drain)
  tunnel_limits limits;                  ///< --authdomain quota and limits (relay/auth_answer)
  bool quota_watched = false;            ///< tunnel_acceptor::watch_quota runs for it
  bool local = false;  ///< the relay's own in-process connector (server::open_local_tunnel)
};

/// What a drain did (server::drain's on_done; also logged).
struct drain_summary {
  std::size_t tunnels = 0;  ///< tunnels told at the start of the drain
  std::size_t streams = 0;  ///< streams in flight at the start
  std::size_t cut = 0;      ///< streams still open when the grace ran out (then closed)
  bool grace_over = false;  ///< the grace ran out (else every stream finished in time)
  std::chrono::milliseconds took{0};
};

/// The relay. Construct, start() (binds every port on every worker), then run() or
/// start_threads(). Every piece of state lives in this object (no globals), so several relays
/// can run in one process (tests do).
class server {
 public:
  server(config::relay_config cfg, std::shared_ptr<spdlog::logger> log);
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  /// Where the TLS endpoints' private keys live (kiteline::keys::start_key_process for isolation). Call
  /// before start(); without it the keys are loaded in this process.
  void set_key_store(std::shared_ptr<kiteline::keys::key_store> keys) { keys_ = std::move(keys); }
  /// Where access-log lines go (--accesslog; null: none). Call before start().
  void set_access_log(std::shared_ptr<accesslog::sink> sink) { access_log_ = std::move(sink); }
  /// Reloads every TLS endpoint's certificate/key pair now (SIGHUP), with the failsafe of
  /// kiteline::keys::certificate_reloader; the outcome is logged. Any thread (posted to worker 0).
  void reload_certificates();

  /// Loads TLS endpoints, binds the listeners. Fails with a relay::errc and the human text.
  outcome<void> start();
  /// The ports actually bound (port 0 in the config becomes the ephemeral port).
  [[nodiscard]] const std::vector<std::uint16_t>& bound_ports() const noexcept { return ports_; }
  /// Runs the workers on this thread (worker 0) and others until stop().
  void run();
  /// Runs every worker on its own thread (tests).
  void start_threads();
  /// Stops accepting, closes every tunnel and visitor, joins the threads.
  void stop();
  /// Graceful drain (SIGTERM, --grace_seconds): closes the listeners on every worker (new
  /// visitors and tunnels are refused), sends every tunnel the drain notice
  /// (wire::format_drain_notice) so kiteline connectors move to their other relays at once,
  /// closes each tunnel once it carries no stream, and after `grace` closes what is left. Logs
  /// the start (tunnels, streams) and the end (finished, cut). `on_done` is called once, on a
  /// worker thread, when every tunnel is closed or the grace ran out; it must not call stop()
  /// (wake the thread that will). Call once, from a thread that is not a worker's, after
  /// start_threads(); it waits (up to 5 s per worker) for the listeners to close.
  void drain(std::chrono::seconds grace, std::function<void(const drain_summary&)> on_done);

  /// A tunnel from this process's own connector, which serves the kites of
  /// config::relay_config::local_kites (relay/local_tunnel.cpp): a connected loopback TCP pair,
  /// whose relay end runs the tunnel handshake on a worker, trusted for those kites without
  /// signatures (spec §8.1). Returns the connector's end on `connector_ex`. Any thread, after
  /// start(); fails once the relay stops or drains.
  [[nodiscard]] result<net::tcp::socket> open_local_tunnel(const asio::any_io_executor& connector_ex);

  [[nodiscard]] const relay_counters& counters() const noexcept { return counters_; }
  [[nodiscard]] kite_registry& registry() noexcept { return registry_; }
  [[nodiscard]] const std::string& uuid() const noexcept { return uuid_; }
  /// Sum over live tunnels of bytes buffered toward visitors (call only while no worker runs
  /// tunnels concurrently, or accept a racy snapshot in tests).
  [[nodiscard]] std::uint64_t buffered_bytes_for_test();
  [[nodiscard]] std::size_t tunnel_count();
  /// The relay's state for the console and the SIGUSR1 dump (relay/server_snapshot.cpp): asks
  /// every worker for its tunnels (posted, waits up to `wait` for each). Any thread but a
  /// worker's.
  [[nodiscard]] relay_snapshot snapshot(std::chrono::milliseconds wait = std::chrono::seconds(2));

  // --- internals: defined in relay/server_impl.hpp, shared by the jobs (visitor_session,
  // tunnel_acceptor) ---
  struct impl;

 private:
  std::unique_ptr<impl> impl_;
  std::shared_ptr<kiteline::keys::key_store> keys_;
  std::shared_ptr<accesslog::sink> access_log_;
  config::relay_config cfg_;
  std::shared_ptr<spdlog::logger> log_;
  std::vector<std::uint16_t> ports_;
  relay_counters counters_;
  kite_registry registry_;
  std::string uuid_;
};

}  // namespace kiteline::relay
