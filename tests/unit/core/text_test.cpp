// core/text: the shared ASCII helpers, checked over every byte value 0..255 against an
// independent description of each rule, plus edge cases.
#include "core/text.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace kiteline {
namespace {

/// Every byte value, in order, as a string of 256 chars.
std::string all_bytes() {
  std::string s(256, '\0');
  for (int b = 0; b < 256; ++b) {
    s[static_cast<std::size_t>(b)] = static_cast<char>(b);
  }
  return s;
}

bool is_upper_letter(int b) { return b >= 0x41 && b <= 0x5A; }
bool is_lower_letter(int b) { return b >= 0x61 && b <= 0x7A; }

// --- Letter case ------------------------------------------------------------------------------

TEST(text, ascii_lower_and_upper_change_only_letters_for_every_byte) {
  for (int b = 0; b < 256; ++b) {
    const char c = static_cast<char>(b);
    EXPECT_EQ(is_ascii_upper(c), is_upper_letter(b)) << b;
    EXPECT_EQ(is_ascii_lower(c), is_lower_letter(b)) << b;
    const int want_lower = is_upper_letter(b) ? b + 32 : b;
    const int want_upper = is_lower_letter(b) ? b - 32 : b;
    EXPECT_EQ(static_cast<unsigned char>(ascii_lower(c)), want_lower) << b;
    EXPECT_EQ(static_cast<unsigned char>(ascii_upper(c)), want_upper) << b;
  }
  static_assert(ascii_lower('Q') == 'q' && ascii_lower('q') == 'q' && ascii_lower('[') == '[');
  static_assert(ascii_upper('q') == 'Q' && ascii_upper('{') == '{');
  static_assert(ascii_upper('\xe9') == '\xe9' && ascii_lower('\xc9') == '\xc9');
}

TEST(text, to_lower_and_to_upper_map_every_byte_like_the_char_helpers) {
  const std::string bytes = all_bytes();
  const std::string lower = to_lower(bytes);
  const std::string upper = to_upper(bytes);
  ASSERT_EQ(lower.size(), 256U);
  ASSERT_EQ(upper.size(), 256U);
  for (std::size_t i = 0; i < 256; ++i) {
    EXPECT_EQ(lower[i], ascii_lower(bytes[i])) << i;
    EXPECT_EQ(upper[i], ascii_upper(bytes[i])) << i;
  }
  EXPECT_EQ(to_lower("AbC-1[Z]"), "abc-1[z]");
  EXPECT_EQ(to_upper("http-8080{a}"), "HTTP-8080{A}");
  EXPECT_EQ(to_lower(""), "");
  EXPECT_EQ(to_upper(std::string_view("a\0b", 3)), std::string("A\0B", 3));
}

TEST(text, ascii_iequals_folds_exactly_the_letter_pairs_over_every_byte_pair) {
  for (int a = 0; a < 256; ++a) {
    for (int b = 0; b < 256; ++b) {
      const bool same_letter =
          (is_upper_letter(a) && b == a + 32) || (is_lower_letter(a) && b == a - 32);
      const bool want = a == b || same_letter;
      const std::string x(1, static_cast<char>(a));
      const std::string y(1, static_cast<char>(b));
      ASSERT_EQ(ascii_iequals(x, y), want) << a << " vs " << b;
      ASSERT_EQ(ascii_iequals("k" + x + "z", "K" + y + "Z"), want) << a << " vs " << b;
    }
  }
}

TEST(text, ascii_iequals_does_not_fold_bit_0x20_outside_letters) {
  // The pairs that an (x | 0x20) == (y | 0x20) compare wrongly treats as equal.
  EXPECT_FALSE(ascii_iequals("[", "{"));
  EXPECT_FALSE(ascii_iequals("-", "\r"));
  EXPECT_FALSE(ascii_iequals("_", "\x7f"));
  EXPECT_FALSE(ascii_iequals("@", "`"));
  EXPECT_FALSE(ascii_iequals(std::string_view("\0", 1), " "));
  EXPECT_FALSE(ascii_iequals("\xc9", "\xe9")) << "Latin-1 letters are not ASCII letters";
}

TEST(text, ascii_iequals_edges) {
  EXPECT_TRUE(ascii_iequals("", ""));
  EXPECT_FALSE(ascii_iequals("", "a"));
  EXPECT_FALSE(ascii_iequals("host", "hos"));
  EXPECT_TRUE(ascii_iequals("X-PageKite-Features", "x-pagekite-FEATURES"));
  EXPECT_TRUE(ascii_iequals(std::string_view("a\0b", 3), std::string_view("A\0B", 3)));
  EXPECT_FALSE(ascii_iequals(std::string_view("a\0b", 3), std::string_view("a\0c", 3)));
  static_assert(ascii_iequals("Host", "hOST"));
}

TEST(text, ascii_istarts_with) {
  EXPECT_TRUE(ascii_istarts_with("X-PageKite-Features", "x-pagekite"));
  EXPECT_TRUE(ascii_istarts_with("abc", ""));
  EXPECT_TRUE(ascii_istarts_with("", ""));
  EXPECT_TRUE(ascii_istarts_with("ABC", "abc"));
  EXPECT_FALSE(ascii_istarts_with("ab", "abc"));
  EXPECT_FALSE(ascii_istarts_with("[abc", "{"));
  for (int b = 0; b < 256; ++b) {
    const std::string s = std::string(1, static_cast<char>(b)) + "rest";
    EXPECT_TRUE(ascii_istarts_with(s, std::string(1, ascii_upper(static_cast<char>(b))))) << b;
    EXPECT_EQ(ascii_istarts_with(s, std::string(1, static_cast<char>(b ^ 0x20))),
              is_upper_letter(b) || is_lower_letter(b))
        << b;
  }
}

// --- Whitespace -------------------------------------------------------------------------------

TEST(text, is_ows_is_space_and_tab_only) {
  for (int b = 0; b < 256; ++b) {
    const char c = static_cast<char>(b);
    EXPECT_EQ(is_ows(c), b == ' ' || b == '\t') << b;
  }
}

TEST(text, is_ows_or_eol_is_space_tab_cr_lf_only) {
  for (int b = 0; b < 256; ++b) {
    const char c = static_cast<char>(b);
    EXPECT_EQ(is_ows_or_eol(c), b == ' ' || b == '\t' || b == '\r' || b == '\n') << b;
  }
}

TEST(text, is_ascii_space_is_the_six_c_locale_spaces) {
  for (int b = 0; b < 256; ++b) {
    const char c = static_cast<char>(b);
    const bool want = b == ' ' || b == '\t' || b == '\n' || b == '\v' || b == '\f' || b == '\r';
    EXPECT_EQ(is_ascii_space(c), want) << b;
    const std::string s = std::string(2, c) + "x" + c + "y" + std::string(2, c);
    EXPECT_EQ(trim_ascii_space(s), want ? std::string("x") + c + "y" : s) << b;
  }
  EXPECT_EQ(trim_ascii_space(" \f\v\r\n\t"), "");
  EXPECT_EQ(trim_ascii_space(""), "");
  static_assert(trim_ascii_space("\v a b\f") == "a b");
}

TEST(text, trim_ows_strips_spaces_and_tabs_at_both_ends_only) {
  EXPECT_EQ(trim_ows(""), "");
  EXPECT_EQ(trim_ows(" \t "), "");
  EXPECT_EQ(trim_ows("\t a b \t"), "a b");
  EXPECT_EQ(trim_ows("a"), "a");
  EXPECT_EQ(trim_ows("\r a \n"), "\r a \n") << "CR and LF are not whitespace here";
  static_assert(trim_ows("  x ") == "x");
}

TEST(text, trims_remove_exactly_their_bytes_for_every_byte) {
  for (int b = 0; b < 256; ++b) {
    const char c = static_cast<char>(b);
    const std::string s = std::string(2, c) + "x" + c + "y" + std::string(2, c);
    const std::string inner = std::string("x") + c + "y";
    EXPECT_EQ(trim_ows(s), is_ows(c) ? inner : s) << b;
    EXPECT_EQ(trim_ows_and_eol(s), is_ows_or_eol(c) ? inner : s) << b;
  }
}

TEST(text, trim_ows_and_eol_edges) {
  EXPECT_EQ(trim_ows_and_eol(""), "");
  EXPECT_EQ(trim_ows_and_eol(" \r\n\t"), "");
  EXPECT_EQ(trim_ows_and_eol("\r\n Name \t\r\n"), "Name");
  EXPECT_EQ(trim_ows_and_eol(" a \r b "), "a \r b");
  EXPECT_EQ(trim_ows_and_eol("\va\f"), "\va\f") << "VT and FF are kept";
  static_assert(trim_ows_and_eol("\n x\r") == "x");
}

// --- Hex --------------------------------------------------------------------------------------

TEST(text, hex_digit_value_for_every_byte) {
  for (int b = 0; b < 256; ++b) {
    const char c = static_cast<char>(b);
    int want = -1;
    if (b >= '0' && b <= '9') {
      want = b - '0';
    } else if (b >= 'a' && b <= 'f') {
      want = 10 + b - 'a';
    } else if (b >= 'A' && b <= 'F') {
      want = 10 + b - 'A';
    }
    EXPECT_EQ(hex_digit_value(c), want) << b;
    EXPECT_EQ(is_hex_digit(c), want >= 0) << b;
    EXPECT_EQ(is_lower_hex_digit(c), want >= 0 && !(b >= 'A' && b <= 'F')) << b;
    EXPECT_EQ(is_hex(std::string("0a") + c + "F"), want >= 0) << b;
    EXPECT_EQ(is_lower_hex(std::string("0a") + c + "f"), is_lower_hex_digit(c)) << b;
  }
  EXPECT_TRUE(is_hex(""));
  EXPECT_TRUE(is_lower_hex(""));
  EXPECT_FALSE(is_lower_hex("0A"));
  EXPECT_TRUE(is_hex("0A"));
}

TEST(text, hex_digit_is_the_inverse_of_hex_digit_value) {
  for (unsigned v = 0; v < 16; ++v) {
    EXPECT_EQ(hex_digit_value(hex_digit(v)), static_cast<int>(v)) << v;
    EXPECT_TRUE(is_lower_hex_digit(hex_digit(v))) << v;
    EXPECT_EQ(hex_digit(v + 16), hex_digit(v)) << "only the low 4 bits count";
  }
}

TEST(text, to_hex_and_decode_hex_round_trip_every_byte) {
  std::array<std::uint8_t, 256> bytes{};
  for (std::size_t b = 0; b < 256; ++b) {
    bytes[b] = static_cast<std::uint8_t>(b);
    const std::string one = to_hex(std::span<const std::uint8_t>(&bytes[b], 1));
    ASSERT_EQ(one.size(), 2U);
    EXPECT_EQ(hex_digit_value(one[0]) * 16 + hex_digit_value(one[1]), static_cast<int>(b));
    EXPECT_TRUE(is_lower_hex(one)) << b;
    EXPECT_EQ(decode_hex(one), std::string(1, static_cast<char>(b))) << b;
    EXPECT_EQ(decode_hex(to_upper(one)), std::string(1, static_cast<char>(b))) << b;
  }
  const std::string hex = to_hex(bytes);
  ASSERT_EQ(hex.size(), 512U);
  EXPECT_EQ(hex.substr(0, 8), "00010203");
  EXPECT_EQ(hex.substr(504), "fcfdfeff");
  EXPECT_EQ(decode_hex(hex), all_bytes());
  EXPECT_EQ(to_hex({}), "");
  EXPECT_EQ(decode_hex(""), "");
}

TEST(text, decode_hex_refuses_odd_lengths_and_every_non_hex_byte) {
  EXPECT_EQ(decode_hex("0"), std::nullopt);
  EXPECT_EQ(decode_hex("abc"), std::nullopt);
  EXPECT_EQ(decode_hex("0x00"), std::nullopt);
  EXPECT_EQ(decode_hex("00 "), std::nullopt);
  for (int b = 0; b < 256; ++b) {
    const char c = static_cast<char>(b);
    const std::optional<std::string> hi = decode_hex(std::string(1, c) + "0");
    const std::optional<std::string> lo = decode_hex(std::string("0") + c);
    EXPECT_EQ(hi.has_value(), is_hex_digit(c)) << b;
    EXPECT_EQ(lo.has_value(), is_hex_digit(c)) << b;
  }
}

TEST(text, decode_hex_into_respects_the_buffer) {
  std::array<std::byte, 3> out{std::byte{0xEE}, std::byte{0xEE}, std::byte{0xEE}};
  EXPECT_EQ(decode_hex_into("0aFf", out), 2U);
  EXPECT_EQ(out[0], std::byte{0x0A});
  EXPECT_EQ(out[1], std::byte{0xFF});
  EXPECT_EQ(out[2], std::byte{0xEE}) << "nothing past the count is written";
  EXPECT_EQ(decode_hex_into("00112233", out), std::nullopt) << "one byte too many";
  EXPECT_EQ(decode_hex_into("001122", out), 3U);
  EXPECT_EQ(decode_hex_into("", out), 0U);
  EXPECT_EQ(decode_hex_into("0g", out), std::nullopt);
}

TEST(text, to_hex_number_is_printf_x) {
  EXPECT_EQ(to_hex_number(0), "0");
  EXPECT_EQ(to_hex_number(0xF), "f");
  EXPECT_EQ(to_hex_number(0x10), "10");
  EXPECT_EQ(to_hex_number(0x6b02be47), "6b02be47");
  EXPECT_EQ(to_hex_number(0xFFFFFFFFFFFFFFFFULL), "ffffffffffffffff");
  for (std::uint64_t v = 0; v < 256; ++v) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%x", static_cast<unsigned>(v));
    EXPECT_EQ(to_hex_number(v), buf) << v;
    EXPECT_EQ(parse_hex_number(to_hex_number(v)), v) << v;
  }
}

