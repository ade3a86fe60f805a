// TLS protocol policy of the relay, by real handshakes of an OpenSSL client pinned to one
// protocol version: TLS 1.1 refused by default, accepted with --tls_legacy (security level 0),
// and a --tls_protocols list (TLS 1.3 only) enforced.
#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include "support/loopback_relay.hpp"
#include "support/tls_client.hpp"

namespace kiteline::test {
namespace {

relay_options tls_relay(std::vector<std::string> extra = {}) {
  relay_options o;
  o.tls_names = {"fe.test"};
  o.tls_default = "fe.test";
  o.extra_args = std::move(extra);
  return o;
}

/// A client that can only speak `version` (and TLS 1.0/1.1 ciphers at security level 0).
tls_client_options only(int version) {
  tls_client_options o;
  o.min_version = version;
  o.max_version = version;
  o.sni = "fe.test";
  o.ciphers = "DEFAULT@SECLEVEL=0";
  return o;
}

TEST(TlsPolicy, DefaultRefusesTls11AndNegotiatesTheBest) {
  loopback_relay relay(tls_relay());
  ASSERT_TRUE(relay.ok()) << relay.error();
  const auto old = tls_handshake(relay.port(), only(TLS1_1_VERSION));
  EXPECT_FALSE(old.ok);
  EXPECT_NE(old.error.find("alert protocol version"), std::string::npos) << old.error;
  EXPECT_TRUE(relay.wait_for_log({"visitor refused", "TLS handshake failed",
                                  "unsupported protocol"}))
      << relay.log_dump();
  const auto v10 = tls_handshake(relay.port(), only(TLS1_VERSION));
  EXPECT_FALSE(v10.ok);
  const auto v12 = tls_handshake(relay.port(), only(TLS1_2_VERSION));
  EXPECT_TRUE(v12.ok) << v12.error;
  EXPECT_EQ(v12.version, TLS1_2_VERSION);
  tls_client_options best;
  best.sni = "fe.test";
  const auto any = tls_handshake(relay.port(), best);
  EXPECT_TRUE(any.ok) << any.error;
  EXPECT_EQ(any.version, TLS1_3_VERSION);
  EXPECT_TRUE(relay.wait_for_log({"TLS policy: TLSv1.2..TLSv1.3"})) << relay.log_dump();
}

TEST(TlsPolicy, LegacyAcceptsTls11AndTls10AtSecurityLevel0) {
  loopback_relay relay(tls_relay({"--tls_legacy"}));
  ASSERT_TRUE(relay.ok()) << relay.error();
  const auto v11 = tls_handshake(relay.port(), only(TLS1_1_VERSION));
  ASSERT_TRUE(v11.ok) << v11.error << relay.log_dump();
  EXPECT_EQ(v11.version, TLS1_1_VERSION);
  const auto v10 = tls_handshake(relay.port(), only(TLS1_VERSION));
  ASSERT_TRUE(v10.ok) << v10.error;
  EXPECT_EQ(v10.version, TLS1_VERSION);
  tls_client_options best;
  best.sni = "fe.test";
  EXPECT_EQ(tls_handshake(relay.port(), best).version, TLS1_3_VERSION);
  EXPECT_TRUE(relay.wait_for_log({"TLS policy: TLSv1..TLSv1.3"})) << relay.log_dump();
  EXPECT_TRUE(relay.wait_for_log({"TLS policy: TLSv1 enabled: OpenSSL security level lowered "
                                  "to 0"}))
      << relay.log_dump();
}

TEST(TlsPolicy, ProtocolListTls13OnlyIsEnforced) {
  loopback_relay relay(tls_relay({"--tls_protocols=-tlsv1.2"}));
  ASSERT_TRUE(relay.ok()) << relay.error();
  const auto v12 = tls_handshake(relay.port(), only(TLS1_2_VERSION));
  EXPECT_FALSE(v12.ok);
  const auto v13 = tls_handshake(relay.port(), only(TLS1_3_VERSION));
  EXPECT_TRUE(v13.ok) << v13.error;
  EXPECT_EQ(v13.version, TLS1_3_VERSION);
  EXPECT_TRUE(relay.wait_for_log({"TLS policy: TLSv1.3..TLSv1.3"})) << relay.log_dump();
}

TEST(TlsPolicy, Tls12OnlyAndLegacyRangeFromTheList) {
  loopback_relay relay(tls_relay({"--tls_protocols=tlsv1.1 +tlsv1.2"}));
  ASSERT_TRUE(relay.ok()) << relay.error();
  EXPECT_EQ(tls_handshake(relay.port(), only(TLS1_1_VERSION)).version, TLS1_1_VERSION);
  EXPECT_FALSE(tls_handshake(relay.port(), only(TLS1_VERSION)).ok);
  EXPECT_FALSE(tls_handshake(relay.port(), only(TLS1_3_VERSION)).ok);
  tls_client_options best;
  best.sni = "fe.test";
  EXPECT_EQ(tls_handshake(relay.port(), best).version, TLS1_2_VERSION);
}

}  // namespace
}  // namespace kiteline::test
