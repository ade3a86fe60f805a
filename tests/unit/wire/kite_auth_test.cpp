// Signatures, challenge tokens and session ids (spec §4.3, §4.7).
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <span>
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

constexpr std::uint64_t now = 1795342288;  // 0x6b02bfd0

/// HMAC-SHA1 hex by OpenSSL, to check the codec's own HMAC independently.
std::string openssl_hmac_sha1_hex(std::string_view key, std::string_view msg) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha1(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(msg.data()), msg.size(), out, &len);
  return to_hex(std::span<const std::uint8_t>(out, len));
}

TEST(KiteAuth, TokenFormat) {
  const std::string t = make_token("fe-secret", "http", "foo.example", bsalt, now, "0449439");
  ASSERT_EQ(t.size(), 36U);  // spec §4.3: at most 36 chars (libpagekite stores 36)
  EXPECT_EQ(t.find(':'), std::string::npos);
  // "t" || issue time (8 hex) || nonce (7 hex) || HMAC-SHA1-HEX(secret, P0 ":" head)[:20].
  EXPECT_EQ(t.substr(0, 16), "t6b02bfd00449439");
  EXPECT_EQ(t.substr(16),
            openssl_hmac_sha1_hex("fe-secret", "http:foo.example:" + std::string(bsalt) +
                                                   ":t6b02bfd00449439")
                .substr(0, 20));
  // proto and domain are lower-cased, as the FE does before checking.
  EXPECT_EQ(make_token("fe-secret", "HTTP", "Foo.Example", bsalt, now, "0449439"), t);
  // The time field is zero-padded and taken mod 2^32.
  EXPECT_EQ(make_token("fe-secret", "http", "foo.example", bsalt, 5, "abcdef0").substr(0, 16),
            "t00000005abcdef0");
  EXPECT_EQ(make_token("fe-secret", "http", "foo.example", bsalt, 0x1'2345'6789ULL, "abcdef0")
                .substr(0, 16),
            "t23456789abcdef0");
  // A long secret (over one SHA-1 block) is hashed first, as HMAC wants.
  const std::string long_secret(100, 'k');
  EXPECT_EQ(make_token(long_secret, "http", "foo.example", bsalt, now, "0449439").substr(16),
            openssl_hmac_sha1_hex(long_secret, "http:foo.example:" + std::string(bsalt) +
                                                   ":t6b02bfd00449439")
                .substr(0, 20));
  // Pinned (computed independently with Python's hmac; also the fuzz seed
  // fuzz/corpus/wire_handshake/kiteline-token-valid).
  EXPECT_EQ(make_token("fe-secret", "http", "foo.example", bsalt, now - 30, "0449439"),
            "t6b02bfb20449439dbcd822586f0dd96f1a1");
  // Different nonces give different tokens in the same second.
  EXPECT_NE(make_token("fe-secret", "http", "foo.example", bsalt, now, "0449438"), t);
}

kite_request with_token(std::string token) {
  kite_request k = http_round1();
  k.fsalt = std::move(token);
  return k;
}

TEST(KiteAuth, TokenLifetimeEdges) {
  const std::string t = make_token("fe-secret", "http", "foo.example", bsalt, now, "abcdef0");
  const std::uint64_t expires = now + token_lifetime_seconds;
  for (std::uint64_t at : {now, now + 1, now + token_lifetime_seconds - 1}) {
    const auto c = check_token("fe-secret", with_token(t), at);
    EXPECT_EQ(c.verdict, token_verdict::valid) << at - now;
    EXPECT_EQ(c.expires_at, expires) << at - now;
  }
  for (std::uint64_t at : {expires, expires + 1, now + 3600, now + (std::uint64_t{1} << 31)}) {
    const auto c = check_token("fe-secret", with_token(t), at);
    EXPECT_EQ(c.verdict, token_verdict::expired) << at - now;
    EXPECT_EQ(c.expires_at, 0U);
  }
  // Issued "in the future" (a clock that went back): expired, never valid for longer.
  EXPECT_EQ(check_token("fe-secret", with_token(t), now - 1).verdict, token_verdict::expired);
  // A clock past 2^32: the time field wraps, the age does not.
  const std::uint64_t big = 0x1'0000'0005ULL;
  const std::string w = make_token("fe-secret", "http", "foo.example", bsalt, big - 10, "abcdef0");
  EXPECT_EQ(check_token("fe-secret", with_token(w), big).verdict, token_verdict::valid);
  EXPECT_EQ(check_token("fe-secret", with_token(w), big).expires_at,
            big - 10 + token_lifetime_seconds);
  EXPECT_EQ(check_token("fe-secret", with_token(w), big - 10 + token_lifetime_seconds).verdict,
            token_verdict::expired);
  // The lifetime is a few minutes: long enough for Flow A/B, far shorter than pagekite.py's
  // 10-20 minutes.
  EXPECT_GE(token_lifetime_seconds, 60U);
  EXPECT_LE(token_lifetime_seconds, 300U);
}

