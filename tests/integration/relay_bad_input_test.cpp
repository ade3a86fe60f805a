// Relay integration, hostile input (issue 3 "Bad input"): garbage and oversized visitor heads,
// broken framing and huge lengths from a connector, kites outside --domain, chunks for SIDs
// never given, and thousands of idle connections; everyone else keeps being served.
#include <gtest/gtest.h>

#include "support/fake_connector.hpp"
#include "support/fake_visitor.hpp"
#include "support/loopback_relay.hpp"

namespace kiteline::test {
namespace {

constexpr std::string_view ok_reply = "HTTP/1.0 200 OK\r\n\r\nstill here";

/// A connector serving `domain` with ok_reply.
std::unique_ptr<fake_connector> good_connector(loopback_relay& relay, const std::string& domain) {
  auto opts = with_kites({{"http", domain}});
  opts.handler = behaviour::fixed_reply(std::string(ok_reply));
  auto c = std::make_unique<fake_connector>(relay.port(), opts);
  EXPECT_TRUE(c->connect_flow_b().tunnel_up);
  return c;
}

bool serves(loopback_relay& relay, const std::string& domain) {
  return http_exchange(relay.port(), http_get(domain)).body_text() == "still here";
}

TEST(RelayBadInput, GarbageFirstBytesAreClosedAndLogged) {
  loopback_relay relay;
  ASSERT_TRUE(relay.ok()) << relay.error();
  test_socket v;
  ASSERT_TRUE(v.connect(relay.port()));
  ASSERT_TRUE(v.send_all(std::string("\x00\x01\x02garbage\r\n\r\n", 14)));
  read_status st{};
  auto got = v.read_to_eof(st);
  EXPECT_EQ(st, read_status::eof);
  EXPECT_TRUE(got.empty());
  EXPECT_TRUE(relay.wait_for_log({"visitor refused", "rip=127.0.0.1"}));
  EXPECT_EQ(relay.server().counters().visitors_refused.load(), 1U);
}

TEST(RelayBadInput, OversizedHeadIsClosed) {
  loopback_relay relay;
  ASSERT_TRUE(relay.ok()) << relay.error();
  auto c = good_connector(relay, "ok.test");
  test_socket v;
  ASSERT_TRUE(v.connect(relay.port()));
  std::string head = "GET / HTTP/1.1\r\nHost: ok.test\r\nX-Filler: " + std::string(200000, 'a');
  (void)v.send_all(head, milliseconds(5000));  // the relay may close before it took it all
  EXPECT_TRUE(v.wait_closed());
  EXPECT_TRUE(relay.wait_for_log({"visitor refused"}));
  EXPECT_EQ(c->stream_count(), 0U);
  EXPECT_TRUE(serves(relay, "ok.test"));
}

TEST(RelayBadInput, BrokenChunkFramingClosesOnlyThatTunnel) {
  loopback_relay relay;
  ASSERT_TRUE(relay.ok()) << relay.error();
  auto good = good_connector(relay, "good.test");
  auto bad = good_connector(relay, "bad.test");
  ASSERT_TRUE(bad->send_raw("zz\r\nthis is not a chunk\r\n\r\n"));
  EXPECT_TRUE(bad->wait_tunnel_closed());
  EXPECT_TRUE(relay.wait_for_log({"framing error"}));
  EXPECT_TRUE(relay.wait_for_route("http", "bad.test", false));
  EXPECT_TRUE(serves(relay, "good.test"));
  EXPECT_FALSE(good->tunnel_closed());
}

TEST(RelayBadInput, ChunkLengthNear2To64ClosesTheTunnel) {
  loopback_relay relay;
  ASSERT_TRUE(relay.ok()) << relay.error();
  auto good = good_connector(relay, "good.test");
  auto bad = good_connector(relay, "bad.test");
  ASSERT_TRUE(bad->send_raw("fffffffffffffffe\r\nSID: 1\r\n\r\nxxxx"));
  EXPECT_TRUE(bad->wait_tunnel_closed());
  EXPECT_TRUE(relay.wait_for_log({"framing error"}));
  EXPECT_TRUE(serves(relay, "good.test"));
  // A length with more digits than fit 64 bits as well.
  auto bad2 = good_connector(relay, "bad2.test");
  ASSERT_TRUE(bad2->send_raw("1" + std::string(40, '0') + "\r\n"));
  EXPECT_TRUE(bad2->wait_tunnel_closed());
  EXPECT_TRUE(serves(relay, "good.test"));
  EXPECT_EQ(relay.server().tunnel_count(), 1U);
}

TEST(RelayBadInput, KiteOutsideDomainIsUnauthorized) {
  loopback_relay relay;
  ASSERT_TRUE(relay.ok()) << relay.error();
  auto opts = with_kites({{"http", "fine.test"}, {"http", "victim.example"}});
  opts.add_kites = false;
  opts.handler = behaviour::fixed_reply(std::string(ok_reply));
  fake_connector c(relay.port(), opts);
  auto out = c.connect_flow_a();
  ASSERT_TRUE(out.error.empty()) << out.error;
  EXPECT_EQ(out.count(wire::kite_status::ok), 1U);
  EXPECT_EQ(out.why(), "unauthorized");
  EXPECT_NE(out.head.find("X-PageKite-Invalid-Why: http:victim.example:"), std::string::npos);
  EXPECT_TRUE(relay.wait_for_log({"kite refused", "victim.example", "unauthorized"}));
  EXPECT_TRUE(relay.wait_for_route("http", "victim.example", false));
  EXPECT_TRUE(serves(relay, "fine.test"));
  EXPECT_EQ(http_exchange(relay.port(), http_get("victim.example")).status, 503);
}

TEST(RelayBadInput, ChunksForUnknownSidsDoNotDisturbOtherStreams) {
  loopback_relay relay;
  ASSERT_TRUE(relay.ok()) << relay.error();
  auto opts = with_kites({{"http", "echo.test"}});
  opts.handler = behaviour::echo();
  fake_connector c(relay.port(), opts);
  ASSERT_TRUE(c.connect_flow_b().tunnel_up);
  test_socket v;
  ASSERT_TRUE(v.connect(relay.port()));
  const std::string req = http_get("echo.test");
  ASSERT_TRUE(v.send_all(req));
  EXPECT_EQ(as_text(v.read_exact(req.size())), req);
  ASSERT_TRUE(c.wait_streams(1));
  const auto live = c.stream_at(0)->sid;
  // Data, EOF and SKB for SIDs the relay never opened (and a "new stream" toward the relay).
  for (wire::sid_t sid : {live + 1, live + 1000, wire::sid_t{99999999}}) {
    wire::chunk_headers h;
    h.sid = sid;
    ASSERT_TRUE(c.send_chunk(h, as_bytes("injected")));
    h.eof = wire::eof_flags::both;
    ASSERT_TRUE(c.send_chunk(h, as_bytes("Bye!")));
  }
  wire::chunk_headers fake_open;
  fake_open.sid = live + 7;
  fake_open.proto = "http";
  fake_open.host = "echo.test";
  ASSERT_TRUE(c.send_chunk(fake_open, as_bytes("GET / HTTP/1.0\r\n\r\n")));
  // The live stream is unaffected and nothing else reached the visitor.
  ASSERT_TRUE(v.send_all("second round"));
  EXPECT_EQ(as_text(v.read_exact(12)), "second round");
  v.shutdown_write();
  read_status st{};
  auto rest = v.read_to_eof(st);
  EXPECT_EQ(st, read_status::eof);
  EXPECT_TRUE(rest.empty()) << as_text(rest);
  EXPECT_FALSE(c.tunnel_closed());
  EXPECT_EQ(relay.server().tunnel_count(), 1U);
}

TEST(RelayBadInput, ThousandsOfIdleConnectionsTimeOut) {
  relay_options ro;
  ro.visitor_timeout = std::chrono::seconds(1);
  loopback_relay relay(ro);
  ASSERT_TRUE(relay.ok()) << relay.error();
  auto good = good_connector(relay, "busy.test");
  ASSERT_TRUE(serves(relay, "busy.test"));  // warm up allocations before measuring
  const std::uint64_t rss_before = rss_kib();
  constexpr std::size_t n = 2000;
  std::vector<test_socket> idle(n);
  std::size_t connected = 0;
  for (auto& s : idle) {
    connected += s.connect(relay.port()) ? 1U : 0U;
  }
  ASSERT_EQ(connected, n);
  // A real visitor is served while they idle.
  EXPECT_TRUE(serves(relay, "busy.test"));
  EXPECT_TRUE(wait_for(
      [&] { return relay.server().counters().visitors_timed_out.load() >= n; },
      milliseconds(30000), "every idle connection to time out"));
  const std::uint64_t rss_after = rss_kib();
  std::size_t closed = 0;
  for (auto& s : idle) {
    closed += s.wait_closed(milliseconds(1000)) ? 1U : 0U;
  }
  EXPECT_EQ(closed, n);
  EXPECT_TRUE(serves(relay, "busy.test"));
  std::printf("2000 idle connections: RSS %llu KiB -> %llu KiB\n",
              static_cast<unsigned long long>(rss_before),
              static_cast<unsigned long long>(rss_after));
  EXPECT_LT(rss_after, rss_before + 64 * 1024);
}

}  // namespace
}  // namespace kiteline::test