TEST(text, parse_hex_number_accepts_1_to_16_digits_of_either_case) {
  EXPECT_EQ(parse_hex_number("0"), 0U);
  EXPECT_EQ(parse_hex_number("00000000deadBEEF"), 0xDEADBEEFU);
  EXPECT_EQ(parse_hex_number("ffffffffffffffff"), 0xFFFFFFFFFFFFFFFFULL);
  EXPECT_EQ(parse_hex_number(""), std::nullopt);
  EXPECT_EQ(parse_hex_number("10000000000000000"), std::nullopt) << "17 digits";
  EXPECT_EQ(parse_hex_number("-1"), std::nullopt);
  EXPECT_EQ(parse_hex_number("0x1"), std::nullopt);
  EXPECT_EQ(parse_hex_number(" 1"), std::nullopt);
  for (int b = 0; b < 256; ++b) {
    const char c = static_cast<char>(b);
    const auto v = parse_hex_number(std::string("1") + c);
    if (is_hex_digit(c)) {
      EXPECT_EQ(v, 16U + static_cast<unsigned>(hex_digit_value(c))) << b;
    } else {
      EXPECT_EQ(v, std::nullopt) << b;
    }
  }
  static_assert(parse_hex_number("Ab") == 0xAB);
}

// --- Decimal ----------------------------------------------------------------------------------

