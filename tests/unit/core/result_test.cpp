#include "core/result.hpp"

#include <gtest/gtest.h>
#include <string>


namespace kiteline {
namespace {

TEST(result, holds_value) {
  result<std::string> r{std::string("x")};
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, "x");
  EXPECT_FALSE(r.error());
}

TEST(result, holds_error_enum) {
  result<int> r{std::make_error_code(std::errc::message_size)};
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error(), std::errc::message_size);
}

TEST(result, void_result) {
  result<void> ok;
  EXPECT_TRUE(ok.has_value());
  result<void> bad{std::make_error_code(std::errc::invalid_argument)};
  EXPECT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error(), std::errc::invalid_argument);
}

}  // namespace
}  // namespace kiteline
