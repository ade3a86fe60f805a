// Tests of the kiteline-only connector flag --tls_direct (direct TLS with SNI, no CONNECT).
#include <gtest/gtest.h>

#include "config_test_support.hpp"

namespace kiteline::config {
namespace {

TEST(connector_parse_tls_direct, off_by_default_on_with_the_flag) {
  std::vector<std::string> base{"--clean", "--frontend=127.0.0.1:2000",
                                "--service_on=http:foo.test:127.0.0.1:80:s3cret",
                                "--fe_certname=fe.test"};
  auto plain = test::parse(base);
  ASSERT_TRUE(plain.ok()) << test::dump(plain.errors);
  ASSERT_TRUE(plain.connector);
  EXPECT_FALSE(plain.connector->tls_direct);
  base.emplace_back("--tls_direct");
  auto direct = test::parse(base);
  ASSERT_TRUE(direct.ok()) << test::dump(direct.errors);
  EXPECT_TRUE(direct.connector->tls_direct);
}

TEST(connector_parse_tls_direct, refused_for_the_relay) {
  auto out = test::parse({"--clean", "--isfrontend", "--ports=0", "--tls_direct"});
  EXPECT_FALSE(out.ok());
  EXPECT_TRUE(test::mentions(out.errors, "tls_direct")) << test::dump(out.errors);
}

}  // namespace
}  // namespace kiteline::config
