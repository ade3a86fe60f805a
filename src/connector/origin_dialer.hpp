// connector::origin_dialer: answers the streams a relay opens on one tunnel: --max_conns
// accounting, the service and +ip checks, the HTTP rewriter, and dialing the origin within the
// origin connect timeout (refusing the stream when it cannot be served).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "connector/client_context.hpp"
#include "connector/request_ring.hpp"
#include "mux/actions.hpp"
#include "net/asio.hpp"
#include "tunnel/link.hpp"

namespace kiteline::connector {

/// One per tunnel_client; lives on its executor and is called only there. Holds no state of its
/// own between streams beyond the shared client counters, so it may be used across tunnels.
class origin_dialer {
 public:
  /// `ctx` must outlive the executor's io_context run (connector::client guarantees it);
  /// `label` is the relay's "host:port" for log lines.
  origin_dialer(asio::any_io_executor ex, std::shared_ptr<client_context> ctx, std::string label);

  /// A new stream on `link` (tunnel::link::hooks::open_local). Counts it against --max_conns
  /// (until stream_ended()), then refuses it or spawns the origin dial, which attaches the
  /// origin socket to the link or refuses the stream. `uuid` is the relay's (for 503 pages).
  /// Called inside the link's action loop: refusals are posted, never run inline.
  void open(const mux::open_local& o, const std::shared_ptr<kiteline::tunnel::link>& link,
            std::string_view uuid);

  /// A stream opened through open() left the link's table, whatever ended it
  /// (tunnel::link::hooks::stream_ended): the --max_conns gauge cannot drift.
  void stream_ended() noexcept;

  /// The last streams opened through this dialer and its copies (console). Executor only.
  [[nodiscard]] std::vector<request_entry> recent_requests() const { return requests_->recent(); }

 private:
  void refuse_later(const std::shared_ptr<kiteline::tunnel::link>& link, wire::sid_t sid,
                    std::string reply);

  asio::any_io_executor ex_;
  std::shared_ptr<client_context> ctx_;
  std::string label_;
  std::shared_ptr<request_ring> requests_ = std::make_shared<request_ring>();
  void note(const mux::open_local& o, std::string outcome);
};

}  // namespace kiteline::connector
