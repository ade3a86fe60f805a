// The relay's --fleet_* options (config/apply_relay_fleet.cpp, issue 24): values, defaults,
// what is refused, and the whole-configuration rules (validate.cpp).
#include <gtest/gtest.h>

#include "config_test_support.hpp"

namespace kiteline::config {
namespace {

using test::dump;
using test::parse;

TEST(relay_fleet_parse, settings) {
  const auto out = parse({"--isfrontend", "--domain=*:a.example:S", "--fleet_dns=127.0.0.10:5353",
                          "--fleet_zone=Fleet.Test.", "--fleet_tsig=HMAC-SHA256:Fleet:c2VjcmV0",
                          "--fleet_address=127.0.0.11", "--fleet_address=[::1]",
                          "--fleet_port=4443", "--fleet_secret=0123456789abcdef",
                          "--fleet_ttl=7", "--fleet_cache_seconds=3", "--fleet_peer_timeout=9",
                          "--fleet_ping_seconds=2"});
  ASSERT_TRUE(out.errors.empty()) << dump(out.errors);
  ASSERT_TRUE(out.relay);
  const auto& f = out.relay->fleet;
  EXPECT_TRUE(f.enabled());
  EXPECT_EQ(f.dns_server, "127.0.0.10:5353");
  EXPECT_EQ(f.zone, "fleet.test");
  EXPECT_EQ(f.tsig.algorithm, "hmac-sha256");
  EXPECT_EQ(f.tsig.name, "fleet");
  EXPECT_EQ(f.tsig.key_base64.reveal(), "c2VjcmV0");
  EXPECT_EQ(f.addresses, (std::vector<std::string>{"127.0.0.11", "::1"}));
  EXPECT_EQ(f.port, 4443);
  EXPECT_EQ(f.peer_secret.reveal(), "0123456789abcdef");
  EXPECT_EQ(f.ttl, std::chrono::seconds(7));
  EXPECT_EQ(f.cache, std::chrono::seconds(3));
  EXPECT_EQ(f.peer_timeout, std::chrono::seconds(9));
  EXPECT_EQ(f.peer_interval, std::chrono::seconds(2));
}

TEST(relay_fleet_parse, off_by_default) {
  const auto out = parse({"--isfrontend", "--domain=*:a.example:S"});
  ASSERT_TRUE(out.errors.empty()) << dump(out.errors);
  EXPECT_FALSE(out.relay->fleet.enabled());
  EXPECT_EQ(out.relay->fleet.ttl, std::chrono::seconds(10));
}

TEST(relay_fleet_parse, bad_values_are_errors) {
  for (const char* word :
       {"--fleet_dns=dns.example:53", "--fleet_zone=bad..zone", "--fleet_tsig=hmac-sha256:k",
        "--fleet_tsig=hmac-foo:k:c2VjcmV0", "--fleet_tsig=hmac-sha256:k:not*base64",
        "--fleet_address=relay.example", "--fleet_port=0", "--fleet_secret=short",
        "--fleet_ttl=0", "--fleet_peer_timeout=x"}) {
    const auto out = parse({"--isfrontend", "--domain=*:a.example:S", "--fleet_dns=127.0.0.1",
                            "--fleet_zone=f.test", "--fleet_tsig=hmac-sha256:k:c2VjcmV0",
                            "--fleet_address=127.0.0.1", word});
    EXPECT_EQ(out.errors.size(), 1u) << word << "\n" << dump(out.errors);
  }
}

TEST(relay_fleet_parse, incomplete_fleets_are_errors) {
  // --fleet_dns without zone, key and address.
  auto out = parse({"--isfrontend", "--domain=*:a.example:S", "--fleet_dns=127.0.0.1"});
  ASSERT_EQ(out.errors.size(), 1u) << dump(out.errors);
  EXPECT_NE(out.errors[0].message.find("--fleet_zone"), std::string::npos);
  // A peer port without the secret would accept anybody.
  out = parse({"--isfrontend", "--domain=*:a.example:S", "--fleet_dns=127.0.0.1",
               "--fleet_zone=f.test", "--fleet_tsig=hmac-sha256:k:c2VjcmV0",
               "--fleet_address=127.0.0.1", "--fleet_port=4443"});
  ASSERT_EQ(out.errors.size(), 1u) << dump(out.errors);
  EXPECT_NE(out.errors[0].message.find("--fleet_secret"), std::string::npos);
  // Fleet settings without --fleet_dns.
  out = parse({"--isfrontend", "--domain=*:a.example:S", "--fleet_zone=f.test"});
  ASSERT_EQ(out.errors.size(), 1u) << dump(out.errors);
  EXPECT_NE(out.errors[0].message.find("--fleet_dns"), std::string::npos);
}

}  // namespace
}  // namespace kiteline::config