TEST(text, is_ascii_digit_for_every_byte) {
  for (int b = 0; b < 256; ++b) {
    EXPECT_EQ(is_ascii_digit(static_cast<char>(b)), b >= 0x30 && b <= 0x39) << b;
  }
}

TEST(text, parse_decimal_accepts_only_digits_for_every_byte_at_every_position) {
  for (int b = 0; b < 256; ++b) {
    const char c = static_cast<char>(b);
    const bool digit = b >= '0' && b <= '9';
    const auto d = static_cast<std::uint64_t>(b - '0');
    // Alone, first, last and in the middle.
    EXPECT_EQ(parse_decimal<std::uint64_t>(std::string(1, c)),
              digit ? std::optional<std::uint64_t>(d) : std::nullopt) << b;
    EXPECT_EQ(parse_decimal<std::uint64_t>(std::string(1, c) + "7"),
              digit ? std::optional<std::uint64_t>(d * 10 + 7) : std::nullopt) << b;
    EXPECT_EQ(parse_decimal<std::uint64_t>(std::string("7") + c),
              digit ? std::optional<std::uint64_t>(70 + d) : std::nullopt) << b;
    EXPECT_EQ(parse_decimal<std::uint64_t>(std::string("1") + c + "2"),
              digit ? std::optional<std::uint64_t>(102 + d * 10) : std::nullopt) << b;
  }
}

