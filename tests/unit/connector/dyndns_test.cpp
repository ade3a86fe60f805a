// Tests of connector/dyndns (pure): pagekite.py's --dyndns plan, template, request, reply check
// and back-off (spec §9.6).
#include "connector/dyndns.hpp"

#include "wire/kite_auth.hpp"

#include <gtest/gtest.h>

namespace kiteline::connector {
namespace {

using namespace std::chrono_literals;

TEST(dyndns, signature_matches_pagekite_py) {
  // pagekite.py: signToken(token="0123abcd", secret="s3cret",
  //                        payload="foo.example:127.0.0.11,127.0.0.12", length=100)
  EXPECT_EQ(wire::sign_dyndns("s3cret", "foo.example:127.0.0.11,127.0.0.12", "0123abcd"),
            "0123abcd1eb098f2f2b5e00dfdf956d9d4fb1b58fd098645");
}

TEST(dyndns, expand_template) {
  dyndns_values v{"foo.example", "10.0.0.1,10.0.0.2", "SIG", "me@x", "p:w/%"};
  EXPECT_EQ(dyndns_expand("http://h/?n=%(domain)s&ip=%(ip)s&ips=%(ips)s&s=%(sign)s", v),
            "http://h/?n=foo.example&ip=10.0.0.1&ips=10.0.0.1,10.0.0.2&s=SIG");
  EXPECT_EQ(dyndns_expand("https://%(user)s:%(pass)s@h/x?y=100%%", v),
            "https://me%40x:p%3Aw%2F%25@h/x?y=100%");
  EXPECT_EQ(dyndns_expand("http://h/%(nope)s%(domain", v), "http://h/%(domain");
  EXPECT_EQ(dyndns_expand("http://h/%", v), "http://h/%");
  dyndns_values one{"a.b", "::1", "", "", ""};
  EXPECT_EQ(dyndns_expand("%(ip)s|%(ips)s|%(user)s", one), "::1|::1|");
  EXPECT_EQ(dyndns_percent_decode("me%40x%zz%4"), "me@x%zz%4");
  EXPECT_EQ(dyndns_percent_decode(dyndns_percent_encode("a b\xff:@~")), "a b\xff:@~");
}

TEST(dyndns, plan_uses_preferred_relays_else_all) {
  const std::vector<dyndns_kite> kites{{"http:a.example", "a.example", "sa"},
                                       {"https:a.example", "a.example", "other"},
                                       {"http:b.example", "b.example", "sb"},
                                       {"http:c.example", "c.example", "sc"}};
  const std::vector<dyndns_relay> relays{
      {"10.0.0.1", true, {"http:a.example"}},
      {"10.0.0.2", false, {"http:a.example", "https:a.example", "http:b.example"}},
      {"10.0.0.3", true, {"https:a.example"}},
      {"", true, {"http:c.example"}},            // in-process tunnel: no address
      {"10.0.0.1", true, {"https:a.example"}}};  // same IP twice: once
  const auto plan = dyndns_plan(kites, relays);
  ASSERT_EQ(plan.size(), 2u);
  EXPECT_EQ(plan[0], (dyndns_update{"a.example", "10.0.0.1,10.0.0.3", "sa"}));
  EXPECT_EQ(plan[0].payload(), "a.example:10.0.0.1,10.0.0.3");
  EXPECT_EQ(plan[1], (dyndns_update{"b.example", "10.0.0.2", "sb"}));  // only a retiring one
  EXPECT_TRUE(dyndns_plan(kites, {}).empty());
}

TEST(dyndns, backoff_doubles_up_to_32_units) {
  EXPECT_EQ(dyndns_backoff(0, 56s), 56s);
  EXPECT_EQ(dyndns_backoff(1, 56s), 112s);
  EXPECT_EQ(dyndns_backoff(5, 56s), 56s * 32);
  EXPECT_EQ(dyndns_backoff(99, 56s), 56s * 32);
}

TEST(dyndns, state_sends_changes_and_backs_off) {
  dyndns_state st(1000ms);
  const auto t0 = dyndns_state::clock::time_point{} + 1h;
  const dyndns_update a{"a.x", "1.1.1.1,2.2.2.2", "s"};
  const dyndns_update b{"b.x", "1.1.1.1", "s"};
  auto due = st.due({a, b}, t0);
  ASSERT_EQ(due.size(), 2u);
  st.succeeded(a);
  st.round_done(true, t0);  // b failed
  EXPECT_EQ(st.failures(), 1u);
  EXPECT_EQ(st.retry_at(), t0 + 2s);
  EXPECT_TRUE(st.due({a, b}, t0 + 1s).empty());  // backing off
  due = st.due({a, b}, t0 + 2s);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0], b);
  st.round_done(true, t0 + 2s);
  EXPECT_EQ(st.retry_at(), t0 + 2s + 4s);
  due = st.due({a, b}, t0 + 6s);
  st.succeeded(b);
  st.round_done(false, t0 + 6s);
  EXPECT_FALSE(st.retry_at());
  EXPECT_TRUE(st.due({a, b}, t0 + 6s).empty());   // nothing changed
  const dyndns_update a2{"a.x", "2.2.2.2", "s"};  // a relay went away
  due = st.due({a2, b}, t0 + 7s);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0], a2);
  // A list that comes back after a change is sent again (the old success was forgotten).
  st.succeeded(a2);
  due = st.due({a, b}, t0 + 8s);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0], a);
}

