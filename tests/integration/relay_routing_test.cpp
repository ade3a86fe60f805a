// Relay integration: HTTP visitors routed by Host (port stripped, exact and wildcard kites),
// the 503 page, 400 without Host, and WebSocket upgrades passing through.
#include <gtest/gtest.h>

#include "support/fake_connector.hpp"
#include "support/fake_visitor.hpp"
#include "support/loopback_relay.hpp"
#include "wire/ping.hpp"

namespace kiteline::test {
namespace {

constexpr std::string_view hello = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";

TEST(RelayRouting, HostWithPortGoesToExactKite) {
  loopback_relay relay;
  ASSERT_TRUE(relay.ok()) << relay.error();
  auto opts = with_kites({{"http", "foo.test"}});
  opts.handler = behaviour::fixed_reply(std::string(hello));
  fake_connector c(relay.port(), opts);
  ASSERT_TRUE(c.connect_flow_b().tunnel_up);
  auto r = http_exchange(relay.port(), http_get("FOO.test:" + std::to_string(relay.port())));
  EXPECT_EQ(r.status, 200) << r.head;
  EXPECT_EQ(r.body_text(), "hello");
  ASSERT_TRUE(c.wait_streams(1));
  auto s = c.stream_at(0);
  EXPECT_EQ(s->proto, "http");
  EXPECT_EQ(s->host, "foo.test");
  EXPECT_EQ(s->port, relay.port());
  EXPECT_EQ(s->rip, "127.0.0.1");
  EXPECT_NE(s->rport, 0U);
  EXPECT_FALSE(s->rtls);
  // The request reached the connector byte for byte.
  EXPECT_EQ(as_text(s->received()).substr(0, 4), "GET ");
}

TEST(RelayRouting, WildcardKiteServesSubdomains) {
  loopback_relay relay;
  ASSERT_TRUE(relay.ok()) << relay.error();
  auto opts = with_kites({{"http", "*.wild.test"}});
  opts.handler = behaviour::fixed_reply(std::string(hello));
  fake_connector c(relay.port(), opts);
  ASSERT_TRUE(c.connect_flow_b().tunnel_up);
  auto r = http_exchange(relay.port(), http_get("a.wild.test"));
  EXPECT_EQ(r.status, 200) << r.head;
  ASSERT_TRUE(c.wait_streams(1));
  EXPECT_EQ(c.stream_at(0)->host, "a.wild.test");
  // The wildcard never covers its own parent.
  auto miss = http_exchange(relay.port(), http_get("wild.test"));
  EXPECT_EQ(miss.status, 503);
}

TEST(RelayRouting, HeadInPiecesDoesNotHoldUpOtherVisitors) {
  // The relay reads a visitor's first bytes without waiting when they are there already, and
  // waits (never blocks its worker) when they are not; this relay has one worker.
  loopback_relay relay;
  ASSERT_TRUE(relay.ok()) << relay.error();
  auto opts = with_kites({{"http", "foo.test"}});
  opts.handler = behaviour::fixed_reply(std::string(hello));
  fake_connector c(relay.port(), opts);
  ASSERT_TRUE(c.connect_flow_b().tunnel_up);
  const std::string req = http_get("foo.test");
  test_socket slow;
  ASSERT_TRUE(slow.connect(relay.port()));
  ASSERT_TRUE(slow.send_all(std::string_view(req).substr(0, 20)));
  // Another visitor is served in full meanwhile.
  auto quick = http_exchange(relay.port(), req);
  EXPECT_EQ(quick.status, 200) << quick.head;
  EXPECT_EQ(quick.body_text(), "hello");
  // The rest of the slow visitor's head, one byte per write.
  for (std::size_t i = 20; i < req.size(); ++i) {
    ASSERT_TRUE(slow.send_all(std::string_view(req).substr(i, 1)));
  }
  auto r = read_response(slow);
  EXPECT_EQ(r.status, 200) << r.head;
  EXPECT_EQ(r.body_text(), "hello");
  ASSERT_TRUE(c.wait_streams(2));
  for (std::size_t i = 0; i < 2; ++i) {
    auto s = c.stream_at(i);
    ASSERT_TRUE(s->wait_received(req.size()));
    EXPECT_EQ(as_text(s->received()), req);
  }
  // A visitor that connects and leaves without a byte is closed and routed nowhere.
  const auto before = relay.server().counters().connections.load();
  test_socket quiet;
  ASSERT_TRUE(quiet.connect(relay.port()));
  quiet.close();
  ASSERT_TRUE(wait_for([&] { return relay.server().counters().connections.load() > before; },
                       milliseconds(5000), "the quiet visitor accepted"));
  auto again = http_exchange(relay.port(), req);
  EXPECT_EQ(again.status, 200) << again.head;
  EXPECT_EQ(relay.server().counters().visitors_routed.load(), 3u);
}

TEST(RelayRouting, UnknownHostGets503Page) {
  loopback_relay relay;
  ASSERT_TRUE(relay.ok()) << relay.error();
  auto r = http_exchange(relay.port(), http_get("nobody.test"));
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.head + r.body_text(),
            wire::format_unavailable_page(relay.server().uuid(), "HTTP", "nobody.test", "fe"));
  EXPECT_TRUE(r.eof);
  EXPECT_TRUE(relay.wait_for_log({"visitor unavailable", "kite=nobody.test"}));
}

TEST(RelayRouting, NoHostGets400) {
  loopback_relay relay;
  ASSERT_TRUE(relay.ok()) << relay.error();
  auto r = http_exchange(relay.port(), "GET / HTTP/1.0\r\n\r\n");
  EXPECT_EQ(r.status, 400) << r.head;
  EXPECT_EQ(r.header("X-PageKite-UUID"), relay.server().uuid());
  EXPECT_TRUE(relay.wait_for_log({"visitor refused", "no Host header"}));
}

TEST(RelayRouting, WebSocketUpgradePassesThrough) {
  loopback_relay relay;
  ASSERT_TRUE(relay.ok()) << relay.error();
  auto opts = with_kites({{"http", "ws.test"}});
  fake_connector c(relay.port(), opts);
  ASSERT_TRUE(c.connect_flow_b().tunnel_up);
  test_socket v;
  ASSERT_TRUE(v.connect(relay.port()));
  const std::string req =
      "GET /chat HTTP/1.1\r\nHost: ws.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
  ASSERT_TRUE(v.send_all(req));
  ASSERT_TRUE(c.wait_streams(1));
  auto s = c.stream_at(0);
  ASSERT_TRUE(s->wait_received(req.size()));
  EXPECT_EQ(as_text(s->received()), req);
  // --protos has no websocket here: the registry candidates route it as http (spec §6.4).
  EXPECT_EQ(s->proto, "http");
  ASSERT_TRUE(s->send("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                      "Connection: Upgrade\r\n\r\n"));
  EXPECT_EQ(v.read_head().rfind("HTTP/1.1 101", 0), 0U);
  // Frames both ways after the 101 (opaque bytes to the relay).
  const std::string up = "\x81\x85\x01\x02\x03\x04" "abcde";
  ASSERT_TRUE(v.send_all(up));
  ASSERT_TRUE(s->wait_received(req.size() + up.size()));
  EXPECT_EQ(as_text(s->received()).substr(req.size()), up);
  const std::string down = "\x81\x05hello";
  ASSERT_TRUE(s->send(down));
  EXPECT_EQ(as_text(v.read_exact(down.size())), down);
}

TEST(RelayRouting, WebSocketProtoWhenEnabled) {
  relay_options ro;
  ro.protos = {"http", "https", "raw", "websocket"};
  ro.extra_domains = {"websocket:*.test:s3cret"};
  loopback_relay relay(ro);
  ASSERT_TRUE(relay.ok()) << relay.error();
  fake_connector c(relay.port(), with_kites({{"websocket", "ws.test"}}));
  ASSERT_TRUE(c.connect_flow_b().tunnel_up);
  test_socket v;
  ASSERT_TRUE(v.connect(relay.port()));
  ASSERT_TRUE(v.send_all("GET / HTTP/1.1\r\nHost: ws.test\r\nUpgrade: websocket\r\n"
                         "Connection: Upgrade\r\n\r\n"));
  ASSERT_TRUE(c.wait_streams(1));
  EXPECT_EQ(c.stream_at(0)->proto, "websocket");
}

}  // namespace
}  // namespace kiteline::test
