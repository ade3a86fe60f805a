// relay/auth_answer and the --authdomain half of relay::decide_kites (spec 4.6, 8.2, 4.4):
// the query name, the answer decoding (every address class, CNAME extras, malformed ones at
// every length), the round's limit fields, and the policy's split between local secrets and
// the authority (fail closed, fail open, re-checks).
#include "relay/auth_answer.hpp"
#include "relay/kite_policy.hpp"
#include "wire/kite_auth.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace kiteline::relay {
namespace {

using kind = auth_grant::kind;

TEST(AuthAnswer, QueryNameIsPagekitePys) {
  // The captured query of spec 8.2.
  wire::kite_request k{"http", "good.t.example", "323760d189da5750ebf1411b24533441f059",
                       "t1bce137fb8b222cbcd54df9fad0db08c7dd",
                       "7e1b078594bf6d4bf05cc2c1b2c1a4dc5e7a"};
  EXPECT_EQ(auth_query_name(k, "auth.test"),
            "323760d189da5750ebf1411b24533441f059.t1bce137fb8b222cbcd54df9fad0db08c7dd."
            "7e1b078594bf6d4bf05cc2c1b2c1a4dc5e7a.http.good.t.example.auth.test.");
  k.domain = "*.wild.example";
  k.proto = "raw-22";
  EXPECT_TRUE(auth_query_name(k, "a.b.").ends_with(".raw-22._any_.wild.example.a.b."));
}

TEST(AuthAnswer, LongestKiteDomainWins) {
  const std::vector<config::authdomain_rule> rules{
      {"", "default.auth"}, {"example.com", "short.auth"}, {"deep.example.com", "long.auth"}};
  EXPECT_EQ(pick_auth_suffix(rules, "a.deep.example.com"), "long.auth");
  EXPECT_EQ(pick_auth_suffix(rules, "a.example.com"), "short.auth");
  EXPECT_EQ(pick_auth_suffix(rules, "deep.example.com"), "short.auth");
  EXPECT_EQ(pick_auth_suffix(rules, "xexample.com"), "default.auth");
  EXPECT_EQ(pick_auth_suffix(rules, "other.net"), "default.auth");
  const std::vector<config::authdomain_rule> only{{"example.com", "x.auth"}};
  EXPECT_FALSE(pick_auth_suffix(only, "other.net"));
  EXPECT_FALSE(pick_auth_suffix({}, "a.example.com"));
}

TEST(AuthAnswer, AddressesDecodeAsPagekitePyExceptUserUnknown) {
  auto g = decode_auth_answer({0, 0, 4, 0}, "q", false);
  EXPECT_EQ(g.outcome, kind::granted);
  EXPECT_EQ(g.quota_kb, 1024);
  g = decode_auth_answer({1, 2, 3, 4}, "q", false);
  EXPECT_EQ(g.quota_kb, 0x01020304);
  g = decode_auth_answer({0, 0, 0, 0}, "q", false);
  EXPECT_EQ(g.outcome, kind::refused);
  EXPECT_EQ(g.reason, "quota");
  g = decode_auth_answer({255, 255, 255, 1}, "q", false);
  EXPECT_EQ(g.outcome, kind::refused);
  EXPECT_EQ(g.reason, "unauthorized");
  g = decode_auth_answer({255, 255, 255, 0}, "q", false);  // pagekite.py accepts: we refuse
  EXPECT_EQ(g.outcome, kind::refused);
  EXPECT_EQ(g.reason, "unauthorized");
  g = decode_auth_answer({255, 255, 255, 7}, "q", false);
  EXPECT_EQ(g.reason, "quota");
  g = decode_auth_answer({255, 255, 254, 0}, "q", false);  // not the error prefix
  EXPECT_EQ(g.outcome, kind::granted);
}

TEST(AuthAnswer, CnameExtras) {
  // Captured: ok-3-384.x.1e.5.quota.auth.test with 0.1.0.0.
  auto g = decode_auth_answer({0, 1, 0, 0}, "ok-3-384.x.1e.5.quota.auth.test", true);
  EXPECT_EQ(g.outcome, kind::granted);
  EXPECT_EQ(g.quota_kb, 65536);
  EXPECT_EQ(g.qdays, 30);
  EXPECT_EQ(g.qconns, 5);
  ASSERT_TRUE(g.ips_per_sec);
  EXPECT_EQ(*g.ips_per_sec, (ip_limit{3, 900}));
  g = decode_auth_answer({255, 255, 255, 2}, "nodays.x.0.0.rest", true);
  EXPECT_EQ(g.outcome, kind::refused);
  EXPECT_EQ(g.reason, "nodays");
  EXPECT_FALSE(g.qdays);
  g = decode_auth_answer({255, 255, 255, 1}, "noquota.x.1.1.rest", true);
  EXPECT_EQ(g.reason, "noquota");
  // A non-hex IPC/SECS is ignored, as pagekite.py does.
  g = decode_auth_answer({0, 0, 1, 0}, "ok-zz-1.x.1.1.r", true);
  EXPECT_EQ(g.outcome, kind::granted);
  EXPECT_FALSE(g.ips_per_sec);
}

TEST(AuthAnswer, MalformedCnameFailsAtEverySplitPoint) {
  const std::string good = "ok-3-384.x.1e.5.quota";
  for (std::size_t n = 0; n < good.size(); ++n) {
    const auto g = decode_auth_answer({0, 0, 4, 0}, good.substr(0, n), true);
    // Up to "ok-3-384.x.1e.5." the five labels are not all there (or DAYS/CONNS are empty).
    EXPECT_EQ(g.outcome, n < 16 ? kind::failed : kind::granted) << n;
  }
  EXPECT_EQ(decode_auth_answer({0, 0, 4, 0}, "ok.x.1g.5.r", true).outcome, kind::failed);
  EXPECT_EQ(decode_auth_answer({0, 0, 4, 0}, "ok.x.1.5z.r", true).outcome, kind::failed);
  EXPECT_EQ(decode_auth_answer({0, 0, 4, 0}, "ok.x.1234567890abcdef.5.r", true).outcome,
            kind::failed);
}

TEST(AuthAnswer, RoundLimitsAreTheStrictest) {
  auth_grant a;
  a.outcome = kind::granted;
  a.quota_kb = 2048;
  a.qconns = 5;
  a.qdays = 0;
  a.ips_per_sec = ip_limit{3, 900};
  auth_grant b;
  b.outcome = kind::granted;
  b.quota_kb = 1024;
  b.qconns = 7;
  b.qdays = 30;
  b.ips_per_sec = ip_limit{1, 60};  // 1/60 > 3/900: less strict
  const std::vector<auth_grant> both{a, b};
  wire::handshake_response r;
  EXPECT_EQ(add_round_limits(r, both), (ip_limit{3, 900}));
  EXPECT_EQ(r.quota, 1024);
  EXPECT_EQ(r.qconns, 5);
  EXPECT_EQ(r.qdays, 30);
  EXPECT_EQ(r.ips_per_sec, "3/900");
  wire::handshake_response none;
  EXPECT_FALSE(add_round_limits(none, {}));
  EXPECT_FALSE(none.quota || none.qconns || none.qdays);
  EXPECT_TRUE(none.ips_per_sec.empty());
}

// One comparison of limits (visitor_limit's strictest): equal rates keep the first grant's
// figures, as pagekite.py's loop does; a grant without IPsPerSec does not clear one.
TEST(AuthAnswer, RoundIpsPerSecUsesTheVisitorLimitsStrictest) {
  auth_grant a;
  a.outcome = kind::granted;
  a.quota_kb = 10;
  a.ips_per_sec = ip_limit{2, 120};
  auth_grant b = a;
  b.ips_per_sec = ip_limit{1, 60};  // the same rate
  auth_grant c = a;
  c.ips_per_sec.reset();
  const std::vector<auth_grant> grants{a, c, b};
  wire::handshake_response r;
  const auto chosen = add_round_limits(r, grants);
  EXPECT_EQ(chosen, (ip_limit{2, 120}));
  EXPECT_EQ(chosen, strictest(strictest(a.ips_per_sec, c.ips_per_sec), b.ips_per_sec));
  EXPECT_EQ(r.ips_per_sec, "2/120");
}

TEST(AuthAnswer, TunnelQuotaCountsVisitorBytes) {
  tunnel_limits l;
  EXPECT_FALSE(l.quota_left_kb(1 << 20));
  l.quota_kb = 4;
  l.counted_from = 1000;
  EXPECT_EQ(l.quota_left_kb(1000), 4);
  EXPECT_EQ(l.quota_left_kb(1000 + 1023), 4);
  EXPECT_EQ(l.quota_left_kb(1000 + 1024), 3);
  EXPECT_EQ(l.quota_left_kb(1000 + 4096), 0);
  EXPECT_EQ(l.quota_left_kb(1000 + 9999), 0);
}

// ---- the policy's --authdomain split (spec 4.6 steps 5-6)

constexpr std::string_view fe_secret = "0123456789abcdef0123456789abcdef";
constexpr std::uint64_t t0 = 1000;
const std::string bsalt = "8872d068e28b1c6023cb4409dca71b5d1ed9";

struct policy {
  config::relay_config cfg;
  token_book book;
  std::vector<std::string> keys;
  std::vector<std::uint16_t> ports{80};
  kite_policy_view view;

