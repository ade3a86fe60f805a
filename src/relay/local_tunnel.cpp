// server::open_local_tunnel: the tunnel of the relay's own connector, which serves the kites
// the relay serves itself (pagekite.py: --service_on on an --isfrontend process, "served through
// an internal loop-back tunnel without authentication", spec §8.1).
//
// Why a loopback TCP pair and not an in-memory link: the in-process connector is an ordinary
// connector::client (HTTP rewriting, +flags, the folder server, --max_conns, origin timeouts,
// its own counters), so its tunnel should be an ordinary tunnel: the same link, flow control,
// fd moves and socket options on both ends, and no second code path to keep equal. The pair
// exists only inside this process (its listener lives for the connect() and takes only the
// socket this call connected), so nothing outside can reach the tunnel, and the kites it asks
// for (relay_config::local_kites, and only those) are trusted without a signature or a
// challenge round trip.
#include "core/text.hpp"
#include "net/loopback_pair.hpp"
#include "net/spawn.hpp"
#include "relay/server.hpp"
#include "relay/server_impl.hpp"
#include "wire/head.hpp"

namespace kiteline::relay {
namespace {

/// The tunnel request of the relay's own connector: read its head (bounded in size and by
/// --visitor_timeout), then the tunnel job answers it like any other, trusted.
net::awaitable<void> local_tunnel(server::impl& srv, std::size_t worker, tls::transport t) {
  using namespace asio::experimental::awaitable_operators;
  constexpr std::size_t max_head = 64 * 1024;
  asio::steady_timer timer(co_await asio::this_coro::executor);
  timer.expires_after(srv.cfg().visitor_timeout);
  std::vector<std::byte> buf;
  std::array<std::byte, 4096> chunk{};
  for (;;) {
    auto r = co_await (t.read_some(chunk) || timer.async_wait(net::use_tuple));
    if (r.index() == 1) {
      srv.log().warn("local tunnel: no tunnel request within {} s", srv.cfg().visitor_timeout.count());
      t.close();
      co_return;
    }
    auto [ec, n] = std::get<0>(r);
    if (ec || n == 0) {
      t.close();
      co_return;
    }
    buf.insert(buf.end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(n));
    const auto scan = wire::find_head_end(as_text(buf), max_head);
    if (!scan) {
      srv.log().warn("local tunnel: {}", scan.error().message());
      t.close();
      co_return;
    }
    if (!scan->need_more()) {
      co_await srv.tunnel_job.run(worker, std::move(t), std::move(buf), scan->end, "local", true);
      co_return;
    }
  }
}

}  // namespace

result<net::tcp::socket> server::open_local_tunnel(const asio::any_io_executor& connector_ex) {
  if (!impl_ || impl_->stopping || impl_->draining) {
    // Stopping, or draining (SIGTERM): the local kites go with the relay, as every other kite.
    return make_error_code(asio::error::shut_down);
  }
  const std::size_t worker = impl_->round_robin.fetch_add(1) % impl_->pool.size();
  auto pair =
      net::make_loopback_pair(connector_ex, impl_->pool.context(worker).get_executor());
  if (!pair) {
    return pair.error();
  }
  tls::transport t{net::prefixed_socket(std::move(pair->second))};
  asio::co_spawn(impl_->pool.context(worker), local_tunnel(*impl_, worker, std::move(t)),
                 net::log_failure(log_, "local tunnel failed"));
  return std::move(pair->first);
}

}  // namespace kiteline::relay
