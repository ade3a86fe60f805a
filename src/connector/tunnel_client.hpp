// connector::tunnel_client: keeps one tunnel to one relay up (ping, connect, TLS, handshake in
// Flow A or B, the tunnel_link, reconnection with backoff); origin_dialer serves its streams.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "connector/client_context.hpp"
#include "connector/handshake.hpp"
#include "connector/origin_dialer.hpp"
#include "connector/relay_ping.hpp"
#include "connector/relay_quota.hpp"
#include "net/asio.hpp"
#include "net/signal.hpp"
#include "tls/transport.hpp"
#include "tunnel/link.hpp"
#include "wire/handshake.hpp"

namespace kiteline::connector {

/// A snapshot of one relay's state (copied under a lock; readable from any thread).
struct relay_status {
  std::string label;            ///< "host:port" as configured
  std::string address;          ///< IP of the live tunnel's relay ("" = none, or in-process)
  bool live = false;            ///< a tunnel with at least one accepted kite is up
  std::size_t live_kites = 0;
  std::uint64_t attempts = 0;   ///< connection attempts
  std::uint64_t finished = 0;   ///< attempts that ended (failed, refused, or tunnel closed)
  std::uint64_t tunnels = 0;    ///< tunnels that went live
  std::string uuid;             ///< from the last ping
  std::string session_id;       ///< latest X-PageKite-SessionID
  std::string flow;             ///< "A" or "B" of the last successful handshake
  std::string last_error;       ///< why the last attempt or tunnel ended
  /// Round-trip time of the last successful relay ping (negative: none yet).
  std::chrono::microseconds ping_rtt{-1};
  std::vector<std::size_t> live_services;  ///< indexes into cfg.services of the live kites
  relay_quota quota;            ///< the relay's limits on the current tunnel (--authdomain)
  bool retiring = false;        ///< no longer wanted (pool re-evaluation); closes when idle
  bool draining = false;        ///< the relay sent its drain notice on the current tunnel
  bool stopped = false;         ///< stop() ran: the relay is no longer used
};

/// One relay. Lives on one executor (a connector worker); start()/stop() may be called from any
/// thread (they post). Owns itself through its coroutine while running.
class tunnel_client : public std::enable_shared_from_this<tunnel_client> {
 public:
  /// `ctx` must outlive the executor's io_context run (connector::client guarantees it).
  tunnel_client(asio::any_io_executor ex, std::shared_ptr<client_context> ctx, std::string host,
                std::uint16_t port);
  ~tunnel_client();

  /// Starts the connect/reconnect loop. Any thread.
  void start();
  /// Ends the loop and closes the tunnel. Any thread; idempotent.
  void stop();

  /// Retires this relay (a pool relay no longer chosen, §9.2): it keeps serving, and stops once
  /// it carries no stream while `ready()` says a replacement is live, or after `grace` at the
  /// latest. `ready` is called on this tunnel's executor and must be thread-safe. Any thread.
  void retire(std::chrono::milliseconds grace, std::function<bool()> ready);

  [[nodiscard]] relay_status status() const;
  [[nodiscard]] const std::string& label() const noexcept { return label_; }
  [[nodiscard]] asio::any_io_executor executor() const { return ex_; }
  /// The live tunnel's kiteline::tunnel::link_stats::outbox_peak (0 without a tunnel). This tunnel's
  /// executor only.
  [[nodiscard]] std::uint64_t outbox_peak() const;
  /// The last streams the relay opened on this relay's tunnels (console). This executor only.
  [[nodiscard]] std::vector<request_entry> recent_requests() const {
    return dialer_.recent_requests();
  }
  /// The live tunnel's link_stats and stream count (zeros without a tunnel). Executor only.
  [[nodiscard]] std::pair<kiteline::tunnel::link_stats, std::size_t> link_stats() const;

 private:
  enum class outcome { failed, rejected, duplicate, ended };

  net::awaitable<void> run(std::shared_ptr<tunnel_client> self);
  net::awaitable<outcome> attempt();
  /// attempt() once the relay's address is known: connect, handshake, serve until the end.
  net::awaitable<outcome> attempt_at(net::tcp::endpoint chosen);
  /// Sleeps `delay`, probing an unreachable relay meanwhile (client_options::probe_after).
  net::awaitable<void> retry_sleep(std::chrono::milliseconds delay);
  net::awaitable<void> retire_when_idle(std::shared_ptr<tunnel_client> self,
                                        std::chrono::milliseconds grace,
                                        std::function<bool()> ready);
  net::awaitable<std::error_code> open(net::tcp::endpoint ep);
  /// Writes hs_->to_write() and feeds the reply to hs_ until it needs no more bytes; nullopt
  /// (logged, status set) on an I/O failure, a bad reply or a refusal.
  net::awaitable<std::optional<handshake::step>> exchange();

  /// Applies one round's results: live kites, counters, one log line per kite, session id.
  void apply_results(const round_outcome& r);
  void on_control(const mux::control_chunk& c);
  /// A Quota: chunk (the relay re-checked, spec 5.9): status_.quota, logged when it changed.
  void on_quota_chunk(std::int64_t kb);
  /// The relay's drain notice: logged once per tunnel, status_.draining, ctx_->relay_going.
  void on_relay_draining(std::uint32_t grace);
  void set_error(std::string why);
  [[nodiscard]] std::vector<std::size_t> live_indexes() const;
  void close_conn();

  asio::any_io_executor ex_;
  std::shared_ptr<client_context> ctx_;
  std::string host_;
  std::uint16_t port_;
  std::string label_;
  std::mt19937_64 rng_;
  std::vector<std::string> bsalts_;                // per service

  // Executor-owned state.
  bool stopped_ = false;
  std::optional<tls::transport> conn_;        // during connect + handshake
  std::vector<std::byte> rbuf_;               // bytes read during the handshake
  std::shared_ptr<kiteline::tunnel::link> link_;
  net::signal link_closed_;
  net::signal round_done_;
  std::optional<handshake> hs_;               // this attempt's handshake (kept for later rounds)
  std::vector<std::uint64_t> salts_;          // hs_'s random SALT8 material
  std::string round_error_;
  std::string uuid_;
  std::string session_id_;
  bool unreachable_ = false;                  // the last attempt's relay ping failed
  std::vector<net::tcp::endpoint> probe_eps_; // the addresses it was pinged at
  asio::steady_timer sleep_;
  std::vector<bool> live_;                    // per service
  origin_dialer dialer_;                      // the streams the relay opens

  mutable std::mutex status_mu_;
  relay_status status_;
};

}  // namespace kiteline::connector
