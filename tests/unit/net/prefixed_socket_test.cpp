// Unit tests for net::prefixed_socket: reads replay the prefix bytes first (in pieces as small
// as the caller's buffer), then the socket's; writes go to the socket. Loopback TCP pairs.
#include "net/prefixed_socket.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "net/listener.hpp"

namespace kiteline::net {
namespace {

std::span<const std::byte> as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

/// A connected loopback pair: `server` (accepted) and `client`.
struct tcp_pair {
  asio::io_context ctx;
  tcp::socket server{ctx};
  tcp::socket client{ctx};
  tcp_pair() {
    auto acc = make_acceptor(ctx, *bind_endpoint("127.0.0.1", 0));
    EXPECT_TRUE(acc) << acc.error().message();
    client.connect(acc->local_endpoint());
    server = acc->accept();
  }
};

/// One async_read_some of up to `max` bytes, run to completion on `ctx`.
std::string read_some(asio::io_context& ctx, prefixed_socket& s, std::size_t max) {
  std::string buf(max, '\0');
  std::size_t got = 0;
  std::error_code err;
  bool done = false;
  s.async_read_some(asio::buffer(buf), [&](std::error_code ec, std::size_t n) {
    err = ec;
    got = n;
    done = true;
  });
  ctx.restart();
  while (!done && ctx.run_one() > 0) {
  }
  EXPECT_TRUE(done);
  EXPECT_FALSE(err) << err.message();
  buf.resize(got);
  return buf;
}

TEST(prefixed_socket, replays_the_prefix_before_the_socket_bytes) {
  tcp_pair p;
  prefixed_socket s(std::move(p.server), as_bytes("GET / HTTP/1.1\r\n"));
  EXPECT_EQ(s.prefix_size(), 16u);
  asio::write(p.client, asio::buffer(std::string_view("Host: a\r\n\r\n")));
  std::string all;
  const std::size_t want = 16 + 11;
  while (all.size() < want) {
    all += read_some(p.ctx, s, 64);
  }
  EXPECT_EQ(all, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_EQ(s.prefix_size(), 0u);
}

TEST(prefixed_socket, a_prefix_read_never_mixes_in_socket_bytes) {
  tcp_pair p;
  prefixed_socket s(std::move(p.server), as_bytes("abc"));
  asio::write(p.client, asio::buffer(std::string_view("XYZ")));
  // The buffer has room for 64 bytes, but the first read returns the prefix alone.
  EXPECT_EQ(read_some(p.ctx, s, 64), "abc");
  EXPECT_EQ(read_some(p.ctx, s, 64), "XYZ");
}

TEST(prefixed_socket, small_buffers_take_the_prefix_in_pieces) {
  tcp_pair p;
  prefixed_socket s(std::move(p.server), as_bytes("hello"));
  EXPECT_EQ(read_some(p.ctx, s, 2), "he");
  EXPECT_EQ(s.prefix_size(), 3u);
  EXPECT_EQ(read_some(p.ctx, s, 2), "ll");
  EXPECT_EQ(s.prefix_size(), 1u);
  EXPECT_EQ(read_some(p.ctx, s, 2), "o");
  EXPECT_EQ(s.prefix_size(), 0u);
  asio::write(p.client, asio::buffer(std::string_view("!")));
  EXPECT_EQ(read_some(p.ctx, s, 2), "!");
}

TEST(prefixed_socket, the_prefix_completion_runs_through_the_executor) {
  tcp_pair p;
  prefixed_socket s(std::move(p.server), as_bytes("x"));
  std::string buf(8, '\0');
  bool called = false;
  s.async_read_some(asio::buffer(buf), [&](std::error_code, std::size_t) { called = true; });
  EXPECT_FALSE(called) << "never inside async_read_some itself";
  p.ctx.restart();
  p.ctx.poll();
  EXPECT_TRUE(called);
}

TEST(prefixed_socket, without_a_prefix_it_is_the_socket) {
  tcp_pair p;
  prefixed_socket s(std::move(p.server));
  EXPECT_EQ(s.prefix_size(), 0u);
  asio::write(p.client, asio::buffer(std::string_view("direct")));
  std::string got;
  while (got.size() < 6) {
    got += read_some(p.ctx, s, 64);
  }
  EXPECT_EQ(got, "direct");
}

TEST(prefixed_socket, writes_go_to_the_socket) {
  tcp_pair p;
  prefixed_socket s(std::move(p.server), as_bytes("unread prefix"));
  std::error_code err;
  std::size_t n = 0;
  asio::async_write(s, asio::buffer(std::string_view("reply")),
                    [&](std::error_code ec, std::size_t k) {
                      err = ec;
                      n = k;
                    });
  p.ctx.restart();
  p.ctx.run();
  EXPECT_FALSE(err);
  EXPECT_EQ(n, 5u);
  std::string got(5, '\0');
  asio::read(p.client, asio::buffer(got));
  EXPECT_EQ(got, "reply");
  EXPECT_EQ(s.prefix_size(), 13u) << "writing does not touch the prefix";
}

TEST(prefixed_socket, replace_socket_keeps_the_bytes_still_to_replay) {
  tcp_pair p;
  prefixed_socket s(std::move(p.server), as_bytes("0123"));
  EXPECT_EQ(read_some(p.ctx, s, 1), "0");
  // The same connection adopted again (as a move to another worker does: release + assign).
  const auto fd = s.socket().release();
  tcp::socket adopted(p.ctx, tcp::v4(), fd);
  s.replace_socket(std::move(adopted));
  EXPECT_EQ(s.prefix_size(), 3u);
  asio::write(p.client, asio::buffer(std::string_view("45")));
  std::string rest;
  while (rest.size() < 5) {
    rest += read_some(p.ctx, s, 64);
  }
  EXPECT_EQ(rest, "12345");
}

TEST(prefixed_socket, a_full_read_through_asio_read) {
  tcp_pair p;
  prefixed_socket s(std::move(p.server), as_bytes("HEAD"));
  asio::write(p.client, asio::buffer(std::string_view("BODY")));
  std::string buf(8, '\0');
  std::error_code err;
  asio::async_read(s, asio::buffer(buf), [&](std::error_code ec, std::size_t) { err = ec; });
  p.ctx.restart();
  p.ctx.run();
  EXPECT_FALSE(err);
  EXPECT_EQ(buf, "HEADBODY");
}

TEST(prefixed_socket, end_of_stream_after_the_prefix) {
  tcp_pair p;
  prefixed_socket s(std::move(p.server), as_bytes("last"));
  p.client.shutdown(tcp::socket::shutdown_send);
  EXPECT_EQ(read_some(p.ctx, s, 64), "last");
  std::string buf(8, '\0');
  std::error_code err;
  s.async_read_some(asio::buffer(buf), [&](std::error_code ec, std::size_t) { err = ec; });
  p.ctx.restart();
  p.ctx.run();
  EXPECT_EQ(err, asio::error::eof);
}

}  // namespace
}  // namespace kiteline::net