TEST(KiteAuth, TokenFromAnotherSecretOrKite) {
  const std::string t = make_token("fe-secret", "http", "foo.example", bsalt, now, "abcdef0");
  EXPECT_EQ(check_token("fe-secret", with_token(t), now).verdict, token_verdict::valid);
  // Another relay process (another secret).
  EXPECT_EQ(check_token("other-fe", with_token(t), now).verdict, token_verdict::foreign);
  kite_request k = with_token(t);
  k.domain = "bar.example";
  EXPECT_EQ(check_token("fe-secret", k, now).verdict, token_verdict::foreign);
  k = with_token(t);
  k.proto = "https";
  EXPECT_EQ(check_token("fe-secret", k, now).verdict, token_verdict::foreign);
  k = with_token(t);
  k.bsalt[3] = 'x';
  EXPECT_EQ(check_token("fe-secret", k, now).verdict, token_verdict::foreign);
  // Upper-case proto/domain in the line: checked in lower case, like the signature.
  k = with_token(t);
  k.proto = "HTTP";
  k.domain = "FOO.example";
  EXPECT_EQ(check_token("fe-secret", k, now).verdict, token_verdict::valid);
  // Any changed character (time, nonce or MAC) breaks it; a changed time cannot extend the life.
  for (std::size_t i = 1; i < t.size(); ++i) {
    std::string bad = t;
    bad[i] = bad[i] == '0' ? '1' : '0';
    EXPECT_EQ(check_token("fe-secret", with_token(bad), now).verdict, token_verdict::foreign)
        << i;
  }
  // Malformed: empty, short, long, no leading 't', upper-case or non-hex digits.
  EXPECT_EQ(check_token("fe-secret", with_token(""), now).verdict, token_verdict::foreign);
  EXPECT_EQ(check_token("fe-secret", with_token(t.substr(0, 35)), now).verdict,
            token_verdict::foreign);
  EXPECT_EQ(check_token("fe-secret", with_token(t + "0"), now).verdict, token_verdict::foreign);
  std::string no_t = t;
  no_t[0] = 'a';
  EXPECT_EQ(check_token("fe-secret", with_token(no_t), now).verdict, token_verdict::foreign);
  std::string upper = t;
  upper[1] = 'A';
  EXPECT_EQ(check_token("fe-secret", with_token(upper), now).verdict, token_verdict::foreign);
  std::string non_hex = t;
  non_hex[20] = 'g';
  EXPECT_EQ(check_token("fe-secret", with_token(non_hex), now).verdict, token_verdict::foreign);
  // pagekite.py's token format (spec §4.3, the captured token) is not ours.
  EXPECT_EQ(check_token("fe-secret", with_token(std::string(http_token)), now).verdict,
            token_verdict::foreign);
}

TEST(KiteAuth, TokenVerdictsDescribed) {
  EXPECT_EQ(describe(token_verdict::valid), "valid");
  EXPECT_EQ(describe(token_verdict::expired), "expired");
  EXPECT_EQ(describe(token_verdict::foreign), "not from this relay");
}

TEST(KiteAuth, TokenSignedByBackendVerifies) {
  // Full challenge round: FE mints a token, the BE signs with it, the FE checks both.
  kite_request k{"raw-22", "foo.example", std::string(bsalt), "", ""};
  k.fsalt = make_token("fe-secret", k.proto, k.domain, k.bsalt, now, "f638872");
  k.signature = make_kite_signature("s3cret", k.proto, k.domain, k.bsalt, k.fsalt, "484b7726");
  EXPECT_EQ(check_token("fe-secret", k, now + 30).verdict, token_verdict::valid);
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
