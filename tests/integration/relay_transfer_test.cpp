// Relay integration: bulk transfers through a tunnel (64 MiB download, 16 MiB upload), 200
// concurrent streams, half-close both ways, flow control toward a slow visitor, downloads read
// in turn, and eviction of a stalled one; with one
// and two workers (visitors accepted on one worker move to the tunnel's worker).
#include <algorithm>
#include <thread>

#include <gtest/gtest.h>

#include "support/fake_connector.hpp"
#include "support/fake_visitor.hpp"
#include "support/loopback_relay.hpp"

namespace kiteline::test {
namespace {

/// Reads `size` bytes of body (after the head) into a hash; `got` says how far it came.
struct body_read {
  std::string sha;
  std::uint64_t got = 0;
  read_status last = read_status::data;
};
body_read read_body(test_socket& v, std::uint64_t size) {
  body_read r;
  sha256 h;
  std::vector<std::byte> buf(256 * 1024);
  while (r.got < size) {
    std::size_t n = 0;
    r.last = v.read_some(
        std::span<std::byte>(buf.data(), std::min<std::uint64_t>(buf.size(), size - r.got)), n,
        test_timeout());
    if (r.last != read_status::data) {
      break;
    }
    h.update(std::span<const std::byte>(buf.data(), n));
    r.got += n;
  }
  r.sha = h.hex();
  return r;
}

class RelayTransfer : public testing::TestWithParam<unsigned> {
 protected:
  relay_options options() const {
    relay_options o;
    o.threads = GetParam();
    return o;
  }
};

TEST_P(RelayTransfer, Download64MiB) {
  loopback_relay relay(options());
  ASSERT_TRUE(relay.ok()) << relay.error();
  constexpr std::uint64_t size = 64ULL << 20;
  auto opts = with_kites({{"http", "big.test"}});
  opts.handler = behaviour::serve_pattern(size, 7);
  fake_connector c(relay.port(), opts);
  ASSERT_TRUE(c.connect_flow_b().tunnel_up);
  test_socket v;
  ASSERT_TRUE(v.connect(relay.port()));
  ASSERT_TRUE(v.send_all(http_get("big.test", "/big.bin")));
  const auto t0 = clock::now();
  auto head = v.read_head();
  ASSERT_EQ(head.rfind("HTTP/1.1 200 OK", 0), 0U) << head;
  const auto r = read_body(v, size);
  ASSERT_EQ(r.got, size) << "read ended: " << static_cast<int>(r.last);
  const auto ms = std::chrono::duration_cast<milliseconds>(clock::now() - t0).count();
  EXPECT_EQ(r.sha, pattern(7).sha256_of(size));
  EXPECT_TRUE(v.wait_closed());  // EOF R from the connector closes the visitor's read side
  std::printf("64 MiB download, %u worker(s): %lld ms (%.0f MiB/s)\n", GetParam(),
              static_cast<long long>(ms), 64000.0 / static_cast<double>(std::max<long long>(ms, 1)));
}

TEST_P(RelayTransfer, Upload16MiB) {
  loopback_relay relay(options());
  ASSERT_TRUE(relay.ok()) << relay.error();
  constexpr std::uint64_t size = 16ULL << 20;
  auto opts = with_kites({{"http", "up.test"}});
  opts.handler = behaviour::hash_upload();
  fake_connector c(relay.port(), opts);
  ASSERT_TRUE(c.connect_flow_b().tunnel_up);
  test_socket v;
  ASSERT_TRUE(v.connect(relay.port()));
  ASSERT_TRUE(v.send_all("POST /up HTTP/1.1\r\nHost: up.test\r\nContent-Length: " +
                         std::to_string(size) + "\r\n\r\n"));
  pattern p(11);
  std::vector<std::byte> buf(256 * 1024);
  for (std::uint64_t off = 0; off < size; off += buf.size()) {
    p.fill(off, buf);
    ASSERT_TRUE(v.send_all(buf)) << "at " << off;
  }
  auto r = read_response(v);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body_text(), p.sha256_of(size));
}

TEST_P(RelayTransfer, TwoHundredConcurrentStreams) {
  loopback_relay relay(options());
  ASSERT_TRUE(relay.ok()) << relay.error();
  auto opts = with_kites({{"raw", "echo.test"}, {"http", "echo.test"}});
  opts.handler = behaviour::echo();
  fake_connector c(relay.port(), opts);
  ASSERT_TRUE(c.connect_flow_b().tunnel_up);
  constexpr std::size_t n = 200;
  std::vector<test_socket> v(n);
  std::vector<std::string> sent(n);
  for (std::size_t i = 0; i < n; ++i) {
    ASSERT_TRUE(v[i].connect(relay.port())) << i;
    // Distinct payloads of distinct lengths: a request head, then pattern bytes.
    auto body = pattern(1000 + i).bytes(1024 + 37 * i);
    sent[i] = http_get("echo.test", "/" + std::to_string(i)) + std::string(as_text(body));
    ASSERT_TRUE(v[i].send_all(sent[i])) << i;
  }
  ASSERT_TRUE(c.wait_streams(n));
  EXPECT_GE(relay.server().counters().visitors_routed.load(), n);
  for (std::size_t i = 0; i < n; ++i) {
    v[i].shutdown_write();
  }
  std::size_t good = 0;
  for (std::size_t i = 0; i < n; ++i) {
    read_status st{};
    auto back = v[i].read_to_eof(st);
    EXPECT_EQ(st, read_status::eof) << i;
    if (as_text(back) == sent[i]) {
      ++good;
    } else {
      ADD_FAILURE() << "stream " << i << ": got " << back.size() << " bytes, want "
                    << sent[i].size();
    }
  }
  EXPECT_EQ(good, n);
}

TEST_P(RelayTransfer, HalfCloseVisitorFirst) {
  loopback_relay relay(options());
  ASSERT_TRUE(relay.ok()) << relay.error();
  fake_connector c(relay.port(), with_kites({{"http", "half.test"}}));
  ASSERT_TRUE(c.connect_flow_b().tunnel_up);
  test_socket v;
  ASSERT_TRUE(v.connect(relay.port()));
  const std::string req = http_get("half.test");
  ASSERT_TRUE(v.send_all(req));
  v.shutdown_write();
  ASSERT_TRUE(c.wait_streams(1));
  auto s = c.stream_at(0);
  ASSERT_TRUE(s->wait_eof());
  EXPECT_TRUE(wire::has_read(*s->eof()));
  EXPECT_FALSE(wire::has_write(*s->eof()));  // the visitor can still receive
  EXPECT_EQ(as_text(s->received()), req);
  // The connector still answers after the visitor's EOF.
  const std::string reply = "HTTP/1.0 200 OK\r\n\r\nlate reply";
  ASSERT_TRUE(s->send(reply));
  ASSERT_TRUE(s->send_eof(wire::eof_flags::read));
  read_status st{};
  auto back = v.read_to_eof(st);
  EXPECT_EQ(st, read_status::eof);
  EXPECT_EQ(as_text(back), reply);
}

TEST_P(RelayTransfer, HalfCloseConnectorFirst) {
  loopback_relay relay(options());
  ASSERT_TRUE(relay.ok()) << relay.error();
  fake_connector c(relay.port(), with_kites({{"http", "half.test"}}));
  ASSERT_TRUE(c.connect_flow_b().tunnel_up);
  test_socket v;
  ASSERT_TRUE(v.connect(relay.port()));
  const std::string req = http_get("half.test");
  ASSERT_TRUE(v.send_all(req));
  ASSERT_TRUE(c.wait_streams(1));
  auto s = c.stream_at(0);
  ASSERT_TRUE(s->wait_received(req.size()));
  ASSERT_TRUE(s->send("banner\n"));
  ASSERT_TRUE(s->send_eof(wire::eof_flags::read));
  read_status st{};
  auto back = v.read_to_eof(st);
  EXPECT_EQ(st, read_status::eof);
  EXPECT_EQ(as_text(back), "banner\n");
  // The visitor's direction is still open.
  const std::string more = "more bytes after the connector's EOF";
  ASSERT_TRUE(v.send_all(more));
  ASSERT_TRUE(s->wait_received(req.size() + more.size()));
  EXPECT_EQ(as_text(s->received()).substr(req.size()), more);
  EXPECT_FALSE(s->eof().has_value());
  v.shutdown_write();
  ASSERT_TRUE(s->wait_eof());
}

TEST_P(RelayTransfer, SlowVisitorStaysWithinBudget) {
  relay_options ro = options();
  ro.buffers_kib = 256;
  loopback_relay relay(ro);
  ASSERT_TRUE(relay.ok()) << relay.error();
  auto opts = with_kites({{"http", "slow.test"}});
  opts.send_window = 0;  // a connector that ignores SKB: only the relay's budget protects it
  fake_connector c(relay.port(), opts);
  ASSERT_TRUE(c.connect_flow_b().tunnel_up);
  test_socket v;
  ASSERT_TRUE(v.connect(relay.port()));
  ASSERT_TRUE(v.send_all(http_get("slow.test")));
  ASSERT_TRUE(c.wait_streams(1));
  auto s = c.stream_at(0);
  constexpr std::uint64_t size = 32ULL << 20;
  s->send_pattern_async(size, 5, {}, true);
  // The visitor does not read. Wait until the relay stops reading the tunnel (its receive
  // budget is full: the link logs it), watching what the relay holds meanwhile.
  std::uint64_t max_buffered = 0;
  ASSERT_TRUE(wait_for(
      [&] {
        max_buffered = std::max(max_buffered, relay.server().buffered_bytes_for_test());
        return relay.log().contains({"reading paused:", "bytes wait for local sockets"});
      },
      "the relay to stop reading the tunnel"))
      << relay.log_dump();
  max_buffered = std::max(max_buffered, relay.server().buffered_bytes_for_test());
  // Acks are read before what was sent: both only grow, so acked <= sent holds at any moment.
  const std::uint64_t acked = s->skb_kib() * 1024;
  const std::uint64_t last_sent = s->sent_total();
  const std::uint64_t budget = ro.buffers_kib * 1024;
  const std::uint64_t slack = 16 * 1024;  // the chunk that crossed the budget
  std::printf("slow visitor: paused after %llu bytes sent, max relay buffered %llu "
              "(budget %llu), SKB %llu KiB\n",
              static_cast<unsigned long long>(last_sent),
              static_cast<unsigned long long>(max_buffered),
              static_cast<unsigned long long>(budget),
              static_cast<unsigned long long>(acked / 1024));
  EXPECT_LT(last_sent, size) << "the relay never stopped reading the tunnel";
  EXPECT_LE(max_buffered, budget + slack);
  EXPECT_GT(max_buffered, 0U);
  // Acks never run ahead of what was sent (and so of what the visitor's socket took).
  EXPECT_LE(acked, last_sent);
  // Now the visitor reads everything: byte-exact.
  sha256 h;
  std::uint64_t got = 0;
  std::vector<std::byte> buf(256 * 1024);
  while (got < size) {
    std::size_t n = 0;
    auto st = v.read_some(std::span<std::byte>(buf.data(),
                                               std::min<std::uint64_t>(buf.size(), size - got)),
                          n, test_timeout());
    ASSERT_EQ(st, read_status::data) << "after " << got;
    h.update(std::span<const std::byte>(buf.data(), n));
    got += n;
    max_buffered = std::max(max_buffered, relay.server().buffered_bytes_for_test());
  }
  EXPECT_EQ(h.hex(), pattern(5).sha256_of(size));
  EXPECT_LE(max_buffered, budget + slack);
  EXPECT_TRUE(wait_for([&] { return s->skb_kib() == size / 1024; }, "the final SKB"));
}

// A client that opens eight downloads and reads them one after another (a download manager,
// a test harness). Each stream may hold its 1 MiB window at the relay while its visitor is not
// reading. With pagekite.py's budget (--buffers=1024, no eviction) the unread streams filled it
// (1,032,458 bytes), the relay stopped reading the tunnel and the first download, the one being
// read, stalled for good. The default budget (16 MiB) holds sixteen windows.
TEST_P(RelayTransfer, EightDownloadsReadInTurnAllFinish) {
  loopback_relay relay(options());
  ASSERT_TRUE(relay.ok()) << relay.error();
  constexpr std::uint64_t size = 8ULL << 20;
  auto opts = with_kites({{"http", "turns.test"}});
  opts.send_window = 1024 * 1024;  // a kiteline connector's window
  opts.handler = behaviour::serve_pattern(size, 11);
  fake_connector c(relay.port(), opts);
  ASSERT_TRUE(c.connect_flow_b().tunnel_up);
  constexpr std::size_t n = 8;
  std::vector<test_socket> v(n);
  for (auto& s : v) {
    ASSERT_TRUE(s.connect(relay.port()));
    ASSERT_TRUE(s.send_all(http_get("turns.test", "/f.bin")));
  }
  ASSERT_TRUE(c.wait_streams(n));
  for (std::size_t i = 0; i < n; ++i) {
    auto head = v[i].read_head();
    ASSERT_EQ(head.rfind("HTTP/1.1 200 OK", 0), 0U) << "visitor " << i << ": " << head;
    const auto r = read_body(v[i], size);
    ASSERT_EQ(r.got, size) << "visitor " << i << " stalled (" << static_cast<int>(r.last)
                           << "); relay buffered " << relay.server().buffered_bytes_for_test();
    EXPECT_EQ(r.sha, pattern(11).sha256_of(size)) << "visitor " << i;
  }
}

// When the budget is full anyway (here 256 KiB against a 1 MiB window) and stays full, the
// stream holding the most of it is evicted after --evict_after: its visitor gets a reset, the
// peer EOF, and the tunnel moves again for everyone else.
TEST_P(RelayTransfer, StalledVisitorIsEvictedSoOthersFinish) {
  relay_options ro = options();
  ro.buffers_kib = 256;
  ro.evict_after_s = 1;
  ro.extra_args = {"--stalled_after=0"};  // the fallback rule alone (the next test: the share)
  loopback_relay relay(ro);
  ASSERT_TRUE(relay.ok()) << relay.error();
  constexpr std::uint64_t size = 8ULL << 20;
  auto opts = with_kites({{"http", "stall.test"}});
  opts.send_window = 1024 * 1024;
  opts.handler = behaviour::serve_pattern(size, 13);
  fake_connector c(relay.port(), opts);
  ASSERT_TRUE(c.connect_flow_b().tunnel_up);
  test_socket stalled;
  ASSERT_TRUE(stalled.connect(relay.port(), "127.0.0.1", 64 * 1024));  // absorbs little
  ASSERT_TRUE(stalled.send_all(http_get("stall.test", "/a.bin")));
  ASSERT_TRUE(c.wait_streams(1));
  // The stalled visitor's stream fills the budget: the relay stops reading the tunnel.
  ASSERT_TRUE(wait_for([&] { return relay.server().buffered_bytes_for_test() > 256 * 1024; },
                       "the budget to fill"));
  test_socket reader;
  ASSERT_TRUE(reader.connect(relay.port()));
  ASSERT_TRUE(reader.send_all(http_get("stall.test", "/b.bin")));
  auto head = reader.read_head();
  ASSERT_EQ(head.rfind("HTTP/1.1 200 OK", 0), 0U) << head;
  const auto r = read_body(reader, size);
  ASSERT_EQ(r.got, size) << relay.log_dump();
  EXPECT_EQ(r.sha, pattern(13).sha256_of(size));
  // It waited for the eviction: the body could only come after it (the full budget held the
  // tunnel), so the eviction was logged before the last byte arrived.
  EXPECT_TRUE(relay.log().contains({"sid=1 evicted: the receive budget (262144 bytes) stayed "
                                    "full for 1000 ms"}))
      << "the body arrived before the eviction";
  EXPECT_TRUE(relay.wait_for_log({"sid=1 evicted: the receive budget (262144 bytes) stayed full "
                                  "for 1000 ms and this stream held the most of it"}));
  // The stalled visitor gets what the kernel buffered, then a reset: never the whole body.
  const auto a = read_body(stalled, size + 1);
  EXPECT_LT(a.got, size);
  EXPECT_EQ(a.last, read_status::eof);
  EXPECT_TRUE(stalled.was_reset()) << "a reset, not a clean EOF, after " << a.got;
  // The connector was told: EOF for the evicted stream.
  EXPECT_TRUE(wait_for([&] { return c.stream_at(0)->eof().has_value(); }, "EOF to the peer"));
}

// The fair-share rule (hostile row 3): the budget overflows while the stalled visitor holds
// more than its share and has not drained for --stalled_after (1 s): it is reset at once, with
// its own log line, and the other download finishes byte-exact.
TEST_P(RelayTransfer, StalledHolderOfItsShareIsResetWhenTheBudgetOverflows) {
  relay_options ro = options();
  ro.buffers_kib = 256;
  ro.evict_after_s = 60;  // the fallback would take a minute: only the share rule can act
  loopback_relay relay(ro);
  ASSERT_TRUE(relay.ok()) << relay.error();
  constexpr std::uint64_t size = 8ULL << 20;
  auto opts = with_kites({{"http", "stall.test"}});
  opts.send_window = 1024 * 1024;
  opts.handler = behaviour::serve_pattern(size, 13);
  fake_connector c(relay.port(), opts);
  ASSERT_TRUE(c.connect_flow_b().tunnel_up);
  test_socket stalled;
  ASSERT_TRUE(stalled.connect(relay.port(), "127.0.0.1", 64 * 1024));  // absorbs little
  ASSERT_TRUE(stalled.send_all(http_get("stall.test", "/a.bin")));
  ASSERT_TRUE(c.wait_streams(1));
  ASSERT_TRUE(wait_for([&] { return relay.server().buffered_bytes_for_test() > 256 * 1024; },
                       "the budget to fill"));
  test_socket reader;
  ASSERT_TRUE(reader.connect(relay.port()));
  ASSERT_TRUE(reader.send_all(http_get("stall.test", "/b.bin")));
  auto head = reader.read_head();
  ASSERT_EQ(head.rfind("HTTP/1.1 200 OK", 0), 0U) << head;
  const auto r = read_body(reader, size);
  ASSERT_EQ(r.got, size) << relay.log_dump();
  EXPECT_EQ(r.sha, pattern(13).sha256_of(size));
  EXPECT_TRUE(relay.wait_for_log({"sid=1 evicted: the receive budget (262144 bytes) is full and "
                                  "this stream held at least its share of it",
                                  "without draining for 1000 ms"}));
  const auto a = read_body(stalled, size + 1);
  EXPECT_LT(a.got, size);
  EXPECT_TRUE(stalled.was_reset()) << "a reset, not a clean EOF, after " << a.got;
  EXPECT_TRUE(wait_for([&] { return c.stream_at(0)->eof().has_value(); }, "EOF to the peer"));
}

INSTANTIATE_TEST_SUITE_P(Workers, RelayTransfer, testing::Values(1U, 2U),
                         [](const testing::TestParamInfo<unsigned>& i) {
                           return "threads" + std::to_string(i.param);
                         });

}  // namespace
}  // namespace kiteline::test