TEST(text, parse_decimal_refuses_signs_blanks_and_empty) {
  for (const char* bad : {"", "+1", "-1", " 1", "1 ", "1\t", "0x10", "1e3", "1.0", "1,000",
                          "\xd9\xa1"}) {
    EXPECT_EQ(parse_decimal<std::uint64_t>(bad), std::nullopt) << bad;
  }
}

TEST(text, parse_decimal_allows_leading_zeros_of_any_length) {
  EXPECT_EQ(parse_decimal<std::uint64_t>("0"), 0U);
  EXPECT_EQ(parse_decimal<std::uint64_t>("007"), 7U);
  EXPECT_EQ(parse_decimal<std::uint16_t>(std::string(100, '0') + "65535"), 65535U);
  EXPECT_EQ(parse_decimal<std::uint64_t>(std::string(1000, '0')), 0U);
}

TEST(text, parse_decimal_overflow_edges_for_each_width) {
  EXPECT_EQ(parse_decimal<std::uint64_t>("18446744073709551615"), UINT64_MAX);
  EXPECT_EQ(parse_decimal<std::uint64_t>("18446744073709551616"), std::nullopt);
  EXPECT_EQ(parse_decimal<std::uint64_t>("18446744073709551620"), std::nullopt);
  EXPECT_EQ(parse_decimal<std::uint64_t>("99999999999999999999"), std::nullopt);
  EXPECT_EQ(parse_decimal<std::uint64_t>("184467440737095516150"), std::nullopt);
  EXPECT_EQ(parse_decimal<std::uint32_t>("4294967295"), UINT32_MAX);
  EXPECT_EQ(parse_decimal<std::uint32_t>("4294967296"), std::nullopt);
  EXPECT_EQ(parse_decimal<std::uint16_t>("65535"), 65535U);
  EXPECT_EQ(parse_decimal<std::uint16_t>("65536"), std::nullopt);
  EXPECT_EQ(parse_decimal<std::uint16_t>("65540"), std::nullopt);
  EXPECT_EQ(parse_decimal<std::uint8_t>("255"), 255U);
  EXPECT_EQ(parse_decimal<std::uint8_t>("256"), std::nullopt);
  EXPECT_EQ(parse_decimal<std::uint8_t>("260"), std::nullopt);
  EXPECT_EQ(parse_decimal<std::uint8_t>("1000"), std::nullopt);
}

