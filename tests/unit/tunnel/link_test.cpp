// tunnel::link driven over loopback socket pairs. The test holds the far end of the tunnel and
// of every local socket and scripts it: bytes in any split (down to one at a time), a peer that
// stalls (stops reading), a tunnel that fails (FIN or RST) after any byte. A true in-memory
// transport would need tls::transport to grow a third alternative; sockets keep the link's
// real code paths (non-blocking reads into the outbox, gather writes) under test.
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
#include "wire/chunk_encoder.hpp"
#include "wire/frame_decoder.hpp"

namespace kiteline::tunnel {
namespace {

using namespace std::chrono_literals;

struct socket_pair {
  net::tcp::socket ours;    // given to the link
  net::tcp::socket theirs;  // scripted by the test (non-blocking)
};

socket_pair make_socket_pair(asio::io_context& io, int buffer_size = 0) {
  net::tcp::acceptor acceptor(io, net::tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  net::tcp::socket ours(io);
  ours.open(net::tcp::v4());
  if (buffer_size > 0) {
    ours.set_option(asio::socket_base::send_buffer_size(buffer_size));
    acceptor.set_option(asio::socket_base::receive_buffer_size(buffer_size));
  }
  ours.connect(acceptor.local_endpoint());
  net::tcp::socket theirs = acceptor.accept();
  theirs.non_blocking(true);
  return {std::move(ours), std::move(theirs)};
}

tls::transport plain(net::tcp::socket&& s) {
  return tls::transport(net::prefixed_socket(std::move(s)));
}

std::span<const std::byte> bytes_of(const std::string& s) { return std::as_bytes(std::span(s)); }

std::string pattern(std::size_t n) {
  std::string s(n, '\0');
  std::uint32_t x = 12345;
  for (auto& c : s) {
    x = x * 1103515245 + 12345;
    c = static_cast<char>(x >> 24);
  }
  return s;
}

std::string encode_chunk(wire::sid_t sid, const std::string& data) {
  wire::chunk_headers h;
  h.sid = sid;
  std::vector<std::byte> head(wire::chunk_head_size_bound(h));
  head.resize(wire::encode_chunk_head(head, h, data.size()));
  return std::string(reinterpret_cast<const char*>(head.data()), head.size()) + data;
}

// Appends what is readable now; false once the socket reached EOF or failed.
bool read_available(net::tcp::socket& s, std::string& into) {
  std::array<char, 64 * 1024> buf{};
  for (;;) {
    std::error_code ec;
    const std::size_t n = s.read_some(asio::buffer(buf), ec);
    if (ec == asio::error::would_block) {
      return true;
    }
    if (ec || n == 0) {
      return false;
    }
    into.append(buf.data(), n);
  }
}

// Writes as much of `data` from `at` as the socket takes now.
void write_available(net::tcp::socket& s, const std::string& data, std::size_t& at) {
  while (at < data.size()) {
    std::error_code ec;
    const std::size_t n = s.write_some(asio::buffer(data.data() + at, data.size() - at), ec);
    if (ec) {
      return;
    }
    at += n;
  }
}

// What the link sent down the tunnel, decoded.
struct tunnel_reader {
  wire::frame_decoder decoder{wire::frame_limits{}, false};
  std::map<wire::sid_t, std::string> data;
  std::size_t pongs = 0;
  std::optional<wire::sid_t> sid;

  void feed(std::span<const std::byte> in) {
    for (;;) {
      auto step = decoder.feed(in);
      in = in.subspan(step.consumed);
      if (step.event == wire::frame_event::need_more) {
        return;
      }
      ASSERT_NE(step.event, wire::frame_event::error) << step.error.message();
      if (step.event == wire::frame_event::headers) {
        const auto& h = decoder.headers();
        sid = h.noop ? std::nullopt : h.sid;
        if (h.pong) {
          ++pongs;
        }
      } else if (step.event == wire::frame_event::data && sid) {
        auto d = decoder.data();
        data[*sid].append(reinterpret_cast<const char*>(d.data()), d.size());
      }
    }
  }
  void read_from(net::tcp::socket& s) {
    std::string got;
    (void)read_available(s, got);
    feed(bytes_of(got));
  }
};

// One relay-role link over a tunnel socket pair, with its hooks recorded.
struct link_fixture {
  asio::io_context io;
  socket_pair tunnel;
  std::shared_ptr<link> lk;
  std::optional<std::string> closed_why;
  std::vector<wire::sid_t> ended;

  explicit link_fixture(link_options opts = {}, int tunnel_buffer = 0)
      : tunnel(make_socket_pair(io, tunnel_buffer)) {
    link::hooks h;
    h.closed = [this](const std::string& why) { closed_why = why; };
    h.stream_ended = [this](wire::sid_t sid) { ended.push_back(sid); };
    lk = std::make_shared<link>(plain(std::move(tunnel.ours)), opts, std::move(h),
                                std::make_shared<spdlog::logger>("link_test"), "test");
    lk->start({});
  }
  ~link_fixture() {
    lk->close();
    std::weak_ptr<link> w = lk;
    lk.reset();
    for (int i = 0; i < 1000 && !w.expired(); ++i) {
      io.run_one_for(1ms);
    }
  }
  link_fixture(const link_fixture&) = delete;
  link_fixture& operator=(const link_fixture&) = delete;

  // Runs the link until `done` holds (false after 10 s).
  [[nodiscard]] bool run_until(const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) {
        return false;
      }
      io.run_one_for(1ms);
    }
    return true;
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
