// relay::decide_kites: every verdict of the kite policy, and pagekite.py's answers to the
// captured kite lines (../shared/vectors/pagekite-py) given again to this relay's policy.
#include "relay/kite_policy.hpp"

#include "unit/wire/vector_reader.hpp"
#include "wire/kite_auth.hpp"

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace kiteline::relay {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view fe_secret = "0123456789abcdef0123456789abcdef";
constexpr std::uint64_t t0 = 1000;
const std::string bsalt = "8872d068e28b1c6023cb4409dca71b5d1ed9";

config::domain_rule rule(std::string domain, std::string secret,
                         std::vector<config::proto_port> protos = {}) {
  config::domain_rule r;
  r.any_proto = protos.empty();
  r.protos = std::move(protos);
  r.domain = std::move(domain);
  r.shared_secret = config::secret(std::move(secret));
  return r;
}

/// The vectors' relay: --protos=http,https,raw --rawports=virtual
/// --domain=http,https,raw:*.test:s3cret, port 27080.
config::relay_config vectors_config() {
  config::relay_config c;
  c.protos = {"http", "https", "raw"};
  c.raw_virtual = true;
  c.domains.push_back(rule("*.test", "s3cret", {{"http", {}}, {"https", {}}, {"raw", {}}}));
  return c;
}

/// A relay's state for one tunnel, with every view answer adjustable.
struct fixture {
  config::relay_config cfg = vectors_config();
  std::vector<std::uint16_t> ports{27080};
  std::vector<std::string> tunnel_keys;
  std::vector<std::string> served;      ///< keys another tunnel serves for this connector
  std::vector<std::string> endpoints;   ///< domains with a TLS endpoint
  std::vector<std::string> cert_names;  ///< domains a verified client certificate names
  token_book book;
  int nonces = 0;

  explicit fixture(std::size_t book_capacity = token_book::default_capacity)
      : book(book_capacity) {}

  kite_round_result round(const std::vector<wire::kite_request>& kites, std::uint64_t now = t0) {
    kite_policy_view view;
    view.served_elsewhere = [this](std::string_view key, std::string_view) {
      return std::find(served.begin(), served.end(), key) != served.end();
    };
    view.has_tls_endpoint = [this](std::string_view d) {
      return std::find(endpoints.begin(), endpoints.end(), d) != endpoints.end();
    };
    view.cert_covers = [this](std::string_view d) {
      return std::find(cert_names.begin(), cert_names.end(), d) != cert_names.end();
    };
    view.token_nonce = [this] { return "abcdef" + std::to_string(nonces++ % 10); };
    return decide_kites(cfg, {kites, tunnel_keys, ports, fe_secret, now}, view, book);
  }
};

wire::kite_request unsigned_kite(std::string proto, std::string domain) {
  wire::kite_request k;
  k.proto = std::move(proto);
  k.domain = std::move(domain);
  k.bsalt = bsalt;
  return k;
}

/// `k` signed with `secret` over a fresh token of this relay issued at `issued`.
wire::kite_request signed_kite(wire::kite_request k, std::string_view secret,
                               std::uint64_t issued = t0, std::string_view nonce = "1234567") {
  k.fsalt = wire::make_token(fe_secret, k.proto, k.domain, k.bsalt, issued, nonce);
  k.signature = wire::make_kite_signature(secret, k.proto, k.domain, k.bsalt, k.fsalt, "a1b2c3d4");
  return k;
}

kite_verdict only_verdict(const kite_round_result& r) {
  EXPECT_EQ(r.decisions.size(), 1U);
  return r.decisions.empty() ? kite_verdict::accepted : r.decisions.front().verdict;
}

/// One result line with `status`, nothing new to register.
void expect_single(const kite_round_result& r, wire::kite_status status, bool rejected = true) {
  ASSERT_EQ(r.response.results.size(), 1U);
  EXPECT_EQ(r.response.results[0].status, status);
  EXPECT_EQ(r.rejected, rejected);
  EXPECT_TRUE(r.new_keys.empty());
}

void expect_invalid(const kite_round_result& r, std::string_view why) {
  expect_single(r, wire::kite_status::invalid);
  ASSERT_EQ(r.response.results.size(), 1U);
  EXPECT_EQ(r.response.results[0].why, why);
}

TEST(KitePolicy, UnsignedLineGetsATokenOfThisRelay) {
  fixture f;
  const auto k = unsigned_kite("http", "foo.test");
  const auto r = f.round({k});
  EXPECT_EQ(only_verdict(r), kite_verdict::sign_this);
  ASSERT_EQ(r.response.results.size(), 1U);
  const auto& res = r.response.results[0];
  EXPECT_EQ(res.status, wire::kite_status::sign_this);
  EXPECT_EQ(res.kite, "http:foo.test:" + bsalt);
  EXPECT_EQ(res.fsalt, wire::make_token(fe_secret, "http", "foo.test", bsalt, t0, "abcdef0"));
  EXPECT_FALSE(r.rejected);
  EXPECT_TRUE(r.new_keys.empty());
  EXPECT_EQ(r.response.misc, wire::make_misc(""));
  // A line with a token but no signature is unsigned too.
  auto half = k;
  half.fsalt = res.fsalt;
  EXPECT_EQ(only_verdict(f.round({half})), kite_verdict::sign_this);
}

TEST(KitePolicy, SignedLineIsAcceptedOnce) {
  fixture f;
  const auto k = signed_kite(unsigned_kite("http", "foo.test"), "s3cret");
  const auto r = f.round({k}, t0 + 5);
  EXPECT_EQ(only_verdict(r), kite_verdict::accepted);
  ASSERT_EQ(r.response.results.size(), 1U);
  EXPECT_EQ(r.response.results[0].status, wire::kite_status::ok);
  EXPECT_EQ(r.new_keys, std::vector<std::string>{"http:foo.test"});
  EXPECT_EQ(r.decisions[0].key, "http:foo.test");
  EXPECT_FALSE(r.decisions[0].by_cert);
  EXPECT_FALSE(r.rejected);
  EXPECT_EQ(f.book.size(), 1U);
  // The same line again (a replay, here on another tunnel): its token was used.
  const auto again = f.round({k}, t0 + 6);
  EXPECT_EQ(only_verdict(again), kite_verdict::token_reused);
  expect_invalid(again, "unauthorized");
}

TEST(KitePolicy, ClientCertificateRequired) {
  fixture f;
  f.cfg.tls_client_required = true;
  const auto k = signed_kite(unsigned_kite("http", "foo.test"), "s3cret");
  const auto r = f.round({k});
  EXPECT_EQ(only_verdict(r), kite_verdict::cert_required);
  expect_invalid(r, "unauthorized");
  EXPECT_EQ(f.book.size(), 0U);
}

TEST(KitePolicy, ClientCertificateAuthenticatesWithoutSecret) {
  fixture f;
  f.cfg.tls_client_required = true;
  f.cert_names = {"foo.test"};
  const auto r = f.round({unsigned_kite("http", "foo.test")});
  EXPECT_EQ(only_verdict(r), kite_verdict::accepted);
  EXPECT_TRUE(r.decisions[0].by_cert);
  EXPECT_EQ(r.new_keys, std::vector<std::string>{"http:foo.test"});
  EXPECT_EQ(f.book.size(), 0U);  // no token involved
  // Even a domain no --domain rule covers.
  f.cert_names = {"other.example"};
  EXPECT_EQ(only_verdict(f.round({unsigned_kite("http", "other.example")})),
            kite_verdict::accepted);
  // The certificate does not lift --protos.
  f.cert_names = {"foo.test"};
  EXPECT_EQ(only_verdict(f.round({unsigned_kite("irc", "foo.test")})), kite_verdict::bad_proto);
}

TEST(KitePolicy, BadProto) {
  fixture f;
  const auto notlisted = f.round({signed_kite(unsigned_kite("irc", "foo.test"), "s3cret")});
  EXPECT_EQ(only_verdict(notlisted), kite_verdict::bad_proto);
  expect_invalid(notlisted, "proto");
  const auto malformed = f.round({signed_kite(unsigned_kite("http-x-y", "foo.test"), "s3cret")});
  EXPECT_EQ(only_verdict(malformed), kite_verdict::bad_proto);
  expect_invalid(malformed, "proto");
}

TEST(KitePolicy, BadPort) {
  fixture f;
  const auto r = f.round({signed_kite(unsigned_kite("http-8080", "foo.test"), "s3cret")});
  EXPECT_EQ(only_verdict(r), kite_verdict::bad_port);
  expect_invalid(r, "port");
  // A reported port is served.
  EXPECT_EQ(only_verdict(f.round({signed_kite(unsigned_kite("http-27080", "foo.test"), "s3cret")})),
            kite_verdict::accepted);
  // Raw ports: any with --rawports=virtual, else only the listed ones.
  EXPECT_EQ(only_verdict(f.round({signed_kite(unsigned_kite("raw-22", "ssh.test"), "s3cret")})),
            kite_verdict::accepted);
  f.cfg.raw_virtual = false;
  f.cfg.raw_ports = {2222};
  EXPECT_EQ(only_verdict(f.round({signed_kite(unsigned_kite("raw-23", "ssh.test"), "s3cret")})),
            kite_verdict::bad_port);
  EXPECT_EQ(only_verdict(f.round({signed_kite(unsigned_kite("raw-2222", "ssh.test"), "s3cret")})),
            kite_verdict::accepted);
}

TEST(KitePolicy, ExpiredToken) {
  fixture f;
  const auto k = signed_kite(unsigned_kite("http", "foo.test"), "s3cret", t0);
  const auto r = f.round({k}, t0 + wire::token_lifetime_seconds);
  EXPECT_EQ(only_verdict(r), kite_verdict::token_expired);
  expect_invalid(r, "unauthorized");
  EXPECT_EQ(only_verdict(f.round({k}, t0 + wire::token_lifetime_seconds - 1)),
            kite_verdict::accepted);
}

TEST(KitePolicy, ForeignToken) {
  fixture f;
  auto k = unsigned_kite("http", "foo.test");
  // A token of another relay process (another secret), signed correctly by the connector.
  k.fsalt = wire::make_token("another secret", k.proto, k.domain, k.bsalt, t0, "1234567");
  k.signature =
      wire::make_kite_signature("s3cret", k.proto, k.domain, k.bsalt, k.fsalt, "a1b2c3d4");
  auto r = f.round({k});
  EXPECT_EQ(only_verdict(r), kite_verdict::token_foreign);
  expect_invalid(r, "unauthorized");
  // This relay's token for another BSALT.
  auto moved = signed_kite(unsigned_kite("http", "foo.test"), "s3cret");
  moved.bsalt = "0000" + moved.bsalt.substr(4);
  EXPECT_EQ(only_verdict(f.round({moved})), kite_verdict::token_foreign);
}

TEST(KitePolicy, NoDomainRule) {
  fixture f;
  const auto r = f.round({signed_kite(unsigned_kite("http", "foo.example"), "s3cret")});
  EXPECT_EQ(only_verdict(r), kite_verdict::no_domain_rule);
  expect_invalid(r, "unauthorized");
  // A rule for the domain but not this protocol does not cover it either.
  f.cfg.domains = {rule("foo.test", "s3cret", {{"https", {}}})};
  EXPECT_EQ(only_verdict(f.round({signed_kite(unsigned_kite("http", "foo.test"), "s3cret")})),
            kite_verdict::no_domain_rule);
  // Nor a rule for another port of the protocol.
  f.cfg.domains = {rule("foo.test", "s3cret", {{"http", 8080}})};
  f.ports = {80, 8080};
  EXPECT_EQ(only_verdict(f.round({signed_kite(unsigned_kite("http-80", "foo.test"), "s3cret")})),
            kite_verdict::no_domain_rule);
  EXPECT_EQ(only_verdict(f.round({signed_kite(unsigned_kite("http-8080", "foo.test"), "s3cret")})),
            kite_verdict::accepted);
}

TEST(KitePolicy, BadSignature) {
  fixture f;
  const auto r = f.round({signed_kite(unsigned_kite("http", "foo.test"), "wrong-secret")});
  EXPECT_EQ(only_verdict(r), kite_verdict::bad_signature);
  expect_invalid(r, "signature");
  EXPECT_EQ(f.book.size(), 0U);  // only verified rounds fill the book
  // A second covering rule whose secret verifies it wins.
  f.cfg.domains.push_back(rule("foo.test", "wrong-secret"));
  EXPECT_EQ(only_verdict(f.round({signed_kite(unsigned_kite("http", "foo.test"), "wrong-secret")})),
            kite_verdict::accepted);
}

TEST(KitePolicy, TokenStoreFull) {
  fixture f(1);
  ASSERT_EQ(f.book.accept("tother", t0 + 100, t0), token_book::outcome::accepted);
  const auto r = f.round({signed_kite(unsigned_kite("http", "foo.test"), "s3cret")});
  EXPECT_EQ(only_verdict(r), kite_verdict::token_store_full);
  expect_invalid(r, "unauthorized");
}

TEST(KitePolicy, DuplicateOnAnotherTunnel) {
  fixture f;
  f.served = {"http:foo.test"};
  const auto r = f.round({signed_kite(unsigned_kite("http", "foo.test"), "s3cret")});
  EXPECT_EQ(only_verdict(r), kite_verdict::duplicate);
  expect_single(r, wire::kite_status::duplicate);
}

TEST(KitePolicy, AlreadyOnThisTunnel) {
  fixture f;
  f.tunnel_keys = {"http:foo.test"};
  f.served = {"http:foo.test"};  // this tunnel's own registration does not make a duplicate
  const auto r = f.round({signed_kite(unsigned_kite("http", "foo.test"), "s3cret")});
  EXPECT_EQ(only_verdict(r), kite_verdict::already_here);
  // OK again, but nothing new to register.
  expect_single(r, wire::kite_status::ok, false);
}

TEST(KitePolicy, SslOkForHttpKitesWithATlsEndpoint) {
  fixture f;
  f.endpoints = {"foo.test", "ssh.test"};
  const auto r =
      f.round({signed_kite(unsigned_kite("http", "foo.test"), "s3cret", t0, "1111111"),
               signed_kite(unsigned_kite("raw-22", "ssh.test"), "s3cret", t0, "2222222"),
               signed_kite(unsigned_kite("https", "bar.test"), "s3cret", t0, "3333333")});
  ASSERT_EQ(r.decisions.size(), 3U);
  EXPECT_TRUE(r.decisions[0].ssl_ok);
  EXPECT_FALSE(r.decisions[1].ssl_ok);  // not an http kite
  EXPECT_FALSE(r.decisions[2].ssl_ok);  // no endpoint
  ASSERT_EQ(r.response.results.size(), 4U);
  EXPECT_EQ(r.response.results[0].status, wire::kite_status::ok);
  EXPECT_EQ(r.response.results[1].status, wire::kite_status::ssl_ok);
  EXPECT_EQ(r.response.results[1].kite, "http:foo.test:" + bsalt);
  EXPECT_EQ(r.new_keys,
            (std::vector<std::string>{"http:foo.test", "raw-22:ssh.test", "https:bar.test"}));
}

TEST(KitePolicy, MixedRoundKeepsLineOrder) {
  fixture f;
  const auto r = f.round({unsigned_kite("http", "a.test"),
                          signed_kite(unsigned_kite("http", "b.test"), "wrong-secret"),
                          signed_kite(unsigned_kite("http", "c.test"), "s3cret")});
  ASSERT_EQ(r.decisions.size(), 3U);
  EXPECT_EQ(r.decisions[0].verdict, kite_verdict::sign_this);
  EXPECT_EQ(r.decisions[1].verdict, kite_verdict::bad_signature);
  EXPECT_EQ(r.decisions[2].verdict, kite_verdict::accepted);
  EXPECT_TRUE(r.rejected);
  EXPECT_EQ(r.new_keys, std::vector<std::string>{"http:c.test"});
}

TEST(KitePolicy, AnswersOfEveryVerdict) {
  EXPECT_EQ(kite_answer(kite_verdict::accepted), wire::kite_status::ok);
  EXPECT_EQ(kite_answer(kite_verdict::already_here), wire::kite_status::ok);
  EXPECT_EQ(kite_answer(kite_verdict::sign_this), wire::kite_status::sign_this);
  EXPECT_EQ(kite_answer(kite_verdict::duplicate), wire::kite_status::duplicate);
  for (auto v :
       {kite_verdict::cert_required, kite_verdict::bad_proto, kite_verdict::bad_port,
        kite_verdict::token_expired, kite_verdict::token_foreign, kite_verdict::no_domain_rule,
        kite_verdict::bad_signature, kite_verdict::token_reused, kite_verdict::token_store_full}) {
    EXPECT_EQ(kite_answer(v), wire::kite_status::invalid);
    EXPECT_FALSE(invalid_reason(v).empty());
  }
  EXPECT_TRUE(invalid_reason(kite_verdict::accepted).empty());
  EXPECT_TRUE(invalid_reason(kite_verdict::duplicate).empty());
}

TEST(KitePolicy, DomainRuleCovers) {
  EXPECT_TRUE(domain_rule_covers("foo.test", "foo.test"));
  EXPECT_TRUE(domain_rule_covers("*.test", "foo.test"));
  EXPECT_TRUE(domain_rule_covers("*.test", "a.foo.test"));
  EXPECT_FALSE(domain_rule_covers("*.test", "test"));
  EXPECT_FALSE(domain_rule_covers("*.test", ".test"));
  EXPECT_FALSE(domain_rule_covers("*.test", "footest"));
  EXPECT_FALSE(domain_rule_covers("foo.test", "a.foo.test"));
  EXPECT_FALSE(domain_rule_covers("*.", "a."));
}

// --- the captures --------------------------------------------------------------------------

struct captured_tunnel {
  wire::handshake_request request;
  wire::handshake_response answer;  ///< what pagekite.py answered
};

captured_tunnel load(const fs::path& be2fe) {
  captured_tunnel t;
  auto name = be2fe.filename().string();
  name.replace(name.find("be2fe"), 5, "fe2be");
  const auto req = wire::test::read_file(be2fe);
  const auto resp = wire::test::read_file(be2fe.parent_path() / name);
  const auto req_text = wire::test::to_string(req);
  const auto resp_text = wire::test::to_string(resp);
  auto r = wire::parse_handshake_request(req_text.substr(0, wire::test::handshake_head_end(req)));
  auto a =
      wire::parse_handshake_response(resp_text.substr(0, wire::test::handshake_head_end(resp)));
  EXPECT_TRUE(r) << be2fe;
  EXPECT_TRUE(a) << be2fe;
  if (r && a) {
    t.request = std::move(*r);
    t.answer = std::move(*a);
  }
  return t;
}

/// pagekite.py's answer to each captured kite line, and this policy's to the same line. A line
/// pagekite.py challenged is given without token and signature (its round one signs an empty
/// token; a line signed over a stale token, which pagekite.py challenges again, this relay
/// refuses as `unauthorized`: checked too). A line it judged is signed again over this relay's
/// token with the scenario's secret, since pagekite.py's tokens are its own. Expected: the same
/// status, kite and reason.
TEST(KitePolicyVectors, SameAnswersAsPagekitePy) {
  const fs::path dir = wire::test::vectors_dir() / "nozchunks";
  ASSERT_TRUE(fs::is_directory(dir)) << dir;
  int lines = 0;
  int judged = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.find(".tunnel") == std::string::npos || !name.ends_with(".be2fe.bin")) {
      continue;
    }
    SCOPED_TRACE(name);
    const captured_tunnel t = load(e.path());
    const std::string secret = name.starts_with("08-wrong-secret") ? "wrong-secret" : "s3cret";
    ASSERT_EQ(t.request.kites.size(), t.answer.results.size());
    for (std::size_t i = 0; i < t.request.kites.size(); ++i) {
      const wire::kite_result& theirs = t.answer.results[i];
      wire::kite_request k = t.request.kites[i];
      const bool challenged = theirs.status == wire::kite_status::sign_this;
      if (challenged && !k.fsalt.empty() && !k.signature.empty()) {
        fixture stale;
        EXPECT_EQ(only_verdict(stale.round({k})), kite_verdict::token_foreign) << i;
      }
      if (challenged) {
        k.fsalt.clear();
        k.signature.clear();
      } else {
        k = signed_kite(std::move(k), secret, t0, "7654321");
        ++judged;
      }
      fixture f;
      const auto r = f.round({k}, t0 + 1);
      ASSERT_EQ(r.response.results.size(), 1U) << i;
      EXPECT_EQ(r.response.results[0].status, theirs.status) << i;
      EXPECT_EQ(r.response.results[0].kite, theirs.kite) << i;
      EXPECT_EQ(r.response.results[0].why, theirs.why) << i;
      if (challenged) {
        EXPECT_TRUE(r.response.results[0].fsalt.starts_with("t")) << i;
        EXPECT_EQ(r.response.results[0].fsalt.size(), wire::signature_length) << i;
      }
      ++lines;
    }
  }
  EXPECT_GE(lines, 20);
  EXPECT_GE(judged, 10);
}

/// The captured second-round lines as they are: pagekite.py's tokens are not this relay's, so
/// each is refused as pagekite.py refuses a stranger's token (`unauthorized`), never accepted.
TEST(KitePolicyVectors, PagekitePyTokensAreForeign) {
  const fs::path dir = wire::test::vectors_dir() / "nozchunks";
  for (const char* n : {"01-handshake-get.tunnel2.be2fe.bin", "10-raw-connect.tunnel2.be2fe.bin"}) {
    SCOPED_TRACE(n);
    const captured_tunnel t = load(dir / n);
    ASSERT_FALSE(t.request.kites.empty());
    ASSERT_FALSE(t.request.kites.front().signature.empty());
    fixture f;
    const auto r = f.round(t.request.kites);
    ASSERT_EQ(r.decisions.size(), t.request.kites.size());
    for (const auto& d : r.decisions) {
      EXPECT_EQ(d.verdict, kite_verdict::token_foreign);
    }
    // ...although the connector's signature over it verifies with the scenario's secret.
    EXPECT_TRUE(wire::verify_kite_signature("s3cret", t.request.kites.front()));
  }
}

}  // namespace
}  // namespace kiteline::relay
