// tls::errc: set-up failures carry their code and the text users see.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tls/errc.hpp"
#include "tls/key_pair.hpp"
#include "tls/policy.hpp"

namespace kiteline::tls {
namespace {

TEST(tls_errc, missing_pem_file_is_cannot_read_file_with_its_name) {
  const auto pair = load_pem_pair("/nonexistent/kiteline/fe.pem");
  ASSERT_FALSE(pair);
  EXPECT_EQ(pair.error(), errc::cannot_read_file);
  EXPECT_EQ(pair.error().message().rfind("cannot read /nonexistent/kiteline/fe.pem: ", 0), 0U)
      << pair.error().message();
}

TEST(tls_errc, empty_pem_file_has_no_private_key) {
  const auto pair = load_certified_key("/dev/null");
  ASSERT_FALSE(pair);
  EXPECT_EQ(pair.error(), errc::no_private_key);
  EXPECT_EQ(pair.error().message(), "no private key in /dev/null");
}

TEST(tls_errc, unknown_protocol_is_bad_protocols) {
  std::vector<std::string> warnings;
  const auto policy = make_policy("tlsv9", false, "", warnings);
  ASSERT_FALSE(policy);
  EXPECT_EQ(policy.error(), errc::bad_protocols);
  EXPECT_NE(policy.error().message().find("tlsv9"), std::string::npos)
      << policy.error().message();
}

TEST(tls_errc, category_names_every_value) {
  EXPECT_STREQ(tls_category().name(), "kiteline.tls");
  for (int v = 1; v <= static_cast<int>(errc::client_certificate); ++v) {
    EXPECT_NE(tls_category().message(v), "unknown kiteline.tls error") << v;
  }
}

}  // namespace
}  // namespace kiteline::tls