TEST(text, parse_decimal_honours_max_at_every_value_near_it) {
  for (const std::uint64_t max : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{9},
                                  std::uint64_t{10}, std::uint64_t{65535},
                                  std::uint64_t{1} << 62, UINT64_MAX - 1}) {
    for (std::uint64_t delta = 0; delta <= 12; ++delta) {
      if (max >= delta) {
        EXPECT_EQ(parse_decimal(std::to_string(max - delta), max), max - delta) << max;
      }
      if (max <= UINT64_MAX - delta && delta != 0) {
        EXPECT_EQ(parse_decimal(std::to_string(max + delta), max), std::nullopt) << max;
      }
    }
  }
  // Small widths: every digit against max 0..9 (no wrap-around of max - d).
  for (unsigned max = 0; max <= 9; ++max) {
    for (unsigned d = 0; d <= 9; ++d) {
      const auto v = parse_decimal<std::uint8_t>(std::to_string(d), static_cast<std::uint8_t>(max));
      EXPECT_EQ(v.has_value(), d <= max) << max << " " << d;
      const auto w =
          parse_decimal<std::uint16_t>(std::to_string(d), static_cast<std::uint16_t>(max));
      EXPECT_EQ(w.has_value(), d <= max) << max << " " << d;
    }
  }
  static_assert(parse_decimal<std::uint16_t>("8080") == 8080);
  static_assert(!parse_decimal<std::uint16_t>("8080", 1024));
}