TEST(dyndns, parse_url) {
  auto u = parse_dyndns_url("http://127.0.0.1:8080/?h=a&s=b#frag");
  ASSERT_TRUE(u);
  EXPECT_FALSE(u->https);
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, 8080);
  EXPECT_EQ(u->target, "/?h=a&s=b");
  EXPECT_EQ(u->host_header, "127.0.0.1:8080");
  EXPECT_EQ(format_dyndns_request(*u),
            "GET /?h=a&s=b HTTP/1.0\r\nHost: 127.0.0.1:8080\r\nUser-Agent: kiteline\r\n"
            "Connection: close\r\n\r\n");
  u = parse_dyndns_url("https://me%40x:p%3Aw@members.dyndns.org?x=1");
  ASSERT_TRUE(u);
  EXPECT_TRUE(u->https);
  EXPECT_EQ(u->port, 443);
  EXPECT_EQ(u->host, "members.dyndns.org");
  EXPECT_EQ(u->target, "/?x=1");
  EXPECT_EQ(u->user, "me@x");
  EXPECT_EQ(u->pass, "p:w");
  EXPECT_NE(format_dyndns_request(*u).find("Authorization: Basic bWVAeDpwOnc=\r\n"),
            std::string::npos);
  u = parse_dyndns_url("http://[::1]:81");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, 81);
  EXPECT_EQ(u->target, "/");
  for (const char* bad :
       {"ftp://x/", "http:///x", "http://x:/", "http://x:0/", "http://x:65536/", "http://x:8a/",
        "http://[::1/", "http://[::1]x/", "http://x/a b", "http://u@/"}) {
    EXPECT_FALSE(parse_dyndns_url(bad)) << bad;
  }
}

TEST(dyndns, reply_check) {
  const std::string ok = "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\ngood 1.2.3.4\n";
  auto r = parse_dyndns_reply(ok, true);
  EXPECT_TRUE(dyndns_reply_ok(r));
  EXPECT_EQ(dyndns_reply_summary(r), "HTTP 200: good 1.2.3.4");
  EXPECT_FALSE(parse_dyndns_reply(ok, false).complete);  // more body may follow
  EXPECT_TRUE(
      dyndns_reply_ok(parse_dyndns_reply("HTTP/1.1 200 OK\nContent-Length: 5\n\nnochgXYZ", false)));
  r = parse_dyndns_reply("HTTP/1.0 200 OK\r\n\r\nbadauth\r\n", true);
  EXPECT_TRUE(r.complete);
  EXPECT_FALSE(dyndns_reply_ok(r));
  EXPECT_EQ(dyndns_reply_summary(r), "HTTP 200: badauth");
  r = parse_dyndns_reply("HTTP/1.0 401 No\r\n\r\ngood", true);  // urlopen raises on 4xx
  EXPECT_FALSE(dyndns_reply_ok(r));
  EXPECT_EQ(dyndns_reply_summary(r), "HTTP 401: good");
  r = parse_dyndns_reply("HTTP/1.0 200 OK\r\n\r\n\x01\xffgood", true);
  EXPECT_FALSE(dyndns_reply_ok(r));
  EXPECT_EQ(dyndns_reply_summary(r), "HTTP 200: ??good");
  const struct {
    const char* bytes;
    const char* error;
  } bad[] = {
      {"", "no reply"},
      {"HTTP/1.0 200 OK\r\n", "reply without a complete HTTP head"},
      {"SSH-2.0-x\r\n\r\n", "not an HTTP reply"},
      {"HTTP/1.0 2x0 OK\r\n\r\n", "not an HTTP reply"},
      {"HTTP/1.1 020 OK\r\n\r\ngood", "not an HTTP reply"},  // fuzz: a status below 100
      {"HTTP/1.0 200OK\r\n\r\n", "not an HTTP reply"},
      {"HTTP/1.0 200 OK\r\nno colon\r\n\r\n", "bad header line in the reply"},
      {"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\ngood\r\n0\r\n\r\n",
       "reply with Transfer-Encoding to an HTTP/1.0 request"},
      {"HTTP/1.0 200 OK\r\nContent-Length: x\r\n\r\n", "bad Content-Length in the reply"},
      {"HTTP/1.0 200 OK\r\nContent-Length: 9\r\n\r\ngood", "reply shorter than its Content-Length"},
  };
  for (const auto& b : bad) {
    r = parse_dyndns_reply(b.bytes, true);
    EXPECT_EQ(r.error, b.error) << b.bytes;
    EXPECT_FALSE(dyndns_reply_ok(r));
    EXPECT_EQ(dyndns_reply_summary(r), b.error);
  }
  EXPECT_TRUE(dyndns_reply_ok(parse_dyndns_reply("HTTP/1.0 204\r\n\r\ngood", true)));
}

// Every split point of a reply: a prefix never gives a different verdict than the whole, and
// is either incomplete without error or (at eof) the same or an error.
TEST(dyndns, reply_at_every_split) {
  for (const std::string& whole :
       {std::string("HTTP/1.0 200 OK\r\nServer: x\r\nContent-Length: 13\r\n\r\ngood 1.2.3.4\n"),
        std::string("HTTP/1.1 200 OK\r\n\r\nnochg 1.2.3.4")}) {
    const auto full = parse_dyndns_reply(whole, true);
    ASSERT_TRUE(dyndns_reply_ok(full));
    for (std::size_t i = 0; i < whole.size(); ++i) {
      const auto part = parse_dyndns_reply(std::string_view(whole).substr(0, i), false);
      EXPECT_FALSE(part.complete) << i;
      EXPECT_TRUE(part.error.empty()) << i;
    }
  }
}

}  // namespace
}  // namespace kiteline::connector
