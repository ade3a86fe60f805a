// Relay integration: a tunnel killed mid-stream (visitor sees the close, kite unregistered,
// next visitor gets 503) and a second connector taking over a kite after the first died.
#include <gtest/gtest.h>

#include "support/fake_connector.hpp"
#include "support/fake_visitor.hpp"
#include "support/loopback_relay.hpp"

namespace kiteline::test {
namespace {

TEST(RelayLifecycle, TunnelKilledMidStream) {
  loopback_relay relay;
  ASSERT_TRUE(relay.ok()) << relay.error();
  auto opts = with_kites({{"http", "dies.test"}});
  opts.handler = behaviour::serve_pattern(256ULL << 20, 3);  // far more than we will read
  fake_connector c(relay.port(), opts);
  ASSERT_TRUE(c.connect_flow_b().tunnel_up);
  test_socket v;
  ASSERT_TRUE(v.connect(relay.port()));
  ASSERT_TRUE(v.send_all(http_get("dies.test")));
  ASSERT_EQ(v.read_head().rfind("HTTP/1.1 200", 0), 0U);
  auto part = v.read_exact(1 << 20);
  ASSERT_EQ(part.size(), 1U << 20);
  EXPECT_EQ(sha256_hex(part), sha256_hex(pattern(3).bytes(1 << 20)));
  c.kill();
  // The visitor sees its connection end (after whatever was already buffered).
  EXPECT_TRUE(v.wait_closed());
  EXPECT_TRUE(relay.wait_for_log({"tunnel down", "kites=1"}));
  EXPECT_TRUE(relay.wait_for_route("http", "dies.test", false));
  EXPECT_EQ(relay.server().tunnel_count(), 0U);
  auto r = http_exchange(relay.port(), http_get("dies.test"));
  EXPECT_EQ(r.status, 503);
  EXPECT_NE(r.body_text().find("dies.test"), std::string::npos);
}

// Issue 3 item 5: several connectors (different BSALTs) serve one kite; visitors are spread over
// the live ones, and when one dies new visitors go to the others.
TEST(RelayLifecycle, SeveralConnectorsServeOneKite) {
  loopback_relay relay;
  ASSERT_TRUE(relay.ok()) << relay.error();
  auto one = with_kites({{"http", "ha.test"}});
  one.handler = behaviour::fixed_reply("HTTP/1.0 200 OK\r\n\r\none");
  auto two = with_kites({{"http", "ha.test"}});
  two.handler = behaviour::fixed_reply("HTTP/1.0 200 OK\r\n\r\ntwo");
  fake_connector first(relay.port(), one);
  ASSERT_TRUE(first.connect_flow_b().tunnel_up);
  fake_connector second(relay.port(), two);
  auto out = second.connect_flow_b();
  ASSERT_TRUE(out.tunnel_up) << out.error << "\n" << relay.log_dump();
  EXPECT_EQ(out.count(wire::kite_status::duplicate), 0U);
  EXPECT_EQ(relay.server().tunnel_count(), 2U);
  int ones = 0;
  int twos = 0;
  for (int i = 0; i < 6; ++i) {
    const auto body = http_exchange(relay.port(), http_get("ha.test")).body_text();
    ones += body == "one" ? 1 : 0;
    twos += body == "two" ? 1 : 0;
  }
  EXPECT_EQ(ones + twos, 6);
  EXPECT_GE(ones, 1);  // round robin over the live tunnels
  EXPECT_GE(twos, 1);
  first.kill();
  ASSERT_TRUE(relay.wait_for_log({"tunnel down"}));
  const auto before = second.stream_count();
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(http_exchange(relay.port(), http_get("ha.test")).body_text(), "two");
  }
  EXPECT_EQ(second.stream_count(), before + 4U);
}

}  // namespace
}  // namespace kiteline::test