  policy() {
    cfg.protos = {"http"};
    config::domain_rule r;
    r.any_proto = true;
    r.domain = "*.local.example";
    r.shared_secret = config::secret("localsecret");
    cfg.domains.push_back(r);
    cfg.auth.domains.push_back({"", "auth.test"});
    view.served_elsewhere = [](std::string_view, std::string_view) { return false; };
    view.has_tls_endpoint = [](std::string_view) { return false; };
    view.cert_covers = [](std::string_view) { return false; };
    view.token_nonce = [] { return std::string("abcdef1"); };
  }
  kite_round_input input(const std::vector<wire::kite_request>& kites) {
    return {kites, keys, ports, fe_secret, t0, {}};
  }
};

wire::kite_request kite(std::string domain, std::string_view secret) {
  wire::kite_request k{"http", std::move(domain), bsalt, "", ""};
  k.fsalt = wire::make_token(fe_secret, k.proto, k.domain, k.bsalt, t0, "1234567");
  k.signature = wire::make_kite_signature(secret, k.proto, k.domain, k.bsalt, k.fsalt, "a1b2c3d4");
  return k;
}

TEST(AuthPolicy, LocalSecretFirstThenTheAuthority) {
  policy p;
  const std::vector<wire::kite_request> kites{
      kite("a.local.example", "localsecret"),  // local secret verifies: no lookup
      kite("b.local.example", "wrong"),        // local secret fails: ask the authority
      kite("c.other.example", "any"),          // no local secret: ask the authority
      wire::kite_request{"http", "d.other.example", bsalt, "", ""},  // unsigned: SignThis
  };
  const auto in = p.input(kites);
  const auto q = authority_queries(p.cfg, in, p.view);
  ASSERT_EQ(q.size(), 4u);
  EXPECT_FALSE(q[0]);
  ASSERT_TRUE(q[1]);
  EXPECT_EQ(*q[1], auth_query_name(kites[1], "auth.test"));
  EXPECT_TRUE(q[2]);
  EXPECT_FALSE(q[3]);
  // Dry run: no token was used, so deciding now still accepts the local kite.
  auth_grant ok;
  ok.outcome = kind::granted;
  ok.quota_kb = 1024;
  auth_grant no;
  no.outcome = kind::refused;
  no.reason = "nodays";
  const std::vector<std::optional<auth_grant>> answers{std::nullopt, ok, no, std::nullopt};
  auto in2 = p.input(kites);
  in2.authority = answers;
  const auto r = decide_kites(p.cfg, in2, p.view, p.book);
  EXPECT_EQ(r.decisions[0].verdict, kite_verdict::accepted);
  EXPECT_EQ(r.decisions[1].verdict, kite_verdict::accepted);
  EXPECT_EQ(r.decisions[2].verdict, kite_verdict::authority_refused);
  EXPECT_EQ(r.decisions[3].verdict, kite_verdict::sign_this);
  EXPECT_EQ(r.response.quota, 1024);
  EXPECT_EQ(r.response.results[2].why, "nodays");
}

TEST(AuthPolicy, FailsClosedUnlessFailOpen) {
  policy p;
  const std::vector<wire::kite_request> kites{kite("c.other.example", "any")};
  auth_grant err;
  err.outcome = kind::failed;
  err.detail = "authority timeout after 5 s";
  const std::vector<std::optional<auth_grant>> answers{err};
  auto in = p.input(kites);
  in.authority = answers;
  auto r = decide_kites(p.cfg, in, p.view, p.book);
  EXPECT_EQ(r.decisions[0].verdict, kite_verdict::authority_failed);
  EXPECT_EQ(r.response.results[0].why, "unauthorized");
  // No answer at all (not asked) is a failure too.
  r = decide_kites(p.cfg, p.input(kites), p.view, p.book);
  EXPECT_EQ(r.decisions[0].verdict, kite_verdict::authority_failed);
  p.cfg.auth.fail_open = true;
  r = decide_kites(p.cfg, in, p.view, p.book);
  EXPECT_EQ(r.decisions[0].verdict, kite_verdict::accepted);
  EXPECT_FALSE(r.response.quota);
}

TEST(AuthPolicy, NoMatchingAuthdomainIsUnauthorized) {
  policy p;
  p.cfg.auth.domains = {{"only.example", "auth.test"}};
  const std::vector<wire::kite_request> kites{kite("b.local.example", "wrong"),
                                              kite("x.other.example", "any")};
  const auto in = p.input(kites);
  const auto q = authority_queries(p.cfg, in, p.view);
  EXPECT_FALSE(q[0] || q[1]);
  const auto r = decide_kites(p.cfg, in, p.view, p.book);
  EXPECT_EQ(r.response.results[0].why, "unauthorized");
  EXPECT_EQ(r.response.results[1].why, "unauthorized");
}

TEST(AuthPolicy, RecheckSkipsTheUsedToken) {
  policy p;
  const std::vector<wire::kite_request> kites{kite("c.other.example", "any")};
  auth_grant ok;
  ok.outcome = kind::granted;
  ok.quota_kb = 10;
  const std::vector<std::optional<auth_grant>> answers{ok};
  auto in = p.input(kites);
  in.authority = answers;
  EXPECT_EQ(decide_kites(p.cfg, in, p.view, p.book).decisions[0].verdict, kite_verdict::accepted);
  p.keys = {"http:c.other.example"};
  auto again = p.input(kites);
  again.authority = answers;
  EXPECT_EQ(decide_kites(p.cfg, again, p.view, p.book).decisions[0].verdict,
            kite_verdict::token_reused);
  again.recheck = true;
  again.now = t0 + 5000;  // long after the token expired
  const auto r = decide_kites(p.cfg, again, p.view, p.book);
  EXPECT_EQ(r.decisions[0].verdict, kite_verdict::already_here);
  EXPECT_EQ(r.response.quota, 10);
}

}  // namespace
}  // namespace kiteline::relay
