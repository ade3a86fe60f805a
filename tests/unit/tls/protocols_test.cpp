// --tls_protocols / --tls_legacy resolution (docs/tls.md). The options that carry it are tested
// in tests/unit/config/tls_options_test.cpp.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tls/protocols.hpp"

namespace kiteline::tls {
namespace {

using v = tls_version;

/// The warnings joined, for failure messages.
std::string all_text(const tls_protocol_range& r) {
  std::string s;
  for (const auto& w : r.warnings) {
    s += "warning: " + w + "\n";
  }
  for (const auto& e : r.errors) {
    s += "error: " + e + "\n";
  }
  return s;
}

bool mentions(const std::vector<std::string>& lines, std::string_view part) {
  for (const auto& l : lines) {
    if (l.find(part) != std::string::npos) {
      return true;
    }
  }
  return false;
}

TEST(tls_protocols, default_is_tls12_to_tls13_and_legacy_adds_10_11) {
  auto r = resolve_tls_protocols("", false);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.min, v::tls1_2);
  EXPECT_EQ(r.max, v::tls1_3);
  EXPECT_TRUE(r.warnings.empty()) << all_text(r);
  EXPECT_FALSE(r.needs_security_level_0());
  r = resolve_tls_protocols("", true);
  EXPECT_EQ(r.min, v::tls1);
  EXPECT_EQ(r.max, v::tls1_3);
  EXPECT_TRUE(r.needs_security_level_0());
  EXPECT_TRUE(r.warnings.empty()) << all_text(r);
}

TEST(tls_protocols, apache_idioms) {
  auto r = resolve_tls_protocols("all -SSLv3 -TLSv1 -TLSv1.1", false);
  EXPECT_TRUE(r.ok()) << all_text(r);
  EXPECT_EQ(r.min, v::tls1_2);
  EXPECT_EQ(r.max, v::tls1_3);
  EXPECT_TRUE(r.warnings.empty()) << all_text(r);
  r = resolve_tls_protocols("all", false);
  EXPECT_EQ(r.min, v::tls1);
  EXPECT_TRUE(r.warnings.empty()) << all_text(r);
  // Signed first entry: starts from the default (TLSv1.2 + TLSv1.3).
  r = resolve_tls_protocols("-tlsv1.2", false);
  EXPECT_EQ(r.min, v::tls1_3);
  EXPECT_EQ(r.max, v::tls1_3);
  r = resolve_tls_protocols("+TLSv1.1", false);
  EXPECT_EQ(r.min, v::tls1_1);
  EXPECT_EQ(r.max, v::tls1_3);
  // Bare first entry: starts empty. Commas work as separators too.
  r = resolve_tls_protocols("TLSv1.2", false);
  EXPECT_EQ(r.min, v::tls1_2);
  EXPECT_EQ(r.max, v::tls1_2);
  r = resolve_tls_protocols("tlsv1.2,+tlsv1.3", false);
  EXPECT_EQ(r.min, v::tls1_2);
  EXPECT_EQ(r.max, v::tls1_3);
  EXPECT_TRUE(r.warnings.empty()) << all_text(r);
}

TEST(tls_protocols, bare_entry_after_others_warns_about_apaches_override) {
  const auto r = resolve_tls_protocols("TLSv1.2 TLSv1.3", false);
  ASSERT_TRUE(r.ok());
  // kiteline's meaning: both.
  EXPECT_EQ(r.min, v::tls1_2);
  EXPECT_EQ(r.max, v::tls1_3);
  ASSERT_EQ(r.warnings.size(), 1u) << all_text(r);
  EXPECT_EQ(r.warnings[0],
            "`TLSv1.3` has no +/- prefix: kiteline ADDS it to the entries before it, but "
            "Apache's SSLProtocol would let it replace them (`TLSv1.2 TLSv1.3` means TLSv1.3 "
            "only there); write `+TLSv1.3` to make the meaning explicit");
}

TEST(tls_protocols, contradictory_entries_warn_and_the_later_wins) {
  auto r = resolve_tls_protocols("+tlsv1.1 -tlsv1.1", false);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.min, v::tls1_2);
  ASSERT_EQ(r.warnings.size(), 1u) << all_text(r);
  EXPECT_EQ(r.warnings[0],
            "contradictory entries: TLSv1.1 enabled earlier and disabled by `-tlsv1.1`; the "
            "later entry wins (TLSv1.1 off)");
  r = resolve_tls_protocols("-tlsv1.1 +tlsv1.1", false);
  EXPECT_EQ(r.min, v::tls1_1);
  ASSERT_EQ(r.warnings.size(), 1u) << all_text(r);
  EXPECT_EQ(r.warnings[0],
            "contradictory entries: TLSv1.1 disabled earlier and enabled again by `+tlsv1.1`; "
            "the later entry wins (TLSv1.1 on)");
  // `all` after an explicit removal re-enables it: contradictory (and bare-after-first).
  r = resolve_tls_protocols("-tlsv1 +all", false);
  EXPECT_EQ(r.min, v::tls1);
  EXPECT_TRUE(mentions(r.warnings, "TLSv1 disabled earlier and enabled again by `+all`"))
      << all_text(r);
  // `all` then removals is the normal idiom, not a contradiction.
  r = resolve_tls_protocols("all -tlsv1", false);
  EXPECT_TRUE(r.warnings.empty()) << all_text(r);
}

