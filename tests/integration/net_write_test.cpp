// net::transfer_whole: asio::async_write hands the socket the whole rest in every call.
#include <chrono>
#include <cstddef>
#include <limits>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "net/asio.hpp"
#include "support/test_env.hpp"

namespace kiteline::net {
namespace {

/// A write stream over a socket that records what each write_some was offered and took.
struct counting_stream {
  using executor_type = tcp::socket::executor_type;
  tcp::socket& socket;
  std::vector<std::size_t>& offered;
  std::vector<std::size_t>& taken;

  executor_type get_executor() noexcept { return socket.get_executor(); }

  template <typename ConstBufferSequence, typename Handler>
  void async_write_some(const ConstBufferSequence& buffers, Handler&& handler) {
    offered.push_back(asio::buffer_size(buffers));
    socket.async_write_some(buffers, [this, h = std::forward<Handler>(handler)](
                                         std::error_code ec, std::size_t n) mutable {
      taken.push_back(n);
      std::move(h)(ec, n);
    });
  }
};

TEST(transfer_whole, offers_the_whole_rest_to_each_write_and_delivers_every_byte) {
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  tcp::socket writer(io);
  writer.connect(acceptor.local_endpoint());
  tcp::socket reader = acceptor.accept();

  const auto sent = test::pattern(7).bytes(1024 * 1024 + 7);
  std::vector<std::byte> got(sent.size());
  std::vector<std::size_t> offered;
  std::vector<std::size_t> taken;
  std::error_code write_ec = asio::error::would_block;
  std::error_code read_ec = asio::error::would_block;
  std::size_t written = 0;
  std::size_t read = 0;

  counting_stream stream{writer, offered, taken};
  asio::async_write(stream, asio::buffer(sent), transfer_whole{},
                    [&](std::error_code ec, std::size_t n) {
                      write_ec = ec;
                      written = n;
                    });
  asio::async_read(reader, asio::buffer(got), [&](std::error_code ec, std::size_t n) {
    read_ec = ec;
    read = n;
  });
  io.run_for(std::chrono::seconds(20));

  ASSERT_FALSE(write_ec) << write_ec.message();
  ASSERT_FALSE(read_ec) << read_ec.message();
  EXPECT_EQ(written, sent.size());
  EXPECT_EQ(read, sent.size());
  EXPECT_EQ(got, sent);
  // Every call is offered all that is still unsent; asio's default condition (transfer_all)
  // would offer at most 64 KiB per call.
  ASSERT_EQ(offered.size(), taken.size());
  std::size_t unsent = sent.size();
  for (std::size_t i = 0; i < offered.size(); ++i) {
    EXPECT_EQ(offered[i], unsent) << "call " << i;
    unsent -= taken[i];
  }
  EXPECT_EQ(unsent, 0u);
}

TEST(transfer_whole, stops_on_an_error) {
  EXPECT_EQ(transfer_whole{}(std::error_code{}, 0), std::numeric_limits<std::size_t>::max());
  EXPECT_EQ(transfer_whole{}(asio::error::broken_pipe, 10), 0u);
}

}  // namespace
}  // namespace kiteline::net
