// The relay's access options: --client_acl, --tunnel_acl, --accept_acl_file, --ratelimit_ips and
// --overload* parsed into relay_access_config, and their refusals.
#include "config_test_support.hpp"

#include <gtest/gtest.h>

namespace kiteline::config {
namespace {

using test::dump;
using test::mentions;
using test::parse;
using test::temp_dir;

TEST(relay_access, defaults) {
  const auto out = parse({"frontend", "--domain=*:a.example:S"});
  ASSERT_TRUE(out.ok()) << dump(out.errors);
  const relay_access_config& a = out.relay->access;
  EXPECT_TRUE(a.client_acl.empty());
  EXPECT_TRUE(a.tunnel_acl.empty());
  EXPECT_TRUE(a.accept_acl_file.empty());
  EXPECT_TRUE(a.ratelimit_ips.empty());
  EXPECT_EQ(a.overload, 0u);
  EXPECT_DOUBLE_EQ(a.overload_cpu, 0.75);
  EXPECT_DOUBLE_EQ(a.overload_mem, 0.85);
}

TEST(relay_access, every_option) {
  temp_dir dir("access");
  const std::string acl = (dir.path() / "accept.acl").string();
  { std::ofstream(acl) << "127.* deny\n"; }
  const auto out =
      parse({"frontend", "--domain=*:a.example:S", "--client_acl=allow:localhost",
             "--client_acl=DENY:10\\..*", "--tunnel_acl=allow:::1", "--accept_acl_file=" + acl,
             "--ratelimit_ips=4/60", "--ratelimit_ips=Big.Example:100/10", "--overload=500",
             "--overload_file=/run/x", "--overload_cpu=0", "--overload_mem=9"});
  ASSERT_TRUE(out.ok()) << dump(out.errors);
  const relay_access_config& a = out.relay->access;
  ASSERT_EQ(a.client_acl.size(), 2u);
  EXPECT_TRUE(a.client_acl[0].allow);
  EXPECT_EQ(a.client_acl[0].pattern, "localhost");
  EXPECT_FALSE(a.client_acl[1].allow);
  EXPECT_EQ(a.client_acl[1].pattern, "10\\..*");
  EXPECT_EQ(a.client_acl[1].origin, "argv[4]");
  ASSERT_EQ(a.tunnel_acl.size(), 1u);
  EXPECT_EQ(a.tunnel_acl[0].pattern, "::1");  // only the first ':' ends the policy
  EXPECT_EQ(a.accept_acl_file, acl);
  ASSERT_EQ(a.ratelimit_ips.size(), 2u);
  EXPECT_EQ(a.ratelimit_ips[0], (ratelimit_config{"*", 4, 60}));
  EXPECT_EQ(a.ratelimit_ips[1], (ratelimit_config{"big.example", 100, 10}));
  EXPECT_EQ(a.overload, 500u);
  EXPECT_EQ(a.overload_file, "/run/x");
  EXPECT_DOUBLE_EQ(a.overload_cpu, 0.0);
  EXPECT_DOUBLE_EQ(a.overload_mem, 1.5);  // clamped as pagekite.py does
}

TEST(relay_access, bad_values_are_all_reported) {
  const auto out =
      parse({"frontend", "--domain=*:a.example:S", "--client_acl=maybe:x", "--tunnel_acl=allow:(",
             "--client_acl=nocolon", "--accept_acl_file=/nonexistent/acl", "--ratelimit_ips=4",
             "--ratelimit_ips=0/60", "--ratelimit_ips=a:b:1/1", "--overload=x", "--overload_cpu=-1",
             "--overload_mem=lots"});
  ASSERT_FALSE(out.ok());
  EXPECT_TRUE(mentions(out.errors, "argv[3]: client_acl: expected allow:REGEX or deny:REGEX"))
      << dump(out.errors);
  EXPECT_TRUE(mentions(out.errors, "argv[4]: tunnel_acl: `(`: bad regex")) << dump(out.errors);
  EXPECT_TRUE(mentions(out.errors, "argv[5]: client_acl: expected allow:REGEX"));
  EXPECT_TRUE(mentions(out.errors, "argv[6]: accept_acl_file: cannot read `/nonexistent/acl`"));
  for (const char* arg : {"argv[7]", "argv[8]", "argv[9]"}) {
    EXPECT_TRUE(
        mentions(out.errors, std::string(arg) + ": ratelimit_ips: expected [KITE:]N/SECONDS"))
        << arg << "\n"
        << dump(out.errors);
  }
  EXPECT_TRUE(mentions(out.errors, "argv[10]: overload: expected a number of connections"));
  EXPECT_TRUE(mentions(out.errors, "argv[11]: overload_cpu: expected a number, 0 or more"));
  EXPECT_TRUE(mentions(out.errors, "argv[12]: overload_mem: expected a number, 0 or more"));
}

}  // namespace
}  // namespace kiteline::config
