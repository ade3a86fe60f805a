// core/text: the shared ASCII helpers (the house issue moves every private copy here).
#include "core/text.hpp"

#include <gtest/gtest.h>

namespace kiteline {
namespace {

TEST(text, is_ows_is_space_and_tab_only) {
  for (int b = 0; b < 256; ++b) {
    const char c = static_cast<char>(b);
    EXPECT_EQ(is_ows(c), b == ' ' || b == '\t') << b;
  }
}

TEST(text, trim_ows_strips_spaces_and_tabs_at_both_ends_only) {
  EXPECT_EQ(trim_ows(""), "");
  EXPECT_EQ(trim_ows(" \t "), "");
  EXPECT_EQ(trim_ows("\t a b \t"), "a b");
  EXPECT_EQ(trim_ows("a"), "a");
  EXPECT_EQ(trim_ows("\r a \n"), "\r a \n") << "CR and LF are not whitespace here";
  static_assert(trim_ows("  x ") == "x");
}

}  // namespace
}  // namespace kiteline
