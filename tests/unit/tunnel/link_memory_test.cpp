// tunnel::link over an in-memory tunnel (memory_transport.hpp) that reads and writes one byte
// at a time, fails at any byte offset, or stalls and resumes; its visitors are loopback sockets,
// so the stream pump runs its real socket paths. Checks bytes (SHA-256), close reasons, flow
// control (SKB) and that a closed link is freed.
#include <gtest/gtest.h>

#include <openssl/evp.h>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <spdlog/logger.h>

#include "tunnel/link.hpp"
#include "unit/tunnel/link_harness.hpp"
#include "unit/tunnel/memory_transport.hpp"
#include "wire/chunk_encoder.hpp"

namespace kiteline::tunnel {
namespace {

using namespace std::chrono_literals;
using namespace kiteline::test;

std::string sha256(const std::string& s) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int n = 0;
  EXPECT_EQ(EVP_Digest(s.data(), s.size(), md.data(), &n, EVP_sha256(), nullptr), 1);
  return {reinterpret_cast<const char*>(md.data()), n};
}

// `body` as data chunks of `sid` of these sizes in turn (the last size repeats).
std::string chunks_of(wire::sid_t sid, const std::string& body, std::vector<std::size_t> sizes) {
  std::string out;
  std::size_t at = 0;
  for (std::size_t i = 0; at < body.size(); ++i) {
    const std::size_t n = std::min(sizes[std::min(i, sizes.size() - 1)], body.size() - at);
    out += encode_chunk(sid, body.substr(at, n));
    at += n;
  }
  return out;
}

// One relay-role link over a memory_transport, with its hooks and tunnel output recorded.
struct memory_link : link_events {
  asio::io_context io;
  memory_transport tunnel;
  std::shared_ptr<link> lk;
  tunnel_reader out;  // what the link sent down the tunnel

  explicit memory_link(memory_faults f = {}, link_options opts = {})
      : tunnel(io.get_executor(), f) {
    lk = std::make_shared<link>(tunnel.link_end(), opts, recording_hooks(),
                                std::make_shared<spdlog::logger>("link_memory_test"), "memory");
    lk->start({});
  }
  // The closed link is freed: nothing it ran (reader, writer, ticker, stream handlers) is left
  // holding it.
  ~memory_link() { EXPECT_TRUE(close_and_free(io, lk)) << "the closed link was not freed"; }
  memory_link(const memory_link&) = delete;
  memory_link& operator=(const memory_link&) = delete;

  [[nodiscard]] bool run_until(const std::function<bool()>& done) {
    return kiteline::test::run_until(io, done);
  }
  // Runs every handler that is ready until none is (the link waits for the test).
  void settle() {
    while (io.poll() > 0) {
    }
  }

