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

TEST(text, hex_number_is_printf_percent_x) {
  EXPECT_EQ(hex_number(0), "0");
  EXPECT_EQ(hex_number(9), "9");
  EXPECT_EQ(hex_number(10), "a");
  EXPECT_EQ(hex_number(0x1f4), "1f4");
  EXPECT_EQ(hex_number(0x10000), "10000");
  EXPECT_EQ(hex_number(UINT64_MAX), "ffffffffffffffff");
}

}  // namespace
}  // namespace kiteline
