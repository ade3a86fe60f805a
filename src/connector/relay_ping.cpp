#include "connector/relay_ping.hpp"

#include <array>
#include <string_view>

#include "wire/ping.hpp"

namespace kiteline::connector {

using namespace asio::experimental::awaitable_operators;

net::awaitable<ping_outcome> ping_relay(asio::any_io_executor ex, net::tcp::endpoint ep,
                                        std::chrono::milliseconds timeout) {
  ping_outcome out;
  const auto started = std::chrono::steady_clock::now();
  const auto deadline = started + timeout;
  net::tcp::socket sock(ex);
  asio::steady_timer timer(ex);
  timer.expires_at(deadline);
  auto c = co_await (sock.async_connect(ep, net::use_tuple) || timer.async_wait(net::use_tuple));
  if (c.index() == 1) {
    out.error = asio::error::timed_out;
    out.why = "ping: connect timed out";
    co_return out;
  }
  if (auto [ec] = std::get<0>(c); ec) {
    out.error = ec;
    out.why = "ping: connect failed: " + ec.message();
    co_return out;
  }
  auto req = wire::ping_request();
  timer.expires_at(deadline);
  auto w = co_await (asio::async_write(sock, asio::buffer(req.data(), req.size()), net::use_tuple) ||
                     timer.async_wait(net::use_tuple));
  if (w.index() == 1 || std::get<0>(std::get<0>(w))) {
    out.error = w.index() == 1 ? std::error_code(asio::error::timed_out)
                               : std::get<0>(std::get<0>(w));
    out.why = "ping: write failed: " + out.error.message();
    co_return out;
  }
  std::array<char, 1024> buf{};
  std::size_t have = 0;
  // Bounded: at most sizeof(buf) bytes and `timeout` in total.
  while (have < buf.size()) {
    timer.expires_at(deadline);
    auto r = co_await (sock.async_read_some(asio::buffer(buf.data() + have, buf.size() - have),
                                            net::use_tuple) ||
                       timer.async_wait(net::use_tuple));
    if (r.index() == 1) {
      break;
    }
    auto [ec, n] = std::get<0>(r);
    have += n;
    if (ec || n == 0) {
      break;  // the reference relay closes (often with RST) right after its reply
    }
    std::string_view text(buf.data(), have);
    if (text.find("\r\n\r\n") != std::string_view::npos) {
      break;
    }
  }
  std::error_code ignored;
  sock.close(ignored);
  auto reply = wire::check_ping_reply(std::string_view(buf.data(), have));
  if (!reply) {
    out.error = reply.error();
    out.why = have == 0 ? "ping: no reply" : "ping: not a PageKite relay (bad reply)";
    co_return out;
  }
  out.uuid = reply->uuid;
  out.overloaded = reply->overloaded;
  out.rtt = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - started);
  co_return out;
}

}  // namespace kiteline::connector
