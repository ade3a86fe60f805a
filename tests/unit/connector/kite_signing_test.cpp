// Tests of the connector's kite signing: BSALT, SALT8, signed lines, the request (spec §4.2-4.3).
#include <gtest/gtest.h>

#include "connector/kite_signing.hpp"
#include "wire/handshake.hpp"
#include "wire/kite_auth.hpp"
#include "wire/sha1.hpp"

namespace kiteline::connector {
namespace {

TEST(kite_signing, bsalt_is_36_hex_and_stable) {
  const auto a = make_bsalt("proc", "127.0.0.1:443", "s3cret");
  EXPECT_EQ(a.size(), 36u);
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(a, make_bsalt("proc", "127.0.0.1:443", "s3cret"));
  EXPECT_EQ(a, wire::sha1_hex("proc127.0.0.1:443s3cret").substr(0, 36));
  EXPECT_NE(a, make_bsalt("proc", "127.0.0.1:444", "s3cret"));
  EXPECT_NE(a, make_bsalt("proc2", "127.0.0.1:443", "s3cret"));
}

TEST(kite_signing, salt8_is_8_hex_never_t) {
  EXPECT_EQ(make_salt8(0x0123456789abcdefULL), "89abcdef");
  EXPECT_EQ(make_salt8(0), "00000000");
  for (std::uint64_t r : {0xffffffffULL, 0xdeadbeefULL, 0x7777777aULL}) {
    const auto s = make_salt8(r);
    EXPECT_EQ(s.size(), 8u);
    EXPECT_NE(s.front(), 't');
    EXPECT_EQ(s.find_first_not_of("0123456789abcdef"), std::string::npos);
  }
}

TEST(kite_signing, signs_lower_case_and_verifies_as_the_relay_does) {
  config::service s;
  s.proto = "HTTP";
  s.public_port = 8080;
  s.kite_name = "Foo.Test";
  s.kite_secret = config::secret("s3cret");
  const auto k = sign_kite(s, "244695ef30b8d4efea04972ab412885e5c10",
                           "t0449439fc5a0a90f39593e766a68b05e7b7", "ca6c1c3c");
  EXPECT_EQ(k.proto, "http-8080");
  EXPECT_EQ(k.domain, "foo.test");
  EXPECT_EQ(k.signature.size(), 36u);
  EXPECT_EQ(k.signature.substr(0, 8), "ca6c1c3c");
  EXPECT_TRUE(wire::verify_kite_signature("s3cret", k));
  EXPECT_FALSE(wire::verify_kite_signature("wrong", k));
}

TEST(kite_signing, captured_signature_vector) {
  // Spec §4.3 verified example (second round).
  config::service s;
  s.proto = "http";
  s.kite_name = "foo.example";
  s.kite_secret = config::secret("s3cret");
  const auto k = sign_kite(s, "244695ef30b8d4efea04972ab412885e5c10",
                           "t0449439fc5a0a90f39593e766a68b05e7b7", "ca6c1c3c");
  EXPECT_EQ(k.signature, "ca6c1c3cfcedb393af4478a0480aa280fddd");
  const auto first = sign_kite(s, "244695ef30b8d4efea04972ab412885e5c10", "", "a70f2eb2");
  EXPECT_EQ(first.signature, "a70f2eb2163a2f56405781f87e6a6d697509");
}

TEST(kite_signing, request_features_and_replace) {
  auto r = make_request({}, false, "6b02be47:abc");
  EXPECT_TRUE(r.add_kites);
  EXPECT_TRUE(r.zchunks);
  EXPECT_EQ(r.replace, "6b02be47:abc");
  ASSERT_EQ(r.versions.size(), 2u);
  auto text = wire::format_handshake_request(r);
  EXPECT_NE(text.find("X-PageKite-Replace: 6b02be47:abc\r\n"), std::string::npos);
  auto nz = make_request({}, true, "");
  EXPECT_FALSE(nz.zchunks);
  EXPECT_EQ(wire::format_handshake_request(nz).find("Replace"), std::string::npos);
}

TEST(kite_signing, the_version_we_send_is_recognised_as_kiteline_by_the_relay) {
  // The relay gives kiteline connectors dense frames and rare SKBs (server.cpp); pagekite.py
  // would stall on those. The version sent here and the relay's test must agree.
  EXPECT_TRUE(wire::is_kiteline_version(kiteline_pagekite_version));
}

}  // namespace
}  // namespace kiteline::connector