  // A visitor with `first` as its first bytes; its SID is the relay's first (1).
  net::tcp::socket attach(const std::string& first, int buffer_size = 0) {
    auto v = make_socket_pair(io, buffer_size);
    const mux::stream_open info{"http", "a.test", 80, "127.0.0.1", 4321, false};
    EXPECT_TRUE(lk->attach_visitor(plain(std::move(v.ours)), info, bytes_of(first)));
    return std::move(v.theirs);
  }
};

constexpr wire::sid_t sid = 1;  // the first stream a relay opens

TEST(LinkOverMemory, OneByteReadsDeliverAStreamByteExact) {
  memory_faults f;
  f.max_read = 1;
  memory_link m(f);
  auto visitor = m.attach("x");
  const std::string down = pattern(200 * 1024);
  const std::string wire_bytes = chunks_of(sid, down, {1, 100, 16 * 1024, 70000});
  m.tunnel.send(wire_bytes);
  std::string got;
  ASSERT_TRUE(m.run_until([&] {
    (void)read_available(visitor, got);
    return got.size() >= down.size();
  }));
  EXPECT_EQ(got.size(), down.size());
  EXPECT_EQ(sha256(got), sha256(down));
  EXPECT_EQ(m.tunnel.bytes_read(), wire_bytes.size());
  EXPECT_EQ(m.lk->stats().bytes_in, wire_bytes.size());
  EXPECT_FALSE(m.closed_why);
}

TEST(LinkOverMemory, OneByteWritesCarryAStreamByteExact) {
  memory_faults f;
  f.max_write = 1;
  memory_link m(f);
  const std::string first = "GET / HTTP/1.1\r\nHost: a.test\r\n\r\n";
  auto visitor = m.attach(first);
  const std::string up = pattern(96 * 1024);
  std::size_t sent = 0;
  ASSERT_TRUE(m.run_until([&] {
    write_available(visitor, up, sent);
    m.out.read_from(m.tunnel);
    return m.out.data[sid].size() >= first.size() + up.size();
  }));
  EXPECT_EQ(m.out.data[sid].size(), first.size() + up.size());
  EXPECT_EQ(sha256(m.out.data[sid]), sha256(first + up));
  EXPECT_FALSE(m.closed_why);
}

// A small exchange: the visitor's request (the stream's first chunk), the reply and its EOF
// from the tunnel, then the visitor's last bytes and its EOF.
const std::string request = "GET /x HTTP/1.1\r\nHost: a.test\r\n\r\n";
const std::string reply_body = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
const std::string reply =
    encode_chunk(sid, reply_body) + std::string(wire::make_eof(sid, wire::eof_flags::read).text());

void run_exchange(memory_link& m, net::tcp::socket& visitor) {
  m.tunnel.send(reply);
  const std::string bye = "bye";
  std::size_t sent = 0;
  write_available(visitor, bye, sent);
  visitor.shutdown(net::tcp::socket::shutdown_send);
}

// The exchange over a tunnel with the faults `f`: the link closes with `why` once it read
// (`reads`) or wrote exactly `at` bytes; its stream ends with it, and the visitor got a prefix
// of the reply, then its end.
void expect_exchange_fails(const memory_faults& f, const std::string& why, std::size_t at,
                           bool reads) {
  memory_link m(f);
  auto visitor = m.attach(request);
  run_exchange(m, visitor);
  ASSERT_TRUE(m.run_until([&] { return m.closed_why.has_value(); })) << at;
  EXPECT_EQ(*m.closed_why, why) << at;
  EXPECT_EQ(reads ? m.tunnel.bytes_read() : m.tunnel.bytes_written(), at);
  EXPECT_TRUE(m.lk->closed()) << at;
  EXPECT_EQ(m.ended, std::vector<wire::sid_t>{sid}) << at;
  EXPECT_EQ(m.lk->stream_count(), 0U) << at;
  EXPECT_TRUE(m.tunnel.closed_by_link()) << at;
  std::string got;
  ASSERT_TRUE(m.run_until([&] { return !read_available(visitor, got); })) << at;
  EXPECT_TRUE(reply_body.starts_with(got)) << at << ": " << got;
}

TEST(LinkOverMemory, ReadFailureAtEveryByteClosesTheLinkWithItsReason) {
  for (const auto error : {std::error_code(asio::error::connection_reset),
                           std::error_code(asio::error::eof)}) {
    const std::string why = error == asio::error::eof ? "tunnel closed by peer" : error.message();
    for (std::size_t at = 0; at <= reply.size(); ++at) {
      memory_faults f;
      f.fail_read_at = at;
      f.read_error = error;
      expect_exchange_fails(f, why, at, true);
    }
  }
}

TEST(LinkOverMemory, WriteFailureAtEveryByteClosesTheLinkWithItsReason) {
  // Everything the link writes in the exchange when nothing fails: its first chunk, the SKB
  // for the reply, the visitor's last bytes and its EOF.
  std::size_t total = 0;
  {
    memory_link m;
    auto visitor = m.attach(request);
    run_exchange(m, visitor);
    std::string got;
    ASSERT_TRUE(m.run_until([&] {
      m.out.read_from(m.tunnel);
      (void)read_available(visitor, got);
      return m.out.data[sid] == request + "bye" && m.out.eofs[sid] > 0 &&
             m.out.skb.contains(sid) && got == reply_body;
    }));
    m.settle();
    total = m.tunnel.bytes_written();
    EXPECT_FALSE(m.closed_why);
  }
  ASSERT_GT(total, request.size());
  const std::string why = "tunnel write failed: " +
                          std::error_code(asio::error::broken_pipe).message();
  for (std::size_t at = 0; at < total; ++at) {
    memory_faults f;
    f.fail_write_at = at;
    expect_exchange_fails(f, why, at, false);
  }
}

TEST(LinkOverMemory, ReadStallPausesTheStreamAndResumesWithoutLoss) {
  const std::string body = pattern(320 * 1024);
  const std::string wire_bytes = chunks_of(sid, body, {64 * 1024});
  const std::size_t stall = wire_bytes.size() / 2;  // inside the third chunk
  memory_faults f;
  f.stall_read_at = stall;
  memory_link m(f);
  auto visitor = m.attach("x");
  m.tunnel.send(wire_bytes);
  std::string got;
  ASSERT_TRUE(m.run_until([&] {
    (void)read_available(visitor, got);
    return m.tunnel.bytes_read() == stall && m.tunnel.read_waiting() &&
           got.size() >= 2 * 64 * 1024;  // the two chunks before the stall
  }));
  m.settle();
  (void)read_available(visitor, got);
  const std::size_t during = got.size();
  EXPECT_EQ(m.lk->stats().bytes_in, stall);
  EXPECT_LT(during, body.size());
  EXPECT_TRUE(body.starts_with(got));
  m.settle();
  (void)read_available(visitor, got);
  EXPECT_EQ(got.size(), during) << "bytes arrived past the stall";

  m.tunnel.resume_reads();
  ASSERT_TRUE(m.run_until([&] {
    (void)read_available(visitor, got);
    return got.size() >= body.size();
  }));
  EXPECT_EQ(sha256(got), sha256(body));
  EXPECT_EQ(m.lk->stats().bytes_in, wire_bytes.size());
  EXPECT_FALSE(m.closed_why);
}

TEST(LinkOverMemory, WriteStallParksLocalReadsAtTheHighWaterMarkAndResumesWithoutLoss) {
  link_options opts;
  opts.outbox_high_water = 64 * 1024;
  memory_faults f;
  f.stall_write_at = 100 * 1024;
  memory_link m(f, opts);
  auto visitor = m.attach("x");
  const std::string up = pattern(768 * 1024);  // below the stream's send window
  std::size_t sent = 0;
  ASSERT_TRUE(m.run_until([&] {
    write_available(visitor, up, sent);
    return m.tunnel.write_waiting() && m.tunnel.bytes_written() == *f.stall_write_at;
  }));
  // Feed the visitor's socket until the link takes no more: its reads are parked.
  for (std::size_t before = sent + 1; before != sent;) {
    before = sent;
    m.settle();
    write_available(visitor, up, sent);
  }
  EXPECT_EQ(m.tunnel.bytes_written(), *f.stall_write_at);
  // At most one read (one chunk, its head included) beyond the mark.
  EXPECT_LE(m.lk->outbox_size(), opts.outbox_high_water + opts.session.max_chunk_data + 64);
  EXPECT_GE(m.lk->outbox_size(), opts.outbox_high_water);

  m.tunnel.resume_writes();
  ASSERT_TRUE(m.run_until([&] {
    write_available(visitor, up, sent);
    m.out.read_from(m.tunnel);
    return m.out.data[sid].size() >= 1 + up.size();
  }));
  EXPECT_EQ(sha256(m.out.data[sid]), sha256("x" + up));
  EXPECT_FALSE(m.closed_why);
}

TEST(LinkOverMemory, StalledVisitorHoldsBackTheSkbUntilItReads) {
  memory_link m;
  auto visitor = m.attach("x", 16 * 1024);  // small socket buffers towards the visitor
  const std::string body = pattern(2 * 1024 * 1024);  // well below the receive budget
  const std::string wire_bytes = chunks_of(sid, body, {16 * 1024});
  m.tunnel.send(wire_bytes);
  ASSERT_TRUE(m.run_until([&] { return m.tunnel.bytes_read() == wire_bytes.size(); }));
  m.settle();
  m.out.read_from(m.tunnel);
  // The visitor reads nothing: what its socket did not take waits in the link, and the SKB
  // acknowledges no more than was written to it.
  const std::uint64_t held = m.lk->local_buffered();
  ASSERT_GT(held, 0U);
  const std::uint64_t written = body.size() - held;
  const std::uint64_t acked = m.out.skb[sid] * 1024;
  EXPECT_LE(acked, written);
  EXPECT_LT(written - acked, link_options{}.session.ack_threshold + 1024);
  EXPECT_LT(acked, body.size());

  std::string got;
  ASSERT_TRUE(m.run_until([&] {
    (void)read_available(visitor, got);
    m.out.read_from(m.tunnel);
    return got.size() >= body.size() && m.out.skb[sid] == body.size() / 1024;
  }));
  EXPECT_EQ(sha256(got), sha256(body));
  EXPECT_EQ(m.lk->local_buffered(), 0U);
  EXPECT_FALSE(m.closed_why);
}

TEST(LinkOverMemory, MissingSkbPausesVisitorReadsAtTheSendWindow) {
  memory_link m;
  auto visitor = m.attach("x");
  const link_options opts;
  const std::uint64_t window = opts.session.stream_send_window;
  const std::string up = pattern(3 * 1024 * 1024);
  std::size_t sent = 0;
  // No SKB comes back: the stream stops reading once a window is unacknowledged (at most one
  // read beyond it), however long the visitor keeps sending.
  ASSERT_TRUE(m.run_until([&] {
    write_available(visitor, up, sent);
    m.out.read_from(m.tunnel);
    return m.out.data[sid].size() >= window;
  }));
  for (std::size_t before = sent + 1; before != sent;) {
    before = sent;
    m.settle();
    write_available(visitor, up, sent);
  }
  m.out.read_from(m.tunnel);
  const std::size_t carried = m.out.data[sid].size();
  EXPECT_GE(carried, window);
  EXPECT_LT(carried, window + opts.local_read_buffer + 1);
  EXPECT_LT(carried, 1 + up.size());

  // Each SKB opens the window again, until everything arrived.
  std::uint64_t acked = 0;
  ASSERT_TRUE(m.run_until([&] {
    write_available(visitor, up, sent);
    m.out.read_from(m.tunnel);
    if (m.out.data[sid].size() / 1024 > acked) {
      acked = m.out.data[sid].size() / 1024;
      m.tunnel.send(wire::make_skb_ack(sid, acked).text());
    }
    return m.out.data[sid].size() >= 1 + up.size();
  }));
  EXPECT_EQ(sha256(m.out.data[sid]), sha256("x" + up));
  EXPECT_FALSE(m.closed_why);
}

// A libpagekite-style connector writes a chunk's head, then (Nagle holding it back until the head
// is acknowledged) its body: a read that ends inside a frame is acknowledged at once when
// quick_ack is on, and only then; whole frames and kiteline peers (quick_ack off) cost nothing.
TEST(LinkOverMemory, ReadEndingInsideAFrameIsAcknowledgedAtOnceWhenQuickAckIsOn) {
  for (const bool on : {true, false}) {
    SCOPED_TRACE(on ? "quick_ack on" : "quick_ack off");
    link_options opts;
    opts.quick_ack = on;
    memory_link m({}, opts);
    auto visitor = m.attach("x");
    const std::string body = pattern(16 * 1024);
    const std::string frame = encode_chunk(sid, body);
    const std::size_t head = frame.size() - body.size();
    std::string got;
    m.tunnel.send(frame.substr(0, head));  // the first write: size line and header block
    ASSERT_TRUE(m.run_until([&] { return m.tunnel.bytes_read() == head; }));
    m.settle();
    EXPECT_EQ(m.lk->stats().quick_acks, on ? 1U : 0U);
    m.tunnel.send(frame.substr(head, 100));  // part of the body: still inside the frame
    ASSERT_TRUE(m.run_until([&] {
      (void)read_available(visitor, got);
      return got.size() == 100;
    }));
    EXPECT_EQ(m.lk->stats().quick_acks, on ? 2U : 0U);
    m.tunnel.send(frame.substr(head + 100) + encode_chunk(sid, body));  // ends on a boundary
    ASSERT_TRUE(m.run_until([&] {
      (void)read_available(visitor, got);
      return got.size() == 2 * body.size();
    }));
    EXPECT_EQ(sha256(got), sha256(body + body));
    EXPECT_EQ(m.lk->stats().quick_acks, on ? 2U : 0U);
    EXPECT_FALSE(m.closed_why);
  }
}

}  // namespace
}  // namespace kiteline::tunnel
