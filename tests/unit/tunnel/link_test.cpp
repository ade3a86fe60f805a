// tunnel::link driven over a loopback socket pair as its tunnel. The test holds the far end of
// the tunnel and of every local socket and scripts it: bytes in any split (down to one at a
// time), a peer that stalls (stops reading), a tunnel that fails (FIN or RST) after any byte.
// link_memory_test.cpp drives it over an in-memory tunnel with injected faults.
#include <gtest/gtest.h>

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <spdlog/logger.h>

#include "net/asio.hpp"
#include "net/prefixed_socket.hpp"
#include "tls/transport.hpp"
#include "tunnel/link.hpp"
#include "unit/tunnel/link_harness.hpp"
#include "wire/chunk_encoder.hpp"
#include "wire/frame_decoder.hpp"

namespace kiteline::tunnel {
namespace {

using namespace std::chrono_literals;
using namespace kiteline::test;

// One relay-role link over a tunnel socket pair, with its hooks recorded.
struct link_fixture : link_events {
  asio::io_context io;
  socket_pair tunnel;
  std::shared_ptr<link> lk;

  explicit link_fixture(link_options opts = {}, int tunnel_buffer = 0)
      : tunnel(make_socket_pair(io, tunnel_buffer)) {
    lk = std::make_shared<link>(plain(std::move(tunnel.ours)), opts, recording_hooks(),
                                std::make_shared<spdlog::logger>("link_test"), "test");
    lk->start({});
  }
  ~link_fixture() { (void)close_and_free(io, lk); }
  link_fixture(const link_fixture&) = delete;
  link_fixture& operator=(const link_fixture&) = delete;

  [[nodiscard]] bool run_until(const std::function<bool()>& done) {
    return kiteline::test::run_until(io, done);
  }

