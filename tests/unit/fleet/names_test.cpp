#include "fleet/names.hpp"

#include <gtest/gtest.h>

namespace kiteline::fleet {
namespace {

TEST(FleetNames, KiteOutsideTheZoneIsPublishedUnderIt) {
  EXPECT_EQ(record_name("foo.example.com", "fleet.test"), "foo.example.com.fleet.test");
  EXPECT_EQ(record_name("*.example.com", "fleet.test"), "*.example.com.fleet.test");
  // A name that merely ends with the zone's text is not under the zone.
  EXPECT_EQ(record_name("xfleet.test", "fleet.test"), "xfleet.test.fleet.test");
}

TEST(FleetNames, KiteUnderTheZoneKeepsItsName) {
  EXPECT_EQ(record_name("alice.fleet.test", "fleet.test"), "alice.fleet.test");
  EXPECT_EQ(record_name("fleet.test", "fleet.test"), "fleet.test");
}

TEST(FleetNames, PoolName) { EXPECT_EQ(pool_name("fleet.test"), "fe.fleet.test"); }

}  // namespace
}  // namespace kiteline::fleet
