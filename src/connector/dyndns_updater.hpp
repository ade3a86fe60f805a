// connector dyndns_updater: the I/O of --dyndns (spec §9.6). On worker 0: when the tunnels
// change it recomputes each kite's update (connector/dyndns), sends those not yet accepted as
// HTTP(S) GETs, one at a time, each bounded by client_options::dyndns_timeout, and backs off
// after a failed round. It never touches a tunnel: the tunnels only notify it.
#pragma once

#include "connector/client_context.hpp"
#include "connector/dyndns.hpp"
#include "connector/tunnel_client.hpp"
#include "net/asio.hpp"
#include "net/signal.hpp"

#include <atomic>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace kiteline::connector {

class dyndns_updater : public std::enable_shared_from_this<dyndns_updater> {
 public:
  /// `relays` gives every relay's status (any thread). `ctx->cfg.dyndns` must be set.
  dyndns_updater(asio::any_io_executor ex, std::shared_ptr<client_context> ctx,
                 std::function<std::vector<relay_status>()> relays);

  /// Starts the loop. Any thread.
  void start();
  /// The tunnels changed: recompute soon. Any thread.
  void notify();
  /// Ends the loop (an update in flight is abandoned). Any thread; idempotent.
  void stop();

 private:
  /// The result of one GET: ok, and the text for the log.
  struct attempt {
    bool ok = false;
    bool transport_failed = false;  ///< no reply at all: the rest of the round waits
    std::string text;
  };
  net::awaitable<void> run();
  net::awaitable<void> round();
  net::awaitable<attempt> fetch(const std::string& url);
  [[nodiscard]] std::vector<dyndns_update> plan() const;

  asio::any_io_executor ex_;
  std::shared_ptr<client_context> ctx_;
  std::function<std::vector<relay_status>()> relays_;
  net::signal wake_;
  dyndns_state state_;
  std::mt19937_64 rng_{std::random_device{}()};
  std::atomic<bool> stopped_{false};
};

}  // namespace kiteline::connector
