// relay::kite_registry: routing of a visitor to a live tunnel (spec §6.4) and the Duplicate rule
// (spec §4.6 step 8), over tunnels that live and die in the test.
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "relay/kite_registry.hpp"
#include "relay/server.hpp"

namespace kiteline::relay {
namespace {

/// A tunnel the registry can point at: alive while the test holds it.
struct live_tunnel {
  std::shared_ptr<relay::tunnel> owner = std::make_shared<relay::tunnel>();
  tunnel_ref ref(std::uint64_t id, std::string bsalt = "salt") const {
    return tunnel_ref{owner, 0, id, std::move(bsalt)};
  }
};

std::uint64_t found_id(const kite_registry& reg, std::string_view proto, std::string_view domain,
                       std::uint32_t port, bool exact_only = false, std::size_t pick = 0) {
  route r;
  return reg.find(proto, domain, port, r, exact_only, pick) ? r.ref.id : 0;
}

TEST(KiteRegistry, EmptyRegistryFindsNothing) {
  kite_registry reg;
  route r;
  EXPECT_FALSE(reg.find("http", "foo.test", 80, r));
  EXPECT_EQ(reg.key_count(), 0u);
}

TEST(KiteRegistry, ExactKiteIsFoundWithItsProtocolAndName) {
  kite_registry reg;
  live_tunnel t;
  reg.add("http:foo.test", t.ref(7));
  route r;
  ASSERT_TRUE(reg.find("http", "foo.test", 80, r));
  EXPECT_EQ(r.ref.id, 7u);
  EXPECT_EQ(r.proto, "http");
  EXPECT_EQ(r.kite, "foo.test");
  EXPECT_EQ(found_id(reg, "http", "bar.test", 80), 0u);
  EXPECT_EQ(found_id(reg, "raw", "foo.test", 22), 0u);
}

TEST(KiteRegistry, HttpVisitorsReachHttp2AndHttp3KitesInThatOrder) {
  kite_registry reg;
  live_tunnel a, b;
  reg.add("http3:foo.test", a.ref(3));
  route r;
  ASSERT_TRUE(reg.find("http", "foo.test", 80, r));
  EXPECT_EQ(r.proto, "http3");
  reg.add("http2:foo.test", b.ref(2));
  ASSERT_TRUE(reg.find("http", "foo.test", 80, r));
  EXPECT_EQ(r.proto, "http2");
  EXPECT_EQ(r.ref.id, 2u);
}

TEST(KiteRegistry, WebsocketVisitorsPreferWebsocketThenHttp) {
  kite_registry reg;
  live_tunnel a, b;
  reg.add("http:foo.test", a.ref(1));
  EXPECT_EQ(found_id(reg, "websocket", "foo.test", 80), 1u);
  reg.add("websocket:foo.test", b.ref(2));
  EXPECT_EQ(found_id(reg, "websocket", "foo.test", 80), 2u);
  // ...but an http visitor never reaches a websocket-only kite.
  kite_registry only_ws;
  only_ws.add("websocket:bar.test", b.ref(2));
  EXPECT_EQ(found_id(only_ws, "http", "bar.test", 80), 0u);
}

TEST(KiteRegistry, PortSpecificKiteWinsOverThePortlessOne) {
  kite_registry reg;
  live_tunnel a, b;
  reg.add("http:foo.test", a.ref(1));
  reg.add("http-8080:foo.test", b.ref(2));
  EXPECT_EQ(found_id(reg, "http", "foo.test", 8080), 2u);
  EXPECT_EQ(found_id(reg, "http", "foo.test", 80), 1u);
}

TEST(KiteRegistry, WildcardCoversSubdomainsButNeverATopLevelDomain) {
  kite_registry reg;
  live_tunnel a;
  reg.add("http:*.foo.test", a.ref(4));
  route r;
  ASSERT_TRUE(reg.find("http", "a.b.foo.test", 80, r));
  EXPECT_EQ(r.ref.id, 4u);
  EXPECT_EQ(r.kite, "*.foo.test");
  EXPECT_EQ(found_id(reg, "http", "bar.foo.test", 80), 4u);
  EXPECT_EQ(found_id(reg, "http", "foo.test", 80), 0u);  // the wildcard is not its own parent
  EXPECT_EQ(found_id(reg, "http", "bar.foo.test", 80, /*exact_only=*/true), 0u);

  kite_registry tld;
  tld.add("http:*.test", a.ref(5));
  EXPECT_EQ(found_id(tld, "http", "foo.test", 80), 0u);  // "*.test" never matches
}

TEST(KiteRegistry, ExactKiteWinsOverAWildcard) {
  kite_registry reg;
  live_tunnel a, b;
  reg.add("http:*.foo.test", a.ref(1));
  reg.add("http:www.foo.test", b.ref(2));
  EXPECT_EQ(found_id(reg, "http", "www.foo.test", 80), 2u);
  EXPECT_EQ(found_id(reg, "http", "api.foo.test", 80), 1u);
}

TEST(KiteRegistry, UnknownKiteCatchesWhatNothingElseServes) {
  kite_registry reg;
  live_tunnel a, b;
  reg.add("raw:unknown", a.ref(9));
  route r;
  ASSERT_TRUE(reg.find("raw", "anything.test", 22, r));
  EXPECT_EQ(r.ref.id, 9u);
  EXPECT_EQ(r.kite, "unknown");
  reg.add("raw:ssh.test", b.ref(8));
  EXPECT_EQ(found_id(reg, "raw", "ssh.test", 22), 8u);
  EXPECT_EQ(found_id(reg, "http", "anything.test", 80), 0u);
}

TEST(KiteRegistry, DeadTunnelsAreSkippedAndRemovedTunnelsForgotten) {
  kite_registry reg;
  auto dying = std::make_unique<live_tunnel>();
  live_tunnel alive;
  reg.add("http:foo.test", dying->ref(1));
  reg.add("http:foo.test", alive.ref(2));
  EXPECT_EQ(found_id(reg, "http", "foo.test", 80, false, 0), 1u);
  dying.reset();  // the tunnel is gone before it unregistered
  for (std::size_t pick = 0; pick < 4; ++pick) {
    EXPECT_EQ(found_id(reg, "http", "foo.test", 80, false, pick), 2u) << pick;
  }
  reg.remove_tunnel(2);
  EXPECT_EQ(found_id(reg, "http", "foo.test", 80), 0u);
  EXPECT_EQ(reg.key_count(), 1u);  // tunnel 1's entry stays until it is removed
  reg.remove_tunnel(1);
  EXPECT_EQ(reg.key_count(), 0u);
}

TEST(KiteRegistry, PickSpreadsVisitorsRoundRobin) {
  kite_registry reg;
  live_tunnel a, b, c;
  reg.add("http:foo.test", a.ref(1));
  reg.add("http:foo.test", b.ref(2));
  reg.add("http:foo.test", c.ref(3));
  std::vector<std::uint64_t> seen;
  for (std::size_t pick = 0; pick < 6; ++pick) {
    seen.push_back(found_id(reg, "http", "foo.test", 80, false, pick));
  }
  EXPECT_EQ(seen, (std::vector<std::uint64_t>{1, 2, 3, 1, 2, 3}));
}

TEST(KiteRegistry, RemoveTunnelDropsEveryKeyOfThatTunnelOnly) {
  kite_registry reg;
  live_tunnel a, b;
  reg.add("http:foo.test", a.ref(1));
  reg.add("raw-22:foo.test", a.ref(1));
  reg.add("http:bar.test", b.ref(2));
  EXPECT_EQ(reg.key_count(), 3u);
  reg.remove_tunnel(1);
  EXPECT_EQ(reg.key_count(), 1u);
  EXPECT_EQ(found_id(reg, "http", "foo.test", 80), 0u);
  EXPECT_EQ(found_id(reg, "http", "bar.test", 80), 2u);
}

TEST(KiteRegistry, DuplicateRuleIsPerConnectorAndCountsCoveringWildcards) {
  kite_registry reg;
  live_tunnel a;
  reg.add("http:foo.test", a.ref(1, "salt-A"));
  reg.add("http:*.wild.test", a.ref(1, "salt-A"));
  EXPECT_TRUE(reg.is_served("http:foo.test", 2, "salt-A"));   // the same connector, again
  EXPECT_FALSE(reg.is_served("http:foo.test", 1, "salt-A"));  // its own tunnel does not count
  EXPECT_FALSE(reg.is_served("http:foo.test", 2, "salt-B"));  // another connector may share it
  EXPECT_TRUE(reg.is_served("http:x.wild.test", 2, "salt-A"));
  EXPECT_FALSE(reg.is_served("http:wild.test", 2, "salt-A"));
  EXPECT_FALSE(reg.is_served("http:bar.test", 2, "salt-A"));
}

TEST(KiteRegistry, DuplicateRuleIgnoresDeadTunnels) {
  kite_registry reg;
  auto dying = std::make_unique<live_tunnel>();
  reg.add("http:foo.test", dying->ref(1, "s"));
  EXPECT_TRUE(reg.is_served("http:foo.test", 2, "s"));
  dying.reset();
  EXPECT_FALSE(reg.is_served("http:foo.test", 2, "s"));
}

TEST(KiteRegistry, LookupsFromOtherThreadsSeeAWholeSnapshot) {
  kite_registry reg;
  live_tunnel a;
  constexpr int kites = 200;
  std::thread writer([&] {
    for (int i = 0; i < kites; ++i) {
      reg.add("http:k" + std::to_string(i) + ".test", a.ref(1));
    }
  });
  std::size_t last = 0;
  bool ordered = true;
  for (int i = 0; i < 2000; ++i) {  // every snapshot holds whole adds, in order
    const std::size_t n = reg.key_count();
    ordered = ordered && n >= last && n <= static_cast<std::size_t>(kites);
    last = n;
  }
  writer.join();
  EXPECT_TRUE(ordered);
  EXPECT_EQ(reg.key_count(), static_cast<std::size_t>(kites));
  for (int i = 0; i < kites; ++i) {
    ASSERT_EQ(found_id(reg, "http", "k" + std::to_string(i) + ".test", 80), 1u) << i;
  }
}

// remove_tunnel() drops exactly that tunnel's keys (through its key index), keeps a key another
// tunnel still serves, and ignores an id it never saw; adding one key twice is harmless.
TEST(KiteRegistry, RemovingATunnelDropsOnlyItsKeys) {
  kite_registry reg;
  live_tunnel a;
  live_tunnel b;
  reg.add("http:a.test", a.ref(1));
  reg.add("raw-22:a.test", a.ref(1));
  reg.add("http:shared.test", a.ref(1));
  reg.add("http:shared.test", a.ref(1));
  reg.add("http:shared.test", b.ref(2, "other"));
  reg.add("http:b.test", b.ref(2, "other"));
  EXPECT_EQ(reg.key_count(), 4u);
  reg.remove_tunnel(99);
  EXPECT_EQ(reg.key_count(), 4u);
  reg.remove_tunnel(1);
  EXPECT_EQ(reg.key_count(), 2u);
  EXPECT_EQ(found_id(reg, "http", "a.test", 80), 0u);
  EXPECT_EQ(found_id(reg, "raw", "a.test", 22, true), 0u);
  EXPECT_EQ(found_id(reg, "http", "shared.test", 80), 2u);
  EXPECT_EQ(found_id(reg, "http", "b.test", 80), 2u);
  reg.remove_tunnel(1);
  reg.remove_tunnel(2);
  EXPECT_EQ(reg.key_count(), 0u);
  reg.add("http:a.test", a.ref(1));  // an id may come back after removal
  EXPECT_EQ(found_id(reg, "http", "a.test", 80), 1u);
}

// The observer (the fleet publisher) hears each tunnel's domains once, whatever the number of
// protocols it registered them for, and once more when the tunnel goes.
TEST(KiteRegistry, ObserverHearsEachTunnelsDomainsOnce) {
  kite_registry reg;
  std::vector<std::string> heard;
  reg.set_observer([&](std::string_view kite, bool up) {
    heard.push_back((up ? "+" : "-") + std::string(kite));
  });
  live_tunnel a;
  live_tunnel b;
  reg.add("http:a.test", a.ref(1));
  reg.add("raw-22:a.test", a.ref(1));
  reg.add("http:b.test", a.ref(1));
  reg.add("http:a.test", b.ref(2, "other"));
  reg.remove_tunnel(1);
  reg.remove_tunnel(1);  // unknown by now: nothing heard
  reg.remove_tunnel(2);
  const std::vector<std::string> want{"+a.test", "+b.test", "+a.test", "-a.test", "-b.test",
                                      "-a.test"};
  EXPECT_EQ(heard, want);
}

}  // namespace
}  // namespace kiteline::relay
