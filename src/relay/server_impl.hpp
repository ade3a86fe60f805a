// server::impl: the state the relay's jobs share (workers, listeners, TLS endpoints, tunnels by
// worker) and the two jobs themselves. Internal to src/relay/: server.cpp runs the lifecycle,
// visitor_session.cpp the visitors, tunnel_acceptor.cpp the tunnels.
#pragma once

#include "fleet/holder_lookup.hpp"
#include "fleet/peer_mark.hpp"
#include "fleet/publisher.hpp"
#include "keys/key_reload.hpp"
#include "net/asio.hpp"
#include "net/worker.hpp"
#include "relay/access_control.hpp"
#include "relay/server.hpp"
#include "relay/stats.hpp"
#include "relay/tunnel_acceptor.hpp"
#include "relay/visitor_session.hpp"
#include "tls/server_context.hpp"
#include "tls/transport.hpp"

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace kiteline::relay {

/// `n_bytes` random bytes (OpenSSL's RAND_bytes) as lower-case hex; panics if RAND_bytes fails.
[[nodiscard]] std::string random_hex(std::size_t n_bytes);

struct server::impl {
  impl(server& s, std::size_t threads);

  server& srv;
  net::worker_pool pool;
  std::vector<std::vector<std::unique_ptr<net::tcp::acceptor>>> acceptors;  // [worker][port]
  tls::endpoint_set endpoints;
  std::unique_ptr<kiteline::keys::certificate_reloader> reloader;  // used on worker 0 after start()
  std::atomic<std::size_t> round_robin{0};
  std::atomic<bool> stopping{false};
  std::atomic<bool> draining{false};  ///< server::drain began (no new local tunnel either)
  // Tunnels by worker; each map is touched only on its worker's thread.
  std::vector<std::map<std::uint64_t, std::shared_ptr<tunnel>>> tunnels;
  relay_stats stats;  ///< console counters and recent refusals (any thread)
  /// ACLs, --ratelimit_ips, overload (relay/access_control.hpp; any thread).
  access_control access{*this};
  /// The fleet publisher (--fleet_dns), or null. Shared with the registry's observer, which
  /// may outlive this object's other members.
  std::shared_ptr<fleet::publisher> publisher;
  /// The jobs (they keep a reference to this object, which outlives every connection).
  tunnel_acceptor tunnel_job{*this};
  visitor_session visitor_job{*this};
  /// Fleet forwarding (relay/peer_forward.hpp): who holds a kite; null without a peer port.
  std::unique_ptr<fleet::holder_lookup> holders;
  fleet::replay_guard peer_replays;  ///< MACs of the peer port's accepted headers (fleet/peer_mark)
  std::atomic<std::int64_t> peer_warned_at{0};        ///< second of the last peer refusal logged
  std::atomic<std::uint64_t> peer_warn_suppressed{0};  ///< refusals not logged since

  [[nodiscard]] const config::relay_config& cfg() const { return srv.cfg_; }
  [[nodiscard]] spdlog::logger& log() { return *srv.log_; }
  [[nodiscard]] const std::shared_ptr<spdlog::logger>& log_ptr() const { return srv.log_; }
  [[nodiscard]] relay_counters& counters() { return srv.counters_; }
  [[nodiscard]] kite_registry& registry() { return srv.registry_; }
  [[nodiscard]] const std::string& uuid() const { return srv.uuid_; }
  [[nodiscard]] const std::vector<std::uint16_t>& ports() const { return srv.ports_; }
  /// The access log, or null (no --accesslog). Hooks that outlive a call keep a copy.
  [[nodiscard]] const std::shared_ptr<accesslog::sink>& access_log() const {
    return srv.access_log_;
  }
  /// One access-log line for a visitor the relay answered itself or dropped (no stream):
  /// `head` = the bytes read from it (method and path when they are an HTTP request),
  /// `reply` = what was sent (its status line gives the status). No-op without an access log.
  /// `more_in`/`more_out`: bytes moved beyond `head` and `reply` (a forwarded visitor).
  void log_visitor(std::chrono::steady_clock::time_point started, const std::string& peer,
                   std::uint16_t peer_port, std::string_view kite, std::string_view proto,
                   std::uint16_t port, std::string_view head, std::string_view reply,
                   std::string_view note, std::uint64_t more_in = 0, std::uint64_t more_out = 0);

  /// The port a listening port is reported as (--portalias), else `listen` itself.
  [[nodiscard]] std::uint16_t reported_port(std::uint16_t listen) const;
  /// Writes a canned reply, half-closes, lingers 50 ms for the peer to read it, closes. On the
  /// transport's worker; `t` must outlive the call (the caller's coroutine owns it).
  net::awaitable<void> refuse(tls::transport& t, std::string_view reply);
  /// Worker 0: checks the --tls_endpoint files every --tls_reload_seconds until stop.
  net::awaitable<void> watch_certificates();
  /// server::drain's state, shared by the workers' drain loops (relay/server_drain.cpp).
  struct drain_state;
  /// One worker's part of a drain: tells new tunnels, closes idle ones, and at the deadline
  /// the rest; the last worker to finish reports (drain_state::on_done).
  net::awaitable<void> drain_worker(std::size_t worker, std::shared_ptr<drain_state> st);
  /// One listening port on one worker: accepts until stop, one visitor_session run per socket.
  net::awaitable<void> accept_loop(std::size_t worker, net::tcp::acceptor* acc, std::uint16_t port);
};

}  // namespace kiteline::relay
