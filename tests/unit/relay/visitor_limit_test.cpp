// relay visitor_limit: --ratelimit_ips rules, the strictest limit, the visitor key and the window.
#include "relay/visitor_limit.hpp"

#include "wire/sha1.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace kiteline::relay {
namespace {

visitor_key key(int i) { return make_visitor_key("10.0.0." + std::to_string(i), ""); }

TEST(VisitorLimit, ParsesNPerSeconds) {
  EXPECT_EQ(parse_ip_limit("5/60"), (ip_limit{5, 60}));
  EXPECT_EQ(parse_ip_limit(" 1 / 1 "), (ip_limit{1, 1}));
  for (const char* bad :
       {"", "5", "/60", "5/", "0/60", "5/0", "a/1", "1/b", "-1/5", "5/60/1", "99999999999/1"}) {
    EXPECT_FALSE(parse_ip_limit(bad)) << bad;
  }
}

TEST(VisitorLimit, StrictestIsTheLowerRate) {
  const ip_limit a{10, 60};  // 1/6 per second
  const ip_limit b{1, 1};    // 1 per second
  EXPECT_EQ(strictest(a, b), a);
  EXPECT_EQ(strictest(b, a), a);
  EXPECT_EQ(strictest(std::nullopt, b), b);
  EXPECT_EQ(strictest(a, std::nullopt), a);
  EXPECT_EQ(strictest(ip_limit{0, 1}, b), b);  // zero means none
  EXPECT_FALSE(strictest(std::nullopt, std::nullopt));
}

TEST(VisitorLimit, KiteRulesByNearestParentThenDefault) {
  const std::vector<ip_limit_rule> rules{{"*", {5, 60}},
                                         {"example.com", {100, 60}},
                                         {"b.example.com", {7, 10}},
                                         {"example.com", {50, 60}}};  // the last one wins
  EXPECT_EQ(limit_for_kite(rules, "a.b.example.com"), (ip_limit{7, 10}));
  EXPECT_EQ(limit_for_kite(rules, "b.example.com"), (ip_limit{7, 10}));
  EXPECT_EQ(limit_for_kite(rules, "c.example.com"), (ip_limit{50, 60}));
  EXPECT_EQ(limit_for_kite(rules, "*.example.com"), (ip_limit{50, 60}));
  EXPECT_EQ(limit_for_kite(rules, "other.test"), (ip_limit{5, 60}));
  EXPECT_EQ(limit_for_kite(rules, "com"), (ip_limit{5, 60}));  // never a one-label parent
  EXPECT_FALSE(limit_for_kite({{"x.test", {1, 1}}}, "y.test"));
}

TEST(VisitorLimit, KeyIsSha1OfAddressAgentAndLanguages) {
  const std::string head =
      "GET / HTTP/1.1\r\nHost: a.test\r\nAccept-Language: is\r\nuser-agent: curl/8\r\n"
      "User-Agent: second\r\n\r\nbody: not a header\r\n";
  wire::sha1 h;
  h.update("10.0.0.1/curl/8/second/is");
  EXPECT_EQ(make_visitor_key("10.0.0.1", head), h.digest());
  wire::sha1 h_plain;
  h_plain.update("10.0.0.1");
  const visitor_key plain = h_plain.digest();
  EXPECT_EQ(make_visitor_key("10.0.0.1", ""), plain);
  EXPECT_EQ(make_visitor_key("10.0.0.1", "GET / HTTP/1.1\r\nHost: a\r\n\r\n"), plain);
  EXPECT_NE(make_visitor_key("10.0.0.2", head), make_visitor_key("10.0.0.1", head));
}

TEST(VisitorLimit, KeyAtEverySplitOfTheHead) {
  // A head cut short never crashes and only ever loses trailing fields.
  const std::string head = "GET / HTTP/1.1\r\nUser-Agent: a\r\nAccept-Language: b\r\n\r\n";
  for (std::size_t cut = 0; cut <= head.size(); ++cut) {
    (void)make_visitor_key("::1", std::string_view(head).substr(0, cut));
  }
  wire::sha1 h;
  h.update("::1/a/b");
  EXPECT_EQ(make_visitor_key("::1", head), h.digest());
}

TEST(VisitorLimit, AtMostNDistinctVisitorsPerWindow) {
  visitor_window w(ip_limit{2, 10});
  EXPECT_TRUE(w.admit(key(1), 100));
  EXPECT_TRUE(w.admit(key(2), 101));
  EXPECT_FALSE(w.admit(key(3), 102));  // the third distinct visitor
  EXPECT_TRUE(w.admit(key(1), 105));   // known visitors pass (and are refreshed)
  EXPECT_TRUE(w.admit(key(2), 106));
  EXPECT_EQ(w.size(), 2U);
  EXPECT_FALSE(w.admit(key(3), 115));  // 1 and 2 were seen within the last 10 s
  EXPECT_TRUE(w.admit(key(3), 116));   // 1 (last seen at 105) is out of the window now
  EXPECT_FALSE(w.admit(key(1), 116));  // 2 (106) and 3 (116) are in it
  EXPECT_EQ(w.size(), 2U);
}

TEST(VisitorLimit, MemoryIsBoundedByN) {
  visitor_window w(ip_limit{3, 1000});
  for (int i = 0; i < 1000; ++i) {
    (void)w.admit(key(i), 5);
  }
  EXPECT_EQ(w.size(), 3U);
  w.set_limit(ip_limit{5, 1000});  // an authority's looser limit: the seen visitors stay
  EXPECT_TRUE(w.admit(key(500), 6));
  EXPECT_EQ(w.size(), 4U);
  visitor_window off(ip_limit{0, 1});
  EXPECT_TRUE(off.admit(key(1), 1));
  EXPECT_EQ(off.size(), 0U);
}

}  // namespace
}  // namespace kiteline::relay
