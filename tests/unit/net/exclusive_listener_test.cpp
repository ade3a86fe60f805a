// Unit tests for net::make_exclusive_acceptor and net::share_acceptor: one listening socket per
// port that no other socket can join (not even with SO_REUSEPORT), shared by the workers through
// dup()ed descriptors; and describe_listen_error's text. Loopback only.
#include <gtest/gtest.h>

#include <string>

#include <sys/socket.h>

#include "net/listener.hpp"
#include "support/wait.hpp"

namespace kiteline::net {
namespace {

TEST(make_exclusive_acceptor, nobody_can_join_the_port_even_with_reuse_port) {
  asio::io_context ctx;
  auto first = make_exclusive_acceptor(ctx, *bind_endpoint("127.0.0.1", 0));
  ASSERT_TRUE(first) << first.error().message();
  const std::uint16_t port = first->local_endpoint().port();
  // What a second relay did before: an SO_REUSEPORT acceptor on the same port.
  auto joined = make_acceptor(ctx, *bind_endpoint("127.0.0.1", port));
  ASSERT_FALSE(joined);
  EXPECT_EQ(joined.error(), asio::error::address_in_use) << joined.error().message();
  auto second = make_exclusive_acceptor(ctx, *bind_endpoint("127.0.0.1", port));
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error(), asio::error::address_in_use);
}

TEST(make_exclusive_acceptor, a_port_held_by_a_reuse_port_socket_is_refused_too) {
  asio::io_context ctx;
  auto other = make_acceptor(ctx, *bind_endpoint("127.0.0.1", 0));
  ASSERT_TRUE(other);
  const std::uint16_t port = other->local_endpoint().port();
  auto acc = make_exclusive_acceptor(ctx, *bind_endpoint("127.0.0.1", port));
  ASSERT_FALSE(acc);
  EXPECT_EQ(acc.error(), asio::error::address_in_use);
}

TEST(share_acceptor, every_handle_accepts_from_the_one_queue_and_closing_one_keeps_it) {
  asio::io_context a_ctx;
  asio::io_context b_ctx;
  auto first = make_exclusive_acceptor(a_ctx, *bind_endpoint("127.0.0.1", 0));
  ASSERT_TRUE(first);
  auto shared = share_acceptor(b_ctx, *first);
  ASSERT_TRUE(shared) << shared.error().message();
  EXPECT_NE(shared->native_handle(), first->native_handle());
  EXPECT_EQ(shared->local_endpoint(), first->local_endpoint());
  const auto ep = first->local_endpoint();
  // A connection waits in the one queue: the shared handle takes the first, the first handle
  // the second.
  tcp::socket c1(a_ctx);
  c1.connect(ep);
  tcp::socket s1 = shared->accept();
  EXPECT_EQ(s1.remote_endpoint(), c1.local_endpoint());
  tcp::socket c2(a_ctx);
  c2.connect(ep);
  tcp::socket s2 = first->accept();
  EXPECT_EQ(s2.remote_endpoint(), c2.local_endpoint());
  // Closing worker 0's handle leaves the socket listening for the other worker.
  first->close();
  tcp::socket c3(a_ctx);
  c3.connect(ep);
  tcp::socket s3 = shared->accept();
  EXPECT_EQ(s3.remote_endpoint(), c3.local_endpoint());
  // The last handle closed: the port is free again.
  shared->close();
  auto again = make_exclusive_acceptor(a_ctx, ep);
  EXPECT_TRUE(again) << again.error().message();
}

TEST(describe_listen_error, address_in_use_names_the_port_and_the_likely_cause) {
  EXPECT_EQ(describe_listen_error("127.0.0.1:8080", asio::error::address_in_use),
            "cannot listen on 127.0.0.1:8080: port already in use by another process (is "
            "another relay running?)");
  EXPECT_EQ(describe_listen_error("*:80", std::make_error_code(std::errc::address_in_use)),
            "cannot listen on *:80: port already in use by another process (is another relay "
            "running?)");
  const auto denied = std::make_error_code(std::errc::permission_denied);
  EXPECT_EQ(describe_listen_error("*:80", denied), "cannot listen on *:80: " + denied.message());
}

}  // namespace
}  // namespace kiteline::net
