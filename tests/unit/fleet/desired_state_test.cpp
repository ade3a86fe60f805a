#include "fleet/desired_state.hpp"

#include <gtest/gtest.h>

namespace kiteline::fleet {
namespace {

const std::vector<std::string> addrs{"127.0.0.11", "::11"};

TEST(FleetDesiredState, KiteStaysUntilItsLastTunnelGoes) {
  desired_state s;
  EXPECT_TRUE(s.kite_up("foo.test"));
  EXPECT_FALSE(s.kite_up("foo.test"));
  EXPECT_EQ(s.tunnels_of("foo.test"), 2U);
  EXPECT_FALSE(s.kite_down("foo.test"));
  EXPECT_EQ(s.kite_count(), 1U);
  EXPECT_TRUE(s.kite_down("foo.test"));
  EXPECT_EQ(s.kite_count(), 0U);
  EXPECT_FALSE(s.kite_down("foo.test"));  // unknown: ignored
  EXPECT_EQ(s.tunnels_of("foo.test"), 0U);
}

TEST(FleetDesiredState, RecordsPerAddressAndPool) {
  desired_state s;
  s.kite_up("foo.test");
  s.kite_up("a.kite.test");
  EXPECT_EQ(s.records("kite.test", addrs).size(), 4U);
  s.set_pool(true);
  const auto r = s.records("kite.test", addrs);
  EXPECT_EQ(r.size(), 6U);
  EXPECT_EQ(r.count(address_record{"foo.test.kite.test", "::11"}), 1U);
  EXPECT_EQ(r.count(address_record{"a.kite.test", "127.0.0.11"}), 1U);
  EXPECT_EQ(r.count(address_record{"fe.kite.test", "127.0.0.11"}), 1U);
}

TEST(FleetDesiredState, DiffAddsAndDeletesOnlyTheDifference) {
  const std::set<address_record> want{{"a.z", "1.1.1.1"}, {"b.z", "1.1.1.1"}};
  const std::set<address_record> have{{"b.z", "1.1.1.1"}, {"c.z", "1.1.1.1"}};
  const auto d = diff(want, have);
  ASSERT_EQ(d.adds.size(), 1U);
  EXPECT_EQ(d.adds[0].name, "a.z");
  ASSERT_EQ(d.deletes.size(), 1U);
  EXPECT_EQ(d.deletes[0].name, "c.z");
  EXPECT_TRUE(diff(want, want).empty());
}

TEST(FleetDesiredState, OwnAndPeerRecordsSplitByAddress) {
  const std::vector<address_record> zone{{"ns.z", "10.0.0.1"},      {"foo.z", "127.0.0.11"},
                                         {"foo.z", "127.0.0.12"},   {"fe.z", "127.0.0.12"},
                                         {"fe.z", "::11"},          {"old.z", "127.0.0.13"}};
  const auto own = own_records(zone, addrs);
  EXPECT_EQ(own.size(), 2U);
  EXPECT_EQ(own.count(address_record{"fe.z", "::11"}), 1U);
  const auto peers = peer_records(zone, addrs, {"ns.z"});
  ASSERT_EQ(peers.size(), 2U);
  EXPECT_EQ(peers.at("127.0.0.12").size(), 2U);
  EXPECT_EQ(peers.at("127.0.0.13").size(), 1U);
  EXPECT_EQ(peers.count("10.0.0.1"), 0U);
}

}  // namespace
}  // namespace kiteline::fleet
