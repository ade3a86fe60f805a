// config::errc: one +flag or --service_cfg value refused, with its code and its text.
#include <gtest/gtest.h>

#include "config/service_spec.hpp"

namespace kiteline::config {
namespace {

TEST(config_errc, service_cfg_without_key_and_value) {
  const auto f = parse_service_cfg("foo.example", "argv[1]");
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error(), errc::bad_service_cfg);
  EXPECT_EQ(f.error().message(), "expected KITE/PORT:KEY:VALUE");
}

TEST(config_errc, service_cfg_bad_port_and_bad_name) {
  const auto port = parse_service_cfg("foo.example/x:insecure:True", "argv[1]");
  ASSERT_FALSE(port);
  EXPECT_EQ(port.error(), errc::bad_port);
  EXPECT_EQ(port.error().message(), "bad port in `foo.example/x` (KITE/PORT)");
  const auto name = parse_service_cfg("foo!bar/80:insecure:True", "argv[1]");
  ASSERT_FALSE(name);
  EXPECT_EQ(name.error(), errc::bad_kite_name);
  EXPECT_EQ(name.error().message(), "`foo!bar` is not a valid kite name");
}

TEST(config_errc, plus_flag_problems_are_bad_flag) {
  const auto colon = parse_plus_flag("+a:b", "foo.example/80", "argv[2]");
  ASSERT_FALSE(colon);
  EXPECT_EQ(colon.error(), errc::bad_flag);
  EXPECT_EQ(colon.error().message(), "do not use `:` in flag names (+a:b)");
  const auto value = parse_plus_flag("+insecure=yes", "foo.example/80", "argv[2]");
  ASSERT_FALSE(value);
  EXPECT_EQ(value.error().message(), "insecure takes no value");
  const auto ok = parse_plus_flag("+rewritehost=internal.example", "foo.example/80", "argv[2]");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->key, "rewritehost");
}

}  // namespace
}  // namespace kiteline::config