// --- Base64 -----------------------------------------------------------------------------------

TEST(text, base64_known_vectors) {
  // RFC 4648 §10.
  const std::array<std::pair<const char*, const char*>, 7> vectors{{{"", ""},
                                                                    {"f", "Zg=="},
                                                                    {"fo", "Zm8="},
                                                                    {"foo", "Zm9v"},
                                                                    {"foob", "Zm9vYg=="},
                                                                    {"fooba", "Zm9vYmE="},
                                                                    {"foobar", "Zm9vYmFy"}}};
  for (const auto& [plain, coded] : vectors) {
    EXPECT_EQ(base64_encode(plain), coded) << plain;
    EXPECT_EQ(base64_decode(coded), plain) << coded;
  }
  EXPECT_EQ(base64_encode("alice:s3cret"), "YWxpY2U6czNjcmV0");
  EXPECT_EQ(base64_encode(std::string("\xfb\xff\xbf", 3)), "+/+/");
}

TEST(text, base64_digit_value_for_every_byte) {
  constexpr std::string_view alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (int b = 0; b < 256; ++b) {
    const char c = static_cast<char>(b);
    const std::size_t at = alphabet.find(c);
    EXPECT_EQ(base64_digit_value(c), at == std::string_view::npos ? -1 : static_cast<int>(at)) << b;
    // As the first digit of a quantum: accepted exactly when it is in the alphabet.
    EXPECT_EQ(base64_decode(std::string(1, c) + "AAA").has_value(), at != std::string_view::npos)
        << b;
  }
}

TEST(text, base64_round_trips_every_byte_at_every_position_and_length) {
  const std::string bytes = all_bytes();
  EXPECT_EQ(base64_decode(base64_encode(bytes)), bytes);
  for (int b = 0; b < 256; ++b) {
    for (std::size_t len = 1; len <= 4; ++len) {
      for (std::size_t at = 0; at < len; ++at) {
        std::string s(len, 'Q');
        s[at] = static_cast<char>(b);
        const std::string coded = base64_encode(s);
        ASSERT_EQ(coded.size(), (len + 2) / 3 * 4);
        ASSERT_EQ(base64_decode(coded), s) << b << " at " << at << " of " << len;
      }
    }
  }
}

TEST(text, base64_decode_refuses_malformed_input) {
  for (const char* bad : {"A", "AA", "AAA", "AAAAA", "A===", "====", "AA=A", "=AAA", "AA==AAAA",
                          "Zm9v\n", "Zm 9v", "Zm9v-_==", "YWxpY2U6czNjcmV0!"}) {
    EXPECT_EQ(base64_decode(bad), std::nullopt) << bad;
  }
  EXPECT_EQ(base64_decode(""), "");
  EXPECT_EQ(base64_decode("QR=="), "A") << "unused low bits are ignored, as in Python";
}

// --- HTML -------------------------------------------------------------------------------------

TEST(text, html_escape_changes_exactly_five_bytes) {
  for (int b = 0; b < 256; ++b) {
    const char c = static_cast<char>(b);
    const std::string out = html_escape(std::string(1, c));
    switch (c) {
      case '&': EXPECT_EQ(out, "&amp;"); break;
      case '<': EXPECT_EQ(out, "&lt;"); break;
      case '>': EXPECT_EQ(out, "&gt;"); break;
      case '"': EXPECT_EQ(out, "&quot;"); break;
      case '\'': EXPECT_EQ(out, "&#39;"); break;
      default: EXPECT_EQ(out, std::string(1, c)) << b;
    }
  }
  EXPECT_EQ(html_escape("<a href=\"x\">"), "&lt;a href=&quot;x&quot;&gt;");
}

}  // namespace
}  // namespace kiteline
