// Tests of the small value parsers (ports, numbers, names, HOST:PORT).
#include "config/values.hpp"

#include <gtest/gtest.h>

#include "config/diagnostic.hpp"

namespace kiteline::config {
namespace {

TEST(values, parse_port) {
  EXPECT_EQ(parse_port("1"), 1);
  EXPECT_EQ(parse_port("65535"), 65535);
  EXPECT_EQ(parse_port("080"), 80);
  for (const char* bad : {"", "0", "65536", "-1", "+1", " 1", "1 ", "1a", "0x10",
                          "99999999999999999999999"}) {
    EXPECT_FALSE(parse_port(bad)) << bad;
  }
}

TEST(values, parse_unsigned) {
  EXPECT_EQ(parse_unsigned("0", 5), 0u);
  EXPECT_EQ(parse_unsigned("5", 5), 5u);
  EXPECT_FALSE(parse_unsigned("6", 5));
  EXPECT_EQ(parse_unsigned("18446744073709551615", UINT64_MAX), UINT64_MAX);
  EXPECT_FALSE(parse_unsigned("18446744073709551616", UINT64_MAX));
}

TEST(values, split) {
  EXPECT_EQ(split("a,,b", ','), (std::vector<std::string>{"a", "", "b"}));
  EXPECT_EQ(split("", ','), (std::vector<std::string>{""}));
  EXPECT_EQ(split_outside_brackets("http:k:[::1]:80:s", ':'),
            (std::vector<std::string>{"http", "k", "[::1]", "80", "s"}));
}

TEST(values, names) {
  for (const char* good : {"a", "foo.example", "fe4_152.b5p.us", "a-b.c", "x.localhost"}) {
    EXPECT_TRUE(is_valid_name(good, false)) << good;
  }
  EXPECT_TRUE(is_valid_name("*.example.com", true));
  EXPECT_FALSE(is_valid_name("*.example.com", false));
  for (const char* bad : {"", ".", "a..b", ".a", "a.", "A.example", "a b", "*", "*.", "a.*.b",
                          "**.a", "a/b"}) {
    EXPECT_FALSE(is_valid_name(bad, true)) << bad;
  }
  EXPECT_TRUE(is_valid_name(std::string(63, 'a'), false));
  EXPECT_FALSE(is_valid_name(std::string(64, 'a'), false));
  EXPECT_EQ(to_lower("AbC-1"), "abc-1");
}

TEST(values, host_port) {
  const auto hp = [](const char* text) {
    const auto r = parse_host_port(text, 443);
    return r ? r->host + "|" + std::to_string(r->port) : std::string("none");
  };
  EXPECT_EQ(hp("h"), "h|443");
  EXPECT_EQ(hp("h:80"), "h|80");
  EXPECT_EQ(hp("[::1]"), "::1|443");
  EXPECT_EQ(hp("[::1]:80"), "::1|80");
  EXPECT_EQ(hp("::1:80"), "::1|80");
  for (const char* bad : {"", ":80", "h:", "h:0", "::1", "fe80::1", "[::1", "[]:80", "[::1]x",
                          "[::1]:", "h:99999"}) {
    EXPECT_EQ(hp(bad), "none") << bad;
  }
}

TEST(diagnostic, to_string_leaves_out_empty_parts) {
  EXPECT_EQ((diagnostic{"f.rc:3", "service_on", "expected X"}).to_string(),
            "f.rc:3: service_on: expected X");
  EXPECT_EQ((diagnostic{"", "domain", "m"}).to_string(), "domain: m");
  EXPECT_EQ((diagnostic{"argv[1]", "", "m"}).to_string(), "argv[1]: m");
}

}  // namespace
}  // namespace kiteline::config
