// The forwarding side of relay/peer_forward.hpp.
#include "relay/peer_forward.hpp"

#include "core/text.hpp"
#include "fleet/holder_lookup.hpp"
#include "fleet/peer_mark.hpp"
#include "relay/server_impl.hpp"
#include "wire/proxy_v2.hpp"

#include <array>
#include <cerrno>
#include <chrono>
#include <fcntl.h>
#include <unistd.h>
#include <vector>

namespace kiteline::relay {

using net::awaitable;
using net::tcp;
using net::use_tuple;

namespace {

constexpr auto connect_timeout = std::chrono::seconds(2);
constexpr std::size_t max_holders_tried = 3;
constexpr std::size_t splice_buffer = 64 * 1024;

/// `a` as the 16 bytes of the header (IPv4 in the first 4 unless `v6`: then v4-mapped).
std::array<std::uint8_t, 16> header_bytes(const asio::ip::address& a, bool v6) {
  std::array<std::uint8_t, 16> out{};
  if (!v6) {
    const auto b = a.to_v4().to_bytes();
    std::copy(b.begin(), b.end(), out.begin());
    return out;
  }
  const auto b = a.is_v6() ? a.to_v6().to_bytes()
                           : asio::ip::make_address_v6(asio::ip::v4_mapped, a.to_v4()).to_bytes();
  std::copy(b.begin(), b.end(), out.begin());
  return out;
}

/// Closes both sides: an error on either ends both directions.
void close_both(tcp::socket& a, tcp::socket& b) {
  std::error_code ec;
  a.close(ec);
  b.close(ec);
}

/// One direction with read/write through a buffer (when no pipe can be had).
awaitable<void> copy(tcp::socket& from, tcp::socket& to, std::uint64_t& moved) {
  std::vector<std::byte> buf(splice_buffer);
  for (;;) {
    auto [ec, n] = co_await from.async_read_some(asio::buffer(buf), use_tuple);
    if (n > 0) {
      auto [wec, wn] = co_await asio::async_write(to, asio::buffer(buf.data(), n), use_tuple);
      moved += wn;
      if (wec) {
        break;
      }
    }
    if (ec == asio::error::eof) {
      std::error_code sec;
      to.shutdown(tcp::socket::shutdown_send, sec);
      co_return;
    }
    if (ec) {
      break;
    }
  }
  close_both(from, to);
}

/// One direction of the splice: `from`'s bytes to `to` until `from` ends (then `to` is
/// half-closed) or either fails (then both are closed, which ends the other direction). The
/// bytes go socket -> pipe -> socket with splice(2), never copied to user space (this is the
/// data path of every forwarded visitor). Both sockets are non-blocking. `moved` counts the
/// bytes read from `from` (one add per splice call).
awaitable<void> pump(tcp::socket& from, tcp::socket& to, std::uint64_t& moved) {
  int p[2];
  if (::pipe2(p, O_NONBLOCK | O_CLOEXEC) != 0) {
    co_await copy(from, to, moved);
    co_return;
  }
  (void)::fcntl(p[1], F_SETPIPE_SZ, static_cast<int>(splice_buffer * 4));
  bool eof = false;
  for (;;) {
    const ssize_t n = ::splice(from.native_handle(), nullptr, p[1], nullptr, splice_buffer * 4,
                               SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    if (n == 0) {
      eof = true;
      break;
    }
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) {
        auto [ec] = co_await from.async_wait(tcp::socket::wait_read, use_tuple);
        if (ec) {
          break;
        }
        continue;
      }
      break;
    }
    moved += static_cast<std::uint64_t>(n);
    auto left = static_cast<std::size_t>(n);
    bool failed = false;
    while (left > 0) {
      const ssize_t m = ::splice(p[0], nullptr, to.native_handle(), nullptr, left,
                                 SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
      if (m < 0 && (errno == EAGAIN || errno == EINTR)) {
        auto [ec] = co_await to.async_wait(tcp::socket::wait_write, use_tuple);
        if (ec) {
          failed = true;
          break;
        }
        continue;
      }
      if (m <= 0) {
        failed = true;
        break;
      }
      left -= static_cast<std::size_t>(m);
    }
    if (failed) {
      break;
    }
  }
  ::close(p[0]);
  ::close(p[1]);
  if (eof) {
    std::error_code sec;
    to.shutdown(tcp::socket::shutdown_send, sec);
    co_return;
  }
  close_both(from, to);
}

}  // namespace

bool may_forward(server::impl& srv, const tls::transport& t, bool forwarded) {
  return srv.holders != nullptr && !forwarded && !t.is_tls();
}

awaitable<bool> forward_to_peer(server::impl& srv, tls::transport& t, std::string kite,
                                std::span<const std::byte> replay, std::string peer,
                                std::uint16_t peer_port, std::string_view proto,
                                std::chrono::steady_clock::time_point started) {
  using namespace asio::experimental::awaitable_operators;
  auto ex = co_await asio::this_coro::executor;
  const auto holders = co_await srv.holders->async_find(kite, asio::use_awaitable);
  if (holders.empty()) {
    srv.stats.fleet.failed(forward_failure::no_holder);
    co_return false;
  }
  std::error_code ec;
  const auto local = t.socket().local_endpoint(ec);
  const auto visitor = asio::ip::make_address(peer, ec);
  if (ec) {
    srv.stats.fleet.failed(forward_failure::holders_failed);
    co_return false;
  }
  wire::proxy_header h;
  h.ipv6 = visitor.is_v6() || local.address().is_v6();
  h.src = header_bytes(visitor, h.ipv6);
  h.dst = header_bytes(local.address(), h.ipv6);
  h.src_port = peer_port;
  h.dst_port = local.port();
  std::size_t tried = 0;
  for (const auto& holder : holders) {
    if (tried++ == max_holders_tried) {
      break;
    }
    const auto addr = asio::ip::make_address(holder, ec);
    if (ec) {
      continue;
    }
    tcp::socket s(ex);
    asio::steady_timer timer(ex);
    timer.expires_after(connect_timeout);
    auto r = co_await (s.async_connect(tcp::endpoint(addr, srv.cfg().fleet.port), use_tuple) ||
                       timer.async_wait(use_tuple));
    const std::error_code cec =
        r.index() == 1 ? make_error_code(asio::error::timed_out) : std::get<0>(std::get<0>(r));
    if (cec) {
      srv.log().warn("fleet peer {}:{} unreachable for kite={}: {}", holder, srv.cfg().fleet.port,
                     kite, cec.message());
      continue;
    }
    s.set_option(tcp::no_delay(true), ec);
    s.non_blocking(true, ec);
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
        std::chrono::system_clock::now().time_since_epoch());
    const auto header = fleet::sign_peer_header(h, static_cast<std::uint64_t>(now.count()),
                                                srv.cfg().fleet.peer_secret.reveal());
    const std::array<asio::const_buffer, 2> out{asio::buffer(header),
                                                asio::buffer(replay.data(), replay.size())};
    auto [wec, wn] = co_await asio::async_write(s, out, use_tuple);
    if (wec) {
      srv.log().warn("fleet peer {}:{} write failed for kite={}: {}", holder, srv.cfg().fleet.port,
                     kite, wec.message());
      continue;
    }
    ++srv.counters().visitors_routed;
    srv.stats.fleet.forwarded.add();
    srv.log().info("visitor forwarded rip={} kite={} peer={}:{} hops=1", peer, kite, holder,
                   srv.cfg().fleet.port);
    tcp::socket& v = t.socket();
    v.non_blocking(true, ec);  // already, from the accept (pump needs it for splice)
    std::uint64_t from_visitor = 0;
    std::uint64_t to_visitor = 0;
    co_await (pump(v, s, from_visitor) && pump(s, v, to_visitor));
    t.close();
    s.close(ec);
    srv.log_visitor(started, peer, peer_port, kite, proto, srv.reported_port(local.port()),
                    as_text(replay), "", "forwarded to " + holder, from_visitor, to_visitor);
    co_return true;
  }
  srv.stats.fleet.failed(forward_failure::holders_failed);
  co_return false;
}

}  // namespace kiteline::relay
