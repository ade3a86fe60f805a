// Signatures, challenge tokens and session ids (spec §4.3, §4.7).
#include <gtest/gtest.h>

#include <string>

#include "wire/kite_auth.hpp"
#include "wire/sha1.hpp"

namespace kiteline::wire {
namespace {

// The spec's verified examples (§4.3; secret s3cret).
constexpr std::string_view bsalt = "244695ef30b8d4efea04972ab412885e5c10";
constexpr std::string_view http_token = "t0449439fc5a0a90f39593e766a68b05e7b7";

kite_request http_round2() {
  return {"http", "foo.example", std::string(bsalt), std::string(http_token),
          "ca6c1c3cfcedb393af4478a0480aa280fddd"};
}
kite_request http_round1() {
  return {"http", "foo.example", std::string(bsalt), "", "a70f2eb2163a2f56405781f87e6a6d697509"};
}

TEST(KiteAuth, SpecExamplesSign) {
  EXPECT_EQ(sign("s3cret", "http:foo.example:" + std::string(bsalt) + ":" + std::string(http_token),
                 "ca6c1c3c"),
            "ca6c1c3cfcedb393af4478a0480aa280fddd");
  EXPECT_EQ(make_kite_signature("s3cret", "http", "foo.example", bsalt, "", "a70f2eb2"),
            "a70f2eb2163a2f56405781f87e6a6d697509");
  // Upper-case input is signed in lower case, as the FE verifies it.
  EXPECT_EQ(make_kite_signature("s3cret", "HTTP", "Foo.Example", bsalt, "", "a70f2eb2"),
            "a70f2eb2163a2f56405781f87e6a6d697509");
  EXPECT_EQ(kite_payload("HTTP", "Foo.Example", "b", ""), "http:foo.example:b:");
}

TEST(KiteAuth, SpecExamplesVerify) {
  EXPECT_TRUE(verify_kite_signature("s3cret", http_round2()));
  EXPECT_TRUE(verify_kite_signature("s3cret", http_round1()));
}

TEST(KiteAuth, AnyChangedByteFails) {
  for (const kite_request& good : {http_round1(), http_round2()}) {
    for (std::size_t i = 0; i < good.signature.size(); ++i) {
      kite_request k = good;
      k.signature[i] = k.signature[i] == 'a' ? 'b' : 'a';
      EXPECT_FALSE(verify_kite_signature("s3cret", k)) << i;  // salt (0-7) and digest (8-35)
    }
    for (std::string kite_request::*field :
         {&kite_request::proto, &kite_request::domain, &kite_request::bsalt}) {
      for (std::size_t i = 0; i < (good.*field).size(); ++i) {
        kite_request k = good;
        (k.*field)[i] = static_cast<char>((k.*field)[i] ^ 0x01);
        EXPECT_FALSE(verify_kite_signature("s3cret", k)) << i;
      }
    }
    kite_request k = good;
    k.fsalt += "0";
    EXPECT_FALSE(verify_kite_signature("s3cret", k));
    EXPECT_FALSE(verify_kite_signature("s3creT", good));
    EXPECT_FALSE(verify_kite_signature("s3cret ", good));
    EXPECT_FALSE(verify_kite_signature("", good));
  }
}

TEST(KiteAuth, RefusesMalformedSignatures) {
  kite_request k = http_round2();
  k.signature.pop_back();
  EXPECT_FALSE(verify_kite_signature("s3cret", k));
  k.signature = "";
  EXPECT_FALSE(verify_kite_signature("s3cret", k));
  // A 't' salt would be a token: never accepted as a BE signature, even when it "verifies".
  k = http_round2();
  k.signature = make_kite_signature("s3cret", k.proto, k.domain, k.bsalt, k.fsalt, "t1234567");
  EXPECT_EQ(k.signature.size(), 36U);
  EXPECT_FALSE(verify_kite_signature("s3cret", k));
}

TEST(KiteAuth, DynDnsSignature) {
  const std::string sig = sign_dyndns("s3cret", "foo.example:1.2.3.4", "0123abcd");
  ASSERT_EQ(sig.size(), dyndns_signature_length);
  EXPECT_EQ(sig, "0123abcd" + sha1_hex("s3cretfoo.example:1.2.3.40123abcd"));
  EXPECT_TRUE(verify_dyndns_signature("s3cret", "foo.example:1.2.3.4", sig));
  EXPECT_FALSE(verify_dyndns_signature("s3cret", "foo.example:1.2.3.5", sig));
  EXPECT_FALSE(verify_dyndns_signature("s3cret", "foo.example:1.2.3.4", sig.substr(0, 36)));
}

constexpr std::uint64_t now = 1795342288;  // window 0x2da86d

TEST(KiteAuth, TokenFormat) {
  const std::string t = make_token("fe-secret", "http", "foo.example", bsalt, now, "0449439");
  ASSERT_EQ(t.size(), 36U);
  EXPECT_EQ(t.substr(0, 8), "t0449439");
  EXPECT_EQ(t.find(':'), std::string::npos);
  const std::string window = token_window(now);
  EXPECT_EQ(window, "2da86d");  // floor(1795342288 / 600) = 0x2da86d
  EXPECT_EQ(t, "t0449439" + sha1_hex("fe-secrethttp:foo.example:" + std::string(bsalt) + window +
                                     "t0449439")
                                .substr(0, 28));
}

kite_request with_token(std::string token) {
  kite_request k = http_round1();
  k.fsalt = std::move(token);
  return k;
}

TEST(KiteAuth, TokenWindows) {
  const std::uint64_t window_start = now - now % token_window_seconds;
  const std::string t = make_token("fe-secret", "http", "foo.example", bsalt, now, "abcdef0");
  // Current window and the next one accept it; two windows later it has expired.
  EXPECT_TRUE(check_token("fe-secret", with_token(t), now).has_value());
  EXPECT_TRUE(check_token("fe-secret", with_token(t), window_start).has_value());
  EXPECT_TRUE(check_token("fe-secret", with_token(t), window_start + 599).has_value());
  EXPECT_TRUE(check_token("fe-secret", with_token(t), window_start + 600).has_value());
  EXPECT_TRUE(check_token("fe-secret", with_token(t), window_start + 1199).has_value());
  EXPECT_EQ(check_token("fe-secret", with_token(t), window_start + 1200).error(), errc::bad_token);
  // A token minted two windows ago (window - 2) is expired.
  const std::string old =
      make_token("fe-secret", "http", "foo.example", bsalt, now - 1200, "abcdef0");
  EXPECT_EQ(check_token("fe-secret", with_token(old), now).error(), errc::bad_token);
  // A token from the future (next window) is refused too.
  const std::string future =
      make_token("fe-secret", "http", "foo.example", bsalt, now + 600, "abcdef0");
  EXPECT_EQ(check_token("fe-secret", with_token(future), now).error(), errc::bad_token);
  // Window 0 has no previous window.
  const std::string early = make_token("fe-secret", "http", "foo.example", bsalt, 5, "abcdef0");
  EXPECT_TRUE(check_token("fe-secret", with_token(early), 599).has_value());
}

TEST(KiteAuth, TokenFromAnotherSecretOrKite) {
  const std::string t = make_token("fe-secret", "http", "foo.example", bsalt, now, "abcdef0");
  EXPECT_EQ(check_token("other-fe", with_token(t), now).error(), errc::bad_token);
  kite_request k = with_token(t);
  k.domain = "bar.example";
  EXPECT_EQ(check_token("fe-secret", k, now).error(), errc::bad_token);
  k = with_token(t);
  k.proto = "https";
  EXPECT_EQ(check_token("fe-secret", k, now).error(), errc::bad_token);
  k = with_token(t);
  k.bsalt[3] = 'x';
  EXPECT_EQ(check_token("fe-secret", k, now).error(), errc::bad_token);
  for (std::size_t i = 1; i < t.size(); ++i) {
    std::string bad = t;
    bad[i] = bad[i] == '0' ? '1' : '0';
    EXPECT_EQ(check_token("fe-secret", with_token(bad), now).error(), errc::bad_token) << i;
  }
  EXPECT_EQ(check_token("fe-secret", with_token(""), now).error(), errc::bad_token);
  EXPECT_EQ(check_token("fe-secret", with_token(t.substr(0, 35)), now).error(), errc::bad_token);
  std::string no_t = t;
  no_t[0] = 'a';
  EXPECT_EQ(check_token("fe-secret", with_token(no_t), now).error(), errc::bad_token);
}

TEST(KiteAuth, TokenSignedByBackendVerifies) {
  // Full challenge round: FE mints a token, the BE signs with it, the FE checks both.
  kite_request k{"raw-22", "foo.example", std::string(bsalt), "", ""};
  k.fsalt = make_token("fe-secret", k.proto, k.domain, k.bsalt, now, "f638872");
  k.signature = make_kite_signature("s3cret", k.proto, k.domain, k.bsalt, k.fsalt, "484b7726");
  EXPECT_TRUE(check_token("fe-secret", k, now + 30).has_value());
  EXPECT_TRUE(verify_kite_signature("s3cret", k));
}

TEST(KiteAuth, SessionId) {
  EXPECT_EQ(make_session_id(0x6b02be47, "7c2465963423f4f67b6d308a38a8f3593faf5652"),
            "6b02be47:7c2465963423f4f67b6d308a38a8f3593faf5652");
  EXPECT_EQ(make_session_id(0, "ab"), "0:ab");
}

TEST(KiteAuth, ConstantTimeEqual) {
  EXPECT_TRUE(constant_time_equal("", ""));
  EXPECT_TRUE(constant_time_equal("abc", "abc"));
  EXPECT_FALSE(constant_time_equal("abc", "abd"));
  EXPECT_FALSE(constant_time_equal("abc", "ab"));
}

}  // namespace
}  // namespace kiteline::wire
