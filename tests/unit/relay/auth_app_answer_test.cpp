// relay/auth_app_answer (spec 8.3): capability words, the request an app gets, the output
// reader at every split point, the --auth answer (secret, quotas, reasons, malformed fields)
// with the relay's own signature check, and the --zk-auth answer read as a DNS answer.
#include "relay/auth_app_answer.hpp"

#include "wire/kite_auth.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace kiteline::relay {
namespace {

using kind = auth_grant::kind;

wire::kite_request signed_kite(const std::string& secret, const std::string& domain = "a.example") {
  wire::kite_request k{"http", domain, "323760d189da5750ebf1411b24533441f059",
                       "t1bce137fb8b222cbcd54df9fad0db08c7dd", ""};
  k.signature = wire::make_kite_signature(secret, k.proto, k.domain, k.bsalt, k.fsalt, "a70f2eb2");
  return k;
}

auth_grant judge(const std::string& json, const wire::kite_request& k) {
  return judge_auth_app_answer(decode_auth_app_answer(json), k);
}

TEST(AuthAppAnswer, AnAppIsAValueWithASlash) {
  EXPECT_TRUE(is_auth_app("/usr/lib/kite-auth"));
  EXPECT_TRUE(is_auth_app("./app"));
  EXPECT_FALSE(is_auth_app("auth.example.net"));
}

TEST(AuthAppAnswer, CapabilityWordsInAnyCaseAndSpacing) {
  EXPECT_EQ(parse_auth_app_caps("SERVER AUTH\n"), (auth_app_caps{true, true, false}));
  EXPECT_EQ(parse_auth_app_caps("  zk-auth\tServer  "), (auth_app_caps{true, false, true}));
  EXPECT_EQ(parse_auth_app_caps("AUTH ZK-AUTH OTHER"), (auth_app_caps{false, true, true}));
  EXPECT_EQ(parse_auth_app_caps(""), (auth_app_caps{}));
  EXPECT_EQ(parse_auth_app_caps("AUTHX SERVERS ZK"), (auth_app_caps{}));
}

TEST(AuthAppAnswer, RequestsArePagekitePys) {
  wire::kite_request k{"raw-22", "*.wild.example", "bsalt", "fsalt", "sig"};
  const auto a = make_auth_app_request(auth_app_mode::auth, k, "/x/app");
  EXPECT_EQ(a.flag, "--auth");
  EXPECT_EQ(a.arg, "_any_.wild.example");
  EXPECT_EQ(auth_app_request_line(a), "--auth _any_.wild.example\n");
  const auto z = make_auth_app_request(auth_app_mode::zk_auth, k, "/x/app");
  EXPECT_EQ(z.flag, "--zk-auth");
  // pagekite.py joins the app's path as the name's suffix.
  EXPECT_EQ(z.arg, "bsalt.fsalt.sig.raw-22._any_.wild.example./x/app.");
  EXPECT_EQ(auth_app_request_line(z), "--zk-auth bsalt.fsalt.sig.raw-22._any_.wild.example./x/app.\n");
}

TEST(AuthAppAnswer, LinesAtEverySplitPoint) {
  const std::string out = "\n  \r\n{\"secret\": \"s\"}\r\n\n[1]\npartial";
  for (std::size_t a = 0; a <= out.size(); ++a) {
    for (std::size_t b = a; b <= out.size(); ++b) {
      auth_app_output o;
      std::vector<std::string> lines;
      for (auto piece : {out.substr(0, a), out.substr(a, b - a), out.substr(b)}) {
        ASSERT_TRUE(o.feed(piece));
        while (auto l = o.take_line()) {
          lines.push_back(*l);
        }
      }
      ASSERT_EQ(lines, (std::vector<std::string>{"{\"secret\": \"s\"}", "[1]"})) << a << "," << b;
      EXPECT_TRUE(o.holds_text());
      EXPECT_EQ(o.all(), "partial");
    }
  }
}

TEST(AuthAppAnswer, OutputBeyondTheLimitIsRefused) {
  auth_app_output o(8);
  EXPECT_TRUE(o.feed("1234"));
  EXPECT_TRUE(o.feed("5678"));
  EXPECT_FALSE(o.feed("9"));
  EXPECT_TRUE(o.overflowed());
  EXPECT_FALSE(o.take_line());
  EXPECT_FALSE(o.feed("\n"));
  o.clear();
  EXPECT_TRUE(o.feed("x\n"));
  EXPECT_EQ(o.take_line(), "x");
  EXPECT_FALSE(o.holds_text());
}

TEST(AuthAppAnswer, GoodSecretGrantsWithEveryLimit) {
  const auto k = signed_kite("sekrit");
  const auto g = judge(R"({"secret": "sekrit", "quota_kb": 1024, "quota_days": 30,
                           "quota_conns": 5, "ips_per_sec-ips": 3, "ips_per_sec-secs": 900,
                           "pid": 42})",
                       k);
  ASSERT_EQ(g.outcome, kind::granted) << g.detail;
  EXPECT_EQ(g.quota_kb, 1024);
  EXPECT_EQ(g.qdays, 30);
  EXPECT_EQ(g.qconns, 5);
  EXPECT_EQ(g.ips_per_sec, (ip_limit{3, 900}));
  EXPECT_EQ(g.detail, "answered a secret (quota 1024 kB, 30 days, 5 conns, 3 IPs/900 s)");
  EXPECT_TRUE(g.reason.empty());
}

