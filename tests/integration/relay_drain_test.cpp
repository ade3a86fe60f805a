// relay::server::drain in-process (issue 22 item 4): the drain closes the listeners, tells the
// connector, closes the idle tunnel and reports; a kiteline connector whose pool relay drains
// moves its kite to another relay of the pool at once.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "connector/client.hpp"
#include "support/connector_fixture.hpp"
#include "support/loopback_relay.hpp"
#include "support/wait.hpp"

namespace kiteline::test {
namespace {

/// relay.server().drain(grace) and the summary it reports (waited for, bounded).
struct drain_result {
  bool done = false;
  relay::drain_summary summary;
};

drain_result drain_and_wait(relay::server& server, std::chrono::seconds grace) {
  auto p = std::make_shared<std::promise<relay::drain_summary>>();
  auto f = p->get_future();
  server.drain(grace, [p](const relay::drain_summary& s) { p->set_value(s); });
  drain_result r;
  if (f.wait_for(test_timeout()) == std::future_status::ready) {
    r.done = true;
    r.summary = f.get();
  }
  return r;
}

TEST(RelayDrain, IdleRelayTellsTheConnectorRefusesVisitorsAndEndsAtOnce) {
  http_origin origin;
  loopback_relay relay;
  ASSERT_TRUE(relay.ok()) << relay.error();
  test_connector conn(backend_args(relay.port(), origin.port()));
  ASSERT_TRUE(conn.ok()) << conn.error;
  ASSERT_TRUE(wait_live(conn));
  ASSERT_TRUE(get_ok(relay.port(), 1024));

  // The grace is far longer than the test may wait: an idle relay must not use it.
  const auto r = drain_and_wait(relay.server(), std::chrono::seconds(3600));
  ASSERT_TRUE(r.done) << relay.log_dump();
  EXPECT_EQ(r.summary.tunnels, 1U);
  EXPECT_EQ(r.summary.streams, 0U);
  EXPECT_EQ(r.summary.cut, 0U);
  EXPECT_FALSE(r.summary.grace_over);
  EXPECT_TRUE(relay.log().contains({"drain started", "1 tunnel(s) told", "0 stream(s)"}))
      << relay.log_dump();
  EXPECT_TRUE(relay.log().contains({"tunnel down", "reason=\"relay draining\""}))
      << relay.log_dump();
  const auto refused = visit(relay.port(), get_request("foo.test", 1024), {}, milliseconds(5000));
  EXPECT_EQ(refused.status, 0) << "a visitor was answered during the drain: " << refused.head;
  EXPECT_TRUE(wait_for([&] { return conn.sink->contains({"the relay is draining", "3600 s"}); },
                       "the connector heard the notice"))
      << conn.log_dump();
  EXPECT_TRUE(conn.sink->contains({"is going: its kites stay live on 0 other relay(s)"}))
      << conn.log_dump();
}

// --frontends=1:pool.test:443 through a local resolver table: relay A first, then A and B.
// When A drains, the connector retires it and brings its kite up on B at once (the pool's next
// regular pass is 15 minutes away).
TEST(RelayDrain, PoolConnectorMovesToAnotherRelayAtOnce) {
  http_origin origin;
  loopback_relay a;
  loopback_relay b;
  ASSERT_TRUE(a.ok()) << a.error();
  ASSERT_TRUE(b.ok()) << b.error();
  const std::uint16_t port_a = a.port();
  const std::uint16_t port_b = b.port();
  auto b_listed = std::make_shared<std::atomic<bool>>(false);
  connector::client_options opts;
  opts.resolver = [port_a, port_b, b_listed](const std::string& name, std::uint16_t pool_port) {
    std::vector<net::tcp::endpoint> out;
    if (name == "pool.test" && pool_port == 443) {
      out.emplace_back(asio::ip::make_address("127.0.0.1"), port_a);
      if (b_listed->load()) {
        out.emplace_back(asio::ip::make_address("127.0.0.1"), port_b);
      }
    }
    return out;
  };
  test_connector conn({"--nullui", "--frontends=1:pool.test:443",
                       "--service_on=http:foo.test:127.0.0.1:" + std::to_string(origin.port()) +
                           ":s3cret"},
                      opts);
  ASSERT_TRUE(conn.ok()) << conn.error;
  const std::string on_a = "kite http:foo.test live on relay 127.0.0.1:" + std::to_string(port_a);
  const std::string on_b = "kite http:foo.test live on relay 127.0.0.1:" + std::to_string(port_b);
  ASSERT_TRUE(wait_for([&] { return conn.sink->contains({on_a}); }, "live on relay A"))
      << conn.log_dump();
  b_listed->store(true);

  const auto r = drain_and_wait(a.server(), std::chrono::seconds(3600));
  ASSERT_TRUE(r.done) << a.log_dump();
  EXPECT_EQ(r.summary.tunnels, 1U);
  ASSERT_TRUE(wait_for([&] { return conn.sink->contains({on_b}); }, "live on relay B"))
      << conn.log_dump();
  EXPECT_TRUE(conn.sink->contains({"is going: choosing a replacement from the pool now"}))
      << conn.log_dump();
  EXPECT_TRUE(get_ok(port_b, 64 * 1024)) << b.log_dump();
  // Relay A is left for good: retired, and no longer among the relays in use.
  EXPECT_TRUE(wait_for(
      [&] {
        for (const auto& s : conn.client->relays()) {
          if (s.label == "127.0.0.1:" + std::to_string(port_a)) {
            return false;
          }
        }
        return true;
      },
      "relay A dropped"))
      << conn.log_dump();
}

}  // namespace
}  // namespace kiteline::test