  // A visitor attached to the link: the test's end of its socket, and its SID (learnt from its
  // first chunk, which `r` reads from the tunnel).
  struct visitor {
    net::tcp::socket socket;
    wire::sid_t sid = 0;
  };
  visitor attach(const std::string& first, tunnel_reader& r) {
    auto v = make_socket_pair(io);
    const mux::stream_open info{"http", "a.test", 80, "127.0.0.1", 4321, false};
    EXPECT_TRUE(lk->attach_visitor(plain(std::move(v.ours)), info, bytes_of(first)));
    EXPECT_TRUE(run_until([&] {
      r.read_from(tunnel.theirs);
      return !r.data.empty();
    }));
    return {std::move(v.theirs), r.data.empty() ? 0 : r.data.begin()->first};
  }
};

TEST(Link, VisitorBytesReachTheTunnelExactly) {
  link_fixture f;
  const std::string first = "GET / HTTP/1.1\r\nHost: a.test\r\n\r\n";
  tunnel_reader r;
  auto v = f.attach(first, r);
  auto& visitor = v.socket;
  const wire::sid_t sid = v.sid;
  const std::string body = pattern(600 * 1024);  // below the stream's send window
  std::size_t sent = 0;
  ASSERT_TRUE(f.run_until([&] {
    write_available(visitor, body, sent);
    r.read_from(f.tunnel.theirs);
    return r.data[sid].size() == first.size() + body.size();
  }));
  EXPECT_EQ(r.data.size(), 1U);
  EXPECT_EQ(r.data[sid], first + body);
  EXPECT_FALSE(f.closed_why);
}

TEST(Link, TunnelBytesReachTheVisitorExactlyAtEverySplit) {
  for (std::size_t step : {1U, 2U, 7U, 100U, 4096U, 1U << 20}) {
    link_fixture f;
    tunnel_reader r;
    auto v = f.attach("x", r);
    auto& visitor = v.socket;
    const wire::sid_t sid = v.sid;
    const std::string a = pattern(300);
    const std::string b = "second chunk";
    const std::string c = pattern(20000);
    const std::string wire_bytes =
        encode_chunk(sid, a) + encode_chunk(sid, b) + encode_chunk(sid, c);
    std::string got;
    for (std::size_t at = 0; at < wire_bytes.size(); at += step) {
      const std::size_t n = std::min(step, wire_bytes.size() - at);
      std::size_t written = 0;
      const std::string piece = wire_bytes.substr(at, n);
      ASSERT_TRUE(f.run_until([&] {
        write_available(f.tunnel.theirs, piece, written);
        return written == piece.size() && f.lk->stats().bytes_in == at + n;
      })) << "step " << step << " at " << at;
    }
    ASSERT_TRUE(f.run_until([&] {
      (void)read_available(visitor, got);
      return got.size() >= a.size() + b.size() + c.size();
    })) << "step " << step;
    EXPECT_EQ(got, a + b + c) << "step " << step;
    EXPECT_FALSE(f.closed_why);
  }
}

TEST(Link, FullOutboxPausesTheTunnelReader) {
  link_options opts;
  opts.probation = true;  // a 64 KiB outbox limit
  link_fixture f(opts, 4096);
  // The peer sends PINGs and stalls (reads nothing): every PING queues a PONG.
  constexpr std::size_t count = 20000;
  std::string pings;
  for (std::size_t i = 0; i < count; ++i) {
    pings.append(wire::make_ping("p").text());
  }
  std::size_t sent = 0;
  ASSERT_TRUE(f.run_until([&] {
    write_available(f.tunnel.theirs, pings, sent);
    return f.lk->stats().reads_held > 0;
  }));
  // The reader stopped at the limit: the outbox holds at most one frame's answer beyond it.
  EXPECT_LE(f.lk->outbox_size(), opts.probation_outbox_limit + 64);
  EXPECT_LT(f.lk->stats().bytes_in, pings.size());
  // Once the peer reads, reading resumes and every PING gets its PONG.
  tunnel_reader r;
  ASSERT_TRUE(f.run_until([&] {
    write_available(f.tunnel.theirs, pings, sent);
    r.read_from(f.tunnel.theirs);
    return r.pongs == count;
  }));
  EXPECT_FALSE(f.closed_why);
}

// The tunnel ends after any byte of a frame: the link closes with the peer's reason and ends
// the stream, whose local socket got at most the data that arrived.
TEST(Link, TunnelLostMidFrameClosesTheLinkAndItsStreams) {
  const std::string body = pattern(100);
  for (const bool reset : {false, true}) {
    std::string frame;
    for (std::size_t cut = 0;; ++cut) {
      link_fixture f;
      tunnel_reader r;
      auto v = f.attach("x", r);
      auto& visitor = v.socket;
      const wire::sid_t sid = v.sid;
      frame = encode_chunk(sid, body);
      std::size_t sent = 0;
      const std::string part = frame.substr(0, cut);
      ASSERT_TRUE(f.run_until([&] {
        write_available(f.tunnel.theirs, part, sent);
        return sent == part.size() && f.lk->stats().bytes_in == part.size();
      }));
      if (reset) {
        f.tunnel.theirs.set_option(asio::socket_base::linger(true, 0));
      }
      f.tunnel.theirs.close();
      ASSERT_TRUE(f.run_until([&] { return f.closed_why.has_value(); })) << cut;
      if (reset) {
        // Linux reports a reset once: when a write of ours (an SKB for delivered data) met it
        // first, the next read sees an end of stream.
        EXPECT_TRUE(*f.closed_why == std::error_code(asio::error::connection_reset).message() ||
                    *f.closed_why == "tunnel closed by peer")
            << cut << ": " << *f.closed_why;
      } else {
        EXPECT_EQ(*f.closed_why, "tunnel closed by peer") << cut;
      }
      EXPECT_TRUE(f.lk->closed());
      EXPECT_EQ(f.ended, std::vector<wire::sid_t>{sid}) << cut;
      EXPECT_EQ(f.lk->stream_count(), 0U);
      std::string got;
      ASSERT_TRUE(f.run_until([&] { return !read_available(visitor, got); })) << cut;
      EXPECT_TRUE(body.starts_with(got)) << cut;
      if (cut + 1 >= frame.size()) {
        break;
      }
    }
  }
}

TEST(Link, MalformedFrameClosesTheLinkWithAFramingError) {
  link_fixture f;
  tunnel_reader r;
  auto v = f.attach("x", r);
  auto& visitor = v.socket;
  const wire::sid_t sid = v.sid;
  const std::string bad = "zz\r\nSID: 1\r\n\r\n";
  std::size_t sent = 0;
  ASSERT_TRUE(f.run_until([&] {
    write_available(f.tunnel.theirs, bad, sent);
    return f.closed_why.has_value();
  }));
  EXPECT_TRUE(f.closed_why->starts_with("framing error: ")) << *f.closed_why;
  EXPECT_EQ(f.ended, std::vector<wire::sid_t>{sid});
  std::string got;
  ASSERT_TRUE(f.run_until([&] { return !read_available(visitor, got); }));
}

}  // namespace
}  // namespace kiteline::tunnel
