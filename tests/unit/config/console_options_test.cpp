// --httpd, --httppass and --metrics_per_kite on both roles (config::console_config).
#include <tuple>

#include <gtest/gtest.h>

#include "config_test_support.hpp"

namespace kiteline::config {
namespace {

using test::dump;
using test::parse;

TEST(console_options, httpd_forms_on_both_roles) {
  const auto relay = parse({"--isfrontend", "--ports=80", "--domain=http:*.test:s",
                            "--httpd=0.0.0.0:8080", "--httppass=pw", "--metrics_per_kite"});
  ASSERT_TRUE(relay.ok()) << dump(relay.errors);
  const auto& c = relay.relay->process.console;
  EXPECT_TRUE(c.enabled);
  EXPECT_EQ(c.host, "0.0.0.0");
  EXPECT_EQ(c.port, 8080);
  EXPECT_EQ(c.password.reveal(), "pw");
  EXPECT_TRUE(c.metrics_per_kite);
  for (const auto& [arg, host, port] :
       {std::tuple{"--httpd=:9000", "127.0.0.1", 9000}, std::tuple{"--httpd=9001", "127.0.0.1", 9001},
        std::tuple{"-H[::1]:0", "::1", 0}, std::tuple{"--httpd=localhost:9", "localhost", 9}}) {
    const auto out = parse({"--frontend=x:1", "--kitesecret=S", arg, "k.example"});
    ASSERT_TRUE(out.ok()) << arg << "\n" << dump(out.errors);
    const auto& cc = out.connector->process.console;
    EXPECT_TRUE(cc.enabled) << arg;
    EXPECT_EQ(cc.host, host) << arg;
    EXPECT_EQ(cc.port, port) << arg;
    EXPECT_TRUE(cc.password.empty());
  }
  const auto off = parse({"--frontend=x:1", "--kitesecret=S", "k.example"});
  ASSERT_TRUE(off.ok());
  EXPECT_FALSE(off.connector->process.console.enabled);
}

TEST(console_options, bad_values_are_refused) {
  for (const char* arg : {"--httpd=", "--httpd=localhost", "--httpd=h:70000", "--httpd=::1:80",
                          "--httpd=h:x", "--httppass="}) {
    const auto out = parse({"--frontend=x:1", "--kitesecret=S", arg, "k.example"});
    ASSERT_EQ(out.errors.size(), 1u) << arg << "\n" << dump(out.errors);
    EXPECT_EQ(out.errors[0].origin, "argv[3]") << arg;
  }
  const auto out = parse({"--frontend=x:1", "--kitesecret=S", "--httpd=nohost", "k.example"});
  ASSERT_EQ(out.errors.size(), 1u);
  EXPECT_NE(out.errors[0].message.find("expected HOST:PORT, :PORT or PORT"), std::string::npos);
}

}  // namespace
}  // namespace kiteline::config
