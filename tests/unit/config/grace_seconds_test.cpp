// --grace_seconds (issue 22 item 4): both roles, default 30, 0 = no drain, bounded.
#include <gtest/gtest.h>

#include "config/parse.hpp"
#include "config_test_support.hpp"

namespace kiteline::config::test {
namespace {

TEST(grace_seconds, both_roles_default_and_values) {
  const auto relay = parse({"frontend", "--domain=*:example.com:S"});
  ASSERT_TRUE(relay.ok()) << dump(relay.errors);
  EXPECT_EQ(relay.relay->process.grace_seconds, 30u);
  const auto connector = parse({"--frontend=relay.example:443", "--kitesecret=S", "a.example"});
  ASSERT_TRUE(connector.ok()) << dump(connector.errors);
  EXPECT_EQ(connector.connector->process.grace_seconds, 30u);

  const auto zero = parse({"frontend", "--domain=*:example.com:S", "--grace_seconds=0"});
  ASSERT_TRUE(zero.ok()) << dump(zero.errors);
  EXPECT_EQ(zero.relay->process.grace_seconds, 0u);
  const auto set = parse(
      {"--frontend=relay.example:443", "--kitesecret=S", "a.example", "--grace_seconds=120"});
  ASSERT_TRUE(set.ok()) << dump(set.errors);
  EXPECT_EQ(set.connector->process.grace_seconds, 120u);

  const auto bad = parse({"frontend", "--domain=*:example.com:S", "--grace_seconds=-1",
                          "--grace_seconds=86401", "--grace_seconds=30s"});
  EXPECT_EQ(bad.errors.size(), 3u) << dump(bad.errors);
  EXPECT_TRUE(
      mentions(bad.errors, "argv[3]: grace_seconds: expected seconds, 0-86400 (0 = stop at once)"));
  EXPECT_TRUE(mentions(bad.errors, "argv[5]: grace_seconds: expected seconds"));
}

}  // namespace
}  // namespace kiteline::config::test