TEST(AuthAppAnswer, NoOrNegativeQuotaGrantsWithoutOne) {
  const auto k = signed_kite("s");
  for (const char* json : {R"({"secret":"s"})", R"({"secret":"s","quota_kb":-2})",
                           R"({"secret":"s","quota_days":0,"quota_conns":null,"reason":""})",
                           R"({"secret":"s","ips_per_sec-ips":3})"}) {
    const auto g = judge(json, k);
    ASSERT_EQ(g.outcome, kind::granted) << json << ": " << g.detail;
    EXPECT_FALSE(g.quota_kb || g.qdays || g.qconns || g.ips_per_sec) << json;
    EXPECT_EQ(g.detail, "answered a secret (no quota)");
  }
}

TEST(AuthAppAnswer, WrongSecretIsRefusedSignatureBeforeAnyReason) {
  const auto k = signed_kite("right");
  for (const char* json : {R"({"secret":"wrong","quota_kb":1024})",
                           R"({"secret":"wrong","reason":"nodays"})",
                           R"({"secret":"wrong","quota_kb":0})"}) {
    const auto g = judge(json, k);
    EXPECT_EQ(g.outcome, kind::refused) << json;
    EXPECT_EQ(g.reason, "signature") << json;
  }
  auto unsigned_kite = k;
  unsigned_kite.signature.clear();
  EXPECT_EQ(judge(R"({"secret":"right"})", unsigned_kite).reason, "signature");
}

TEST(AuthAppAnswer, ReasonsAndQuotaZeroRefuse) {
  const auto k = signed_kite("s");
  struct row {
    const char* json;
    const char* reason;
  };
  for (const row& r : {row{R"({"secret":"s","quota_kb":10240,"reason":"nodays"})", "nodays"},
                       row{R"({"error":"unauthorized"})", "unauthorized"},
                       row{R"({"reason":"noquota","quota_kb":"junk"})", "noquota"},
                       row{R"({"secret":"s","quota_kb":0})", "quota"},
                       row{R"({"secret":"s","quota_kb":null})", "quota"},
                       row{R"({"secret":"s","reason":"two words"})", "unauthorized"},
                       row{"{\"secret\":\"s\",\"reason\":\"x\\r\\nX-Evil: 1\"}", "unauthorized"},
                       row{R"({"secret":"s","error":true})", "unauthorized"}}) {
    const auto g = judge(r.json, k);
    EXPECT_EQ(g.outcome, kind::refused) << r.json << ": " << g.detail;
    EXPECT_EQ(g.reason, r.reason) << r.json;
  }
}

TEST(AuthAppAnswer, MalformedAnswersFail) {
  const auto k = signed_kite("s");
  struct row {
    std::string json;
    std::string detail;
  };
  for (const row& r : {row{"", "answered nothing"},
                       row{"not json", "answer is not JSON"},
                       row{R"({"secret":"s"} {})", "answer is not JSON"},
                       row{R"(["secret","s"])", "answer is not a JSON object"},
                       row{"{\"secret\":\"\xff\"}", "answer is not JSON"},
                       row{R"({"quota_kb":5})", "gave no secret"},
                       row{R"({"secret":""})", "gave no secret"},
                       row{R"({"secret":7})", "answer: secret is not a string"},
                       row{R"({"secret":"s","quota_kb":"5"})", "answer: quota_kb is not an integer"},
                       row{R"({"secret":"s","quota_kb":1.5})", "answer: quota_kb is not an integer"},
                       row{R"({"secret":"s","quota_days":18446744073709551615})",
                           "answer: quota_days is not an integer"},
                       row{R"({"secret":"s","ips_per_sec-secs":[]})",
                           "answer: ips_per_sec-secs is not an integer"}}) {
    const auto g = judge(r.json, k);
    EXPECT_EQ(g.outcome, kind::failed) << r.json;
    EXPECT_EQ(g.detail, r.detail) << r.json;
  }
}

