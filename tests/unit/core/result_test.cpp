#include "core/result.hpp"

#include <gtest/gtest.h>
#include <string>

#include "wire/errc.hpp"

namespace kiteline {
namespace {

TEST(result, holds_value) {
  result<std::string> r{std::string("x")};
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, "x");
  EXPECT_FALSE(r.error());
}

TEST(result, holds_error_enum) {
  result<int> r{wire::errc::bad_sid};
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error(), wire::errc::bad_sid);
  EXPECT_EQ(r.error().message(), "malformed SID");
  EXPECT_STREQ(r.error().category().name(), "kiteline.wire");
}

TEST(result, void_result) {
  result<void> ok;
  EXPECT_TRUE(ok.has_value());
  result<void> bad{wire::errc::zlib_error};
  EXPECT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error(), wire::errc::zlib_error);
}

}  // namespace
}  // namespace kiteline
