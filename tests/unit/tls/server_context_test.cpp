// tls/server_context: endpoint_set::find matches SNI names ASCII case-insensitively and nothing
// more (it once compared (x | 0x20) == (y | 0x20), which also folds '[' onto '{', '-' onto CR
// and '_' onto DEL).
#include "tls/server_context.hpp"

#include <gtest/gtest.h>

#include <string>

namespace kiteline::tls {
namespace {

/// A set naming `names`; find() never looks at the contexts, so they stay empty.
endpoint_set set_of(std::initializer_list<const char*> names) {
  endpoint_set s;
  for (const char* n : names) {
    s.add(n, nullptr);
  }
  return s;
}

TEST(endpoint_set, exact_name_matches_in_any_letter_case) {
  const endpoint_set s = set_of({"relay.example.test"});
  ASSERT_NE(s.find("relay.example.test"), nullptr);
  EXPECT_EQ(s.find("RELAY.Example.TEST"), s.find("relay.example.test"));
  EXPECT_EQ(s.find("relay.example.tesu"), nullptr);
  EXPECT_EQ(s.find("relay.example.tes"), nullptr);
}

TEST(endpoint_set, only_letters_fold_case) {
  // Every pair below differs only in bit 0x20 and is NOT a pair of letters.
  struct row {
    const char* name;
    const char* other;
  };
  for (const row r : {row{"a[b.test", "a{b.test"}, row{"my-host.test", "my\rhost.test"},
                      row{"my_host.test", "my\x7fhost.test"}, row{"a@b.test", "a`b.test"},
                      row{"a^b.test", "a~b.test"}, row{"a\\b.test", "a|b.test"},
                      row{"a]b.test", "a}b.test"}, row{"a.b.test", "a\x0e"
                                                                  "b.test"},
                      row{"a0b.test", "a\x10"
                                      "b.test"}}) {
    const endpoint_set s = set_of({r.name});
    EXPECT_NE(s.find(r.name), nullptr) << r.name;
    EXPECT_EQ(s.find(r.other), nullptr) << r.name << " must not match " << r.other;
  }
}

TEST(endpoint_set, every_byte_folds_only_when_it_is_a_letter) {
  for (int b = 0; b < 256; ++b) {
    const char c = static_cast<char>(b);
    const char flipped = static_cast<char>(b ^ 0x20);
    endpoint_set one;
    one.add(std::string("x") + c + ".test", nullptr);
    const bool letter = (b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z');
    EXPECT_EQ(one.find(std::string("x") + flipped + ".test") != nullptr, letter) << b;
    EXPECT_NE(one.find(std::string("x") + c + ".test"), nullptr) << b;
  }
}

TEST(endpoint_set, wildcard_names_fold_letters_only) {
  const endpoint_set s = set_of({"*.my-zone.test"});
  EXPECT_NE(s.find("www.MY-ZONE.test"), nullptr);
  EXPECT_EQ(s.find("www.my\rzone.test"), nullptr);
  EXPECT_EQ(s.find("my-zone.test"), nullptr) << "a wildcard needs a first label";
}

TEST(endpoint_set, empty_name_uses_the_default) {
  endpoint_set s = set_of({"relay.example.test"});
  EXPECT_EQ(s.find(""), nullptr);
  s.set_default("Relay.Example.Test");
  EXPECT_EQ(s.find(""), s.find("relay.example.test"));
}

}  // namespace
}  // namespace kiteline::tls