TEST(tls_protocols, nothing_enabled_is_an_error) {
  for (const char* list : {"all -all", "-tlsv1.2 -tlsv1.3", "tlsv1.3 -tlsv1.3", "-all"}) {
    const auto r = resolve_tls_protocols(list, false);
    ASSERT_EQ(r.errors.size(), 1u) << list << "\n" << all_text(r);
    EXPECT_EQ(r.errors[0], "`" + std::string(list) +
                               "` enables no protocol (the result is empty; e.g. `all -tlsv1 "
                               "-tlsv1.1` is TLSv1.2..TLSv1.3)");
  }
}

TEST(tls_protocols, sslv3_is_refused_with_the_reason) {
  for (const char* list : {"+sslv3", "SSLv3", "all +SSLv3"}) {
    const auto r = resolve_tls_protocols(list, false);
    ASSERT_FALSE(r.ok()) << list;
    EXPECT_TRUE(mentions(r.errors, "SSLv3 cannot be enabled: OpenSSL 3 has no SSLv3 support"))
        << all_text(r);
  }
  // Disabling it is harmless (common in Apache configurations).
  EXPECT_TRUE(resolve_tls_protocols("all -sslv3", false).ok());
  EXPECT_TRUE(resolve_tls_protocols("all -sslv3", false).warnings.empty());
}

TEST(tls_protocols, unknown_entries_are_errors) {
  const auto r = resolve_tls_protocols("all -tls1.1", false);
  ASSERT_EQ(r.errors.size(), 1u) << all_text(r);
  EXPECT_EQ(r.errors[0],
            "unknown protocol `-tls1.1` (known: all, SSLv3, TLSv1, TLSv1.1, TLSv1.2, TLSv1.3, "
            "each with an optional + or - prefix)");
  EXPECT_FALSE(resolve_tls_protocols("+", false).ok());
}

TEST(tls_protocols, protocol_the_library_cannot_do_is_left_out_with_a_warning) {
  tls_support no13;
  no13.can[static_cast<std::size_t>(v::tls1_3)] = false;
  no13.library = "OpenSSL 1.0.2";
  auto r = resolve_tls_protocols("+tlsv1.3", false, no13);
  ASSERT_TRUE(r.ok()) << all_text(r);
  EXPECT_EQ(r.max, v::tls1_2);
  ASSERT_EQ(r.warnings.size(), 1u) << all_text(r);
  EXPECT_EQ(r.warnings[0], "the linked OpenSSL 1.0.2 cannot do TLSv1.3; left out");
  r = resolve_tls_protocols("tlsv1.3", false, no13);
  EXPECT_FALSE(r.ok());
}

TEST(tls_protocols, gap_keeps_the_top_range_and_says_so) {
  const auto r = resolve_tls_protocols("tlsv1 +tlsv1.2 +tlsv1.3", false);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.min, v::tls1_2);  // never fill the gap: TLSv1.1 was not asked for
  EXPECT_EQ(r.max, v::tls1_3);
  ASSERT_EQ(r.warnings.size(), 1u) << all_text(r);
  EXPECT_EQ(r.warnings[0],
            "TLSv1 left out: OpenSSL negotiates one contiguous range of versions "
            "(minimum..maximum) and the list leaves out TLSv1.1; effective range "
            "TLSv1.2..TLSv1.3 (enable TLSv1.1 too to keep TLSv1)");
}

TEST(tls_protocols, legacy_together_with_a_list_is_ignored_with_a_warning) {
  const auto r = resolve_tls_protocols("-tlsv1.2", true);
  EXPECT_EQ(r.min, v::tls1_3);
  ASSERT_EQ(r.warnings.size(), 1u) << all_text(r);
  EXPECT_NE(r.warnings[0].find("--tls_legacy is ignored"), std::string::npos);
}

}  // namespace
}  // namespace kiteline::tls