TEST(AuthAppAnswer, AnswerAtEverySplitPointOfItsLine) {
  const auto k = signed_kite("s");
  const std::string line = "{\"secret\":\"s\",\"quota_kb\":1024,\"quota_conns\":5}\n";
  const auto whole = judge(line, k);
  ASSERT_EQ(whole.outcome, kind::granted);
  for (std::size_t cut = 0; cut <= line.size(); ++cut) {
    auth_app_output o;
    ASSERT_TRUE(o.feed(line.substr(0, cut)));
    if (cut < line.size()) {
      EXPECT_FALSE(o.take_line()) << cut;
    }
    if (cut + 1 < line.size()) {
      // A truncated answer never decodes to a grant.
      EXPECT_NE(judge(line.substr(0, cut), k).outcome, kind::granted) << cut;
    }
    ASSERT_TRUE(o.feed(line.substr(cut)));
    const auto got = o.take_line();
    ASSERT_TRUE(got) << cut;
    EXPECT_EQ(judge(*got, k), whole) << cut;
  }
}

TEST(AuthAppAnswer, ZkAnswersReadLikeDns) {
  auto g = decode_zk_auth_app_answer(R"({"hostname":"q.auth","alias":"","ips":["0.0.4.0"]})");
  ASSERT_EQ(g.outcome, kind::granted) << g.detail;
  EXPECT_EQ(g.quota_kb, 1024);
  EXPECT_EQ(g, decode_auth_answer({0, 0, 4, 0}, "q.auth", false));
  // A non-empty alias: the hostname is the canonical name with the extras.
  g = decode_zk_auth_app_answer(
      R"({"hostname":"OK-3-384.x.1e.5.quota.auth.","alias":["q.auth"],"ips":["0.1.0.0","1.2.3.4"]})");
  ASSERT_EQ(g.outcome, kind::granted) << g.detail;
  EXPECT_EQ(g, decode_auth_answer({0, 1, 0, 0}, "ok-3-384.x.1e.5.quota.auth", true));
  EXPECT_EQ(g.qconns, 5);
  EXPECT_EQ(g.qdays, 30);
  g = decode_zk_auth_app_answer(R"({"hostname":"q","ips":["255.255.255.1"]})");
  EXPECT_EQ(g.outcome, kind::refused);
  EXPECT_EQ(g.reason, "unauthorized");
  g = decode_zk_auth_app_answer(R"({"hostname":"nodays.x.0.0.r","alias":"q","ips":["255.255.255.2"]})");
  EXPECT_EQ(g.reason, "nodays");
  g = decode_zk_auth_app_answer(R"({"hostname":"q","alias":null,"ips":["255.255.255.0"]})");
  EXPECT_EQ(g.reason, "unauthorized");  // user unknown: refused, unlike pagekite.py
}

TEST(AuthAppAnswer, MalformedZkAnswersFail) {
  for (const char* json :
       {"", "{}", R"({"hostname":"q"})", R"({"hostname":"q","ips":[]})",
        R"({"hostname":"q","ips":"0.0.4.0"})", R"({"hostname":"q","ips":[1024]})",
        R"({"hostname":"q","ips":["0.0.4"]})", R"({"hostname":"q","ips":["0.0.4.0.1"]})",
        R"({"hostname":"q","ips":["0.0.4.256"]})", R"({"hostname":"q","ips":["0.0.4.0 "]})",
        R"({"hostname":"q","ips":["0..4.0"]})", R"({"hostname":"q","ips":["0.0.0004.0"]})",
        R"({"hostname":7,"ips":["0.0.4.0"]})", R"({"hostname":"q","alias":1,"ips":["0.0.4.0"]})",
        R"({"hostname":"few.labels","alias":"q","ips":["0.0.4.0"]})"}) {
    const auto g = decode_zk_auth_app_answer(json);
    EXPECT_EQ(g.outcome, kind::failed) << json;
    EXPECT_FALSE(g.detail.empty()) << json;
  }
}

}  // namespace
}  // namespace kiteline::relay
