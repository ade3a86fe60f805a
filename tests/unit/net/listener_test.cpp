// Unit tests for net::bind_endpoint and net::make_acceptor: address parsing, kernel-chosen
// ports, SO_REUSEPORT siblings, and the error of a port taken without it. Loopback only.
#include "net/listener.hpp"

#include <gtest/gtest.h>

#include <string>

#include "support/wait.hpp"

namespace kiteline::net {
namespace {

bool ipv6_loopback_available() {
  asio::io_context ctx;
  tcp::acceptor a(ctx);
  std::error_code ec;
  a.open(tcp::v6(), ec);
  if (!ec) {
    a.bind(tcp::endpoint(asio::ip::address_v6::loopback(), 0), ec);
  }
  return !ec;
}

TEST(bind_endpoint, empty_host_is_the_dual_stack_any_address) {
  const auto ep = bind_endpoint("", 8080);
  ASSERT_TRUE(ep) << ep.error().message();
  EXPECT_TRUE(ep->address().is_v6());
  EXPECT_TRUE(ep->address().to_v6().is_unspecified());
  EXPECT_EQ(ep->port(), 8080);
}

TEST(bind_endpoint, ipv4_literal_gives_an_ipv4_endpoint) {
  const auto ep = bind_endpoint("127.0.0.1", 0);
  ASSERT_TRUE(ep);
  EXPECT_TRUE(ep->address().is_v4());
  EXPECT_EQ(ep->address().to_string(), "127.0.0.1");
  EXPECT_EQ(ep->port(), 0);
}

TEST(bind_endpoint, ipv6_literal_with_and_without_brackets) {
  for (const std::string host : {"::1", "[::1]"}) {
    const auto ep = bind_endpoint(host, 443);
    ASSERT_TRUE(ep) << host;
    EXPECT_TRUE(ep->address().is_v6()) << host;
    EXPECT_EQ(ep->address().to_string(), "::1") << host;
    EXPECT_EQ(ep->port(), 443) << host;
  }
}

TEST(bind_endpoint, a_name_or_garbage_is_an_error) {
  for (const std::string host : {"localhost", "127.0.0.300", "[::1", "::1]", "[]", "1.2.3"}) {
    const auto ep = bind_endpoint(host, 80);
    EXPECT_FALSE(ep) << host;
    EXPECT_TRUE(ep.error()) << host;
  }
}

TEST(make_acceptor, port_zero_gets_a_kernel_port_that_accepts) {
  asio::io_context ctx;
  auto acc = make_acceptor(ctx, *bind_endpoint("127.0.0.1", 0));
  ASSERT_TRUE(acc) << acc.error().message();
  const auto local = acc->local_endpoint();
  EXPECT_NE(local.port(), 0);
  EXPECT_EQ(local.address().to_string(), "127.0.0.1");

  tcp::socket client(ctx);
  client.connect(local);
  tcp::socket server = acc->accept();
  EXPECT_EQ(server.remote_endpoint(), client.local_endpoint());
  asio::write(client, asio::buffer(std::string("ping")));
  std::string got(4, '\0');
  asio::read(server, asio::buffer(got));
  EXPECT_EQ(got, "ping");
}

TEST(make_acceptor, reuse_port_lets_every_worker_bind_the_same_port) {
  asio::io_context ctx;
  auto first = make_acceptor(ctx, *bind_endpoint("127.0.0.1", 0));
  ASSERT_TRUE(first);
  const std::uint16_t port = first->local_endpoint().port();
  auto second = make_acceptor(ctx, *bind_endpoint("127.0.0.1", port));
  ASSERT_TRUE(second) << second.error().message();
  EXPECT_EQ(second->local_endpoint().port(), port);
  // Both are listening: a connection lands on exactly one of them.
  tcp::socket client(ctx);
  client.connect(first->local_endpoint());
  first->non_blocking(true);
  second->non_blocking(true);
  tcp::socket a(ctx);
  tcp::socket b(ctx);
  auto try_accept = [](tcp::acceptor& acc, tcp::socket& s) {
    std::error_code ec;
    if (!s.is_open()) {
      (void)acc.accept(s, ec);
    }
  };
  ASSERT_TRUE(test::wait_for(
      [&] {
        try_accept(*first, a);
        try_accept(*second, b);
        return a.is_open() || b.is_open();
      },
      "the connection in one accept queue"));
  try_accept(*first, a);
  try_accept(*second, b);
  EXPECT_NE(a.is_open(), b.is_open());
}

TEST(make_acceptor, a_port_held_without_reuse_port_is_address_in_use) {
  asio::io_context ctx;
  tcp::acceptor holder(ctx, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0),
                       /*reuse_addr=*/false);
  const std::uint16_t port = holder.local_endpoint().port();
  auto acc = make_acceptor(ctx, *bind_endpoint("127.0.0.1", port));
  ASSERT_FALSE(acc);
  EXPECT_EQ(acc.error(), asio::error::address_in_use) << acc.error().message();
}

TEST(make_acceptor, ipv6_loopback) {
  if (!ipv6_loopback_available()) {
    GTEST_SKIP() << "no ::1 on this host";
  }
  asio::io_context ctx;
  auto acc = make_acceptor(ctx, *bind_endpoint("[::1]", 0));
  ASSERT_TRUE(acc) << acc.error().message();
  tcp::socket client(ctx);
  client.connect(acc->local_endpoint());
  tcp::socket server = acc->accept();
  EXPECT_TRUE(server.remote_endpoint().address().is_v6());
}

}  // namespace
}  // namespace kiteline::net
