#include "core/outcome.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace kiteline {
namespace {

TEST(outcome, holds_value) {
  outcome<std::string> r{std::string("x")};
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, "x");
}

TEST(outcome, failure_carries_code_and_text) {
  outcome<int> r =
      failure(std::make_error_code(std::errc::no_such_file_or_directory), "cannot read /x: gone");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), std::make_error_code(std::errc::no_such_file_or_directory));
  EXPECT_EQ(r.error().code(), std::errc::no_such_file_or_directory);
  EXPECT_EQ(r.error().message(), "cannot read /x: gone");
}

TEST(outcome, failure_without_text_shows_the_code) {
  const failure f(std::make_error_code(std::errc::permission_denied), "");
  EXPECT_EQ(f.message(), std::make_error_code(std::errc::permission_denied).message());
}

TEST(outcome, prefixed_keeps_the_code) {
  const failure f =
      failure(std::make_error_code(std::errc::invalid_argument), "bad").prefixed("FILE: ");
  EXPECT_EQ(f.message(), "FILE: bad");
  EXPECT_EQ(f.code(), std::errc::invalid_argument);
}

TEST(outcome, move_only_value) {
  outcome<std::unique_ptr<int>> r = std::make_unique<int>(7);
  ASSERT_TRUE(r);
  std::unique_ptr<int> p = std::move(r).value();
  EXPECT_EQ(*p, 7);
}

TEST(outcome, void_success_and_failure) {
  const outcome<void> ok;
  EXPECT_TRUE(ok);
  const outcome<void> bad = failure(std::make_error_code(std::errc::timed_out), "slow");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message(), "slow");
}

}  // namespace
}  // namespace kiteline
