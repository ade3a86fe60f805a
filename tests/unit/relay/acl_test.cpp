// relay acl: pagekite.py's --client_acl / --tunnel_acl rules and the --accept_acl_file format.
#include "relay/acl.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace kiteline::relay {
namespace {

std::vector<acl_rule> rules(std::initializer_list<std::pair<bool, const char*>> list) {
  std::vector<acl_rule> out;
  for (const auto& [allow, pattern] : list) {
    std::string why;
    auto r = make_acl_rule(allow, pattern, why);
    EXPECT_TRUE(r) << pattern << ": " << why;
    if (r) {
      out.push_back(std::move(*r));
    }
  }
  return out;
}

TEST(Acl, NoRulesAllowEverything) { EXPECT_TRUE(check_acl({}, "203.0.113.9").allowed); }

TEST(Acl, FirstMatchingRuleDecidesAndUnmatchedIsDenied) {
  const auto r = rules({{false, R"(10\.0\.0\.7)"}, {true, R"(10\..*)"}});
  EXPECT_FALSE(check_acl(r, "10.0.0.7").allowed);
  EXPECT_EQ(check_acl(r, "10.0.0.7").rule, &r[0]);
  EXPECT_TRUE(check_acl(r, "10.9.9.9").allowed);
  EXPECT_EQ(check_acl(r, "10.9.9.9").rule, &r[1]);
  const auto v = check_acl(r, "192.0.2.1");
  EXPECT_FALSE(v.allowed);
  EXPECT_EQ(v.rule, nullptr);  // the default deny once rules exist
}

TEST(Acl, PatternsAreAnchoredAtBothEnds) {
  const auto r = rules({{true, R"(10\.0\.0\.1)"}});
  EXPECT_TRUE(check_acl(r, "10.0.0.1").allowed);
  EXPECT_FALSE(check_acl(r, "10.0.0.12").allowed);  // no prefix match
  EXPECT_FALSE(check_acl(r, "110.0.0.1").allowed);  // no suffix match
  // An alternation is anchored as a whole (pagekite.py appends only '$').
  const auto alt = rules({{true, R"(10\.0\.0\.1|192\.0\.2\.1)"}});
  EXPECT_TRUE(check_acl(alt, "10.0.0.1").allowed);
  EXPECT_FALSE(check_acl(alt, "10.0.0.12").allowed);
}

TEST(Acl, Shorthands) {
  const auto local = rules({{true, "localhost"}});
  for (const char* a : {"127.0.0.1", "127.1.2.3", "::ffff:127.0.0.1", "::1"}) {
    EXPECT_TRUE(check_acl(local, a).allowed) << a;
  }
  for (const char* a : {"10.0.0.1", "::2", "::ffff:10.0.0.1", "1127.0.0.1"}) {
    EXPECT_FALSE(check_acl(local, a).allowed) << a;
  }
  const auto any = rules({{false, "localhost"}, {true, "any"}});
  EXPECT_FALSE(check_acl(any, "::1").allowed);
  EXPECT_TRUE(check_acl(any, "2001:db8::1").allowed);
  EXPECT_EQ(expand_acl_shorthand("other"), "other");
}

TEST(Acl, BadPatternsAreRefused) {
  std::string why;
  EXPECT_FALSE(make_acl_rule(true, "(", why));
  EXPECT_NE(why.find("bad regex"), std::string::npos);
  EXPECT_FALSE(make_acl_rule(true, "", why));
  EXPECT_FALSE(make_acl_rule(true, std::string(max_address_pattern + 1, 'a'), why));
  EXPECT_FALSE(make_acl_rule(true, R"((1)\1)", why));  // back-references: not polynomial
}

// libstdc++ parses regex numbers into a long unchecked, and copies a counted repetition once per
// count: such patterns are refused before std::regex sees them (a fuzz finding:
// fuzz/corpus/relay_acl_file/crash-backreference-overflow).
TEST(Acl, PatternsTooCostlyForStdRegexAreRefused) {
  std::string why;
  EXPECT_FALSE(make_acl_rule(true, "((n\\" + std::string(40, '3'), why));
  EXPECT_EQ(why, "number longer than 9 digits in pattern");
  EXPECT_FALSE(make_acl_rule(true, "1234567890", why));
  EXPECT_EQ(why, "number longer than 9 digits in pattern");
  EXPECT_FALSE(make_acl_rule(true, "a{99999999999}", why));
  EXPECT_EQ(why, "counted repetitions ({n}) too large in pattern");
  EXPECT_FALSE(make_acl_rule(true, "((a{100}){100})", why));
  EXPECT_EQ(why, "counted repetitions ({n}) too large in pattern");
  EXPECT_FALSE(make_acl_rule(true, "a{1,5000}", why));
  EXPECT_EQ(why, "counted repetitions ({n}) too large in pattern");
  // What IP patterns use still compiles: \d{1,3} four times, an escaped brace, long addresses.
  EXPECT_TRUE(make_acl_rule(true, R"(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})", why)) << why;
  EXPECT_TRUE(make_acl_rule(true, R"(2001:db8::\{?1)", why)) << why;
  EXPECT_TRUE(make_acl_rule(true, "::ffff:192.168.100.200", why)) << why;
}

constexpr std::string_view sample_file =
    "# comment\n"
    "\n"
    "127.*   deny   Localhost is banned (IPv4)\n"
    "::1     DENY   Localhost is banned (IPv6)\n"
    "lonely\n"
    "  10.0.0.5 Allow-Listed   by   hand \r\n"
    "10\\.0\\..* reject\n";

TEST(AclFile, ParsesLikePagekite) {
  acl_file_error err;
  const auto f = parse_acl_file(sample_file, err);
  ASSERT_TRUE(f) << err.why;
  ASSERT_EQ(f->rules.size(), 4U);
  EXPECT_EQ(f->rules[0].line, 3U);
  EXPECT_EQ(f->rules[0].pattern, "127.*");
  EXPECT_FALSE(f->rules[0].allow);
  EXPECT_EQ(f->rules[0].reason, "localhost is banned (ipv4)");  // the line is lower-cased
  EXPECT_EQ(f->rules[1].pattern, "::1");
  EXPECT_EQ(f->rules[2].line, 6U);
  EXPECT_TRUE(f->rules[2].allow);  // POLICY contains "allow"
  EXPECT_EQ(f->rules[2].reason, "by hand");
  EXPECT_FALSE(f->rules[3].allow);
  EXPECT_EQ(f->skipped, std::vector<std::size_t>{5});
}

TEST(AclFile, FirstMatchAtTheStartWinsDefaultAllow) {
  acl_file_error err;
  const auto f = parse_acl_file(sample_file, err);
  ASSERT_TRUE(f);
  auto v = check_acl_file(*f, "127.0.0.1");
  EXPECT_FALSE(v.allowed);
  EXPECT_EQ(v.line, 3U);
  EXPECT_EQ(v.reason, "localhost is banned (ipv4)");
  EXPECT_FALSE(check_acl_file(*f, "::1").allowed);
  EXPECT_FALSE(check_acl_file(*f, "::1:5").allowed);  // matched at the start only
  EXPECT_TRUE(check_acl_file(*f, "10.0.0.5").allowed);
  EXPECT_EQ(check_acl_file(*f, "10.0.0.5").line, 6U);
  EXPECT_FALSE(check_acl_file(*f, "10.0.0.6").allowed);
  v = check_acl_file(*f, "192.0.2.1");
  EXPECT_TRUE(v.allowed);
  EXPECT_EQ(v.line, 0U);
  EXPECT_EQ(v.reason, "Default");
  EXPECT_TRUE(check_acl_file(*f, "x127.0.0.1").allowed);  // not at the start
}

TEST(AclFile, ExactAddressBeforeRegex) {
  // "1.2.3.4" equals the address; as a regex it would also match "1x2x3x4".
  acl_file_error err;
  const auto f = parse_acl_file("1.2.3.4 deny\n", err);
  ASSERT_TRUE(f);
  EXPECT_FALSE(check_acl_file(*f, "1.2.3.4").allowed);
  EXPECT_FALSE(check_acl_file(*f, "1x2x3x4").allowed);
}

TEST(AclFile, BadPatternFailsTheWholeFile) {
  acl_file_error err;
  EXPECT_FALSE(parse_acl_file("1.2.3.4 deny\n( deny broken\n", err));
  EXPECT_EQ(err.line, 2U);
  EXPECT_NE(err.why.find("pattern `(`"), std::string::npos) << err.why;
}

TEST(AclFile, EverySplitOfTheTextParsesTheSameWhenJoined) {
  // The parser takes whole files; a file cut anywhere parses to a prefix of the rules (or fails
  // only when the cut leaves a broken regex), never crashes.
  const std::string text(sample_file);
  for (std::size_t cut = 0; cut <= text.size(); ++cut) {
    acl_file_error err;
    const auto f = parse_acl_file(std::string_view(text).substr(0, cut), err);
    if (f) {
      EXPECT_LE(f->rules.size(), 4U) << cut;
    } else {
      EXPECT_GT(err.line, 0U) << cut;
    }
  }
  acl_file_error err;
  EXPECT_EQ(parse_acl_file(text, err)->rules.size(), 4U);
}

TEST(AclFile, RuleCountIsBounded) {
  std::string text;
  for (std::size_t i = 0; i <= max_acl_file_rules; ++i) {
    text += "10.0.0.1 deny\n";
  }
  acl_file_error err;
  EXPECT_FALSE(parse_acl_file(text, err));
  EXPECT_EQ(err.line, max_acl_file_rules + 1);
}

}  // namespace
}  // namespace kiteline::relay
