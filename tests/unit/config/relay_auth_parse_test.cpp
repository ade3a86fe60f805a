// The relay's --authdomain options (config/apply_relay_auth.cpp): rules, bounds, fail open or
// closed, the nameserver, timeouts; and what is refused.
#include <gtest/gtest.h>

#include "config_test_support.hpp"

namespace kiteline::config {
namespace {

using test::dump;
using test::parse;

TEST(relay_auth_parse, rules_and_settings) {
  const auto out = parse({"--isfrontend", "--authdomain=Auth.Example.NET.", "-Apagekite.me:a.test",
                          "--auththreads=8", "--authfail_open", "--authdns=127.0.0.1:5353",
                          "--authdns_timeout=2", "--authdomain_recheck_seconds=3"});
  ASSERT_TRUE(out.errors.empty()) << dump(out.errors);  // --authdomain alone authenticates
  ASSERT_TRUE(out.relay);
  const auto& a = out.relay->auth;
  ASSERT_EQ(a.domains.size(), 2u);
  EXPECT_EQ(a.domains[0], (authdomain_rule{"", "auth.example.net"}));
  EXPECT_EQ(a.domains[1], (authdomain_rule{"pagekite.me", "a.test"}));
  EXPECT_EQ(a.max_in_flight, 8u);
  EXPECT_TRUE(a.fail_open);
  EXPECT_EQ(a.dns_server, "127.0.0.1:5353");
  EXPECT_EQ(a.timeout, std::chrono::seconds(2));
  EXPECT_EQ(a.recheck, std::chrono::seconds(3));
  const auto closed = parse({"--isfrontend", "--authdomain=x.test", "--authfail_open",
                             "--authfail_closed"});
  ASSERT_TRUE(closed.errors.empty()) << dump(closed.errors);
  ASSERT_TRUE(closed.relay);
  EXPECT_FALSE(closed.relay->auth.fail_open);
  EXPECT_EQ(closed.relay->auth.max_in_flight, 64u);
  EXPECT_EQ(closed.relay->auth.timeout, std::chrono::seconds(5));
}

TEST(relay_auth_parse, bad_values_are_errors) {
  for (const char* word : {"--authdomain=", "--authdomain=a:b:c", "--authdomain=:x.test",
                           "--authdomain=/usr/bin/auth-app", "--auththreads=0",
                           "--authdns_timeout=0", "--authdomain_recheck_seconds=x"}) {
    const auto out = parse({"--isfrontend", "--domain=*:a.example:S", word});
    EXPECT_EQ(out.errors.size(), 1u) << word << "\n" << dump(out.errors);
  }
}

}  // namespace
}  // namespace kiteline::config
