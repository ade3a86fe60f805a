// Relay integration: TLS tunnels (CONNECT preamble + TLS, direct TLS without SNI), TLS visitors
// passed through by SNI, the TLS alert for unknown SNI, and HTTP CONNECT to raw/https kites.
#include <gtest/gtest.h>

#include "support/fake_connector.hpp"
#include "support/fake_visitor.hpp"
#include "support/loopback_relay.hpp"
#include "wire/ping.hpp"

namespace kiteline::test {
namespace {

relay_options tls_relay() {
  relay_options o;
  o.tls_names = {"fe.test"};
  o.tls_default = "fe.test";
  return o;
}

constexpr std::string_view ok_reply = "HTTP/1.0 200 OK\r\n\r\nvia tls tunnel";

TEST(RelayTls, TunnelViaConnectPreambleAndVerifiedTls) {
  loopback_relay relay(tls_relay());
  ASSERT_TRUE(relay.ok()) << relay.error();
  auto opts = with_kites({{"http", "foo.test"}});
  opts.tls = true;
  opts.tls_connect_name = "fe.test";
  opts.tls_sni = "fe.test";
  opts.ca_file = relay.ca_file();
  opts.handler = behaviour::fixed_reply(std::string(ok_reply));
  fake_connector c(relay.port(), opts);
  auto out = c.connect_flow_b();
  ASSERT_TRUE(out.error.empty()) << out.error << relay.log_dump();
  ASSERT_TRUE(out.tunnel_up);
  auto r = http_exchange(relay.port(), http_get("foo.test"));
  EXPECT_EQ(r.body_text(), "via tls tunnel");
}

TEST(RelayTls, TunnelViaDirectTlsWithoutSniUsesDefault) {
  loopback_relay relay(tls_relay());
  ASSERT_TRUE(relay.ok()) << relay.error();
  auto opts = with_kites({{"http", "foo.test"}});
  opts.tls = true;
  opts.ca_file = relay.ca_file();
  opts.tls_verify_name = "fe.test";  // the --tls_default certificate
  opts.add_kites = false;  // a pure Flow A connector (the relay closes round one)
  opts.handler = behaviour::fixed_reply(std::string(ok_reply));
  fake_connector c(relay.port(), opts);
  auto out = c.connect_flow_a();
  ASSERT_TRUE(out.error.empty()) << out.error << relay.log_dump();
  ASSERT_TRUE(out.tunnel_up);
  EXPECT_EQ(http_exchange(relay.port(), http_get("foo.test")).body_text(), "via tls tunnel");
}

TEST(RelayTls, TlsWithWrongCaIsRejectedByTheConnector) {
  loopback_relay relay(tls_relay());
  ASSERT_TRUE(relay.ok()) << relay.error();
  test_cert other({"fe.test"});
  auto opts = with_kites({{"http", "foo.test"}});
  opts.tls = true;
  opts.tls_sni = "fe.test";
  opts.ca_file = other.cert_file();
  fake_connector c(relay.port(), opts);
  auto out = c.connect_flow_b();
  EXPECT_FALSE(out.connected);
  EXPECT_NE(out.error.find("TLS handshake failed"), std::string::npos) << out.error;
}

TEST(RelayTls, SniVisitorPassesThroughUntouched) {
  loopback_relay relay(tls_relay());
  ASSERT_TRUE(relay.ok()) << relay.error();
  fake_connector c(relay.port(), with_kites({{"https", "tls.test"}}));
  ASSERT_TRUE(c.connect_flow_b().tunnel_up);
  auto hello = make_client_hello("tls.test");
  ASSERT_GT(hello.size(), 100U);
  test_socket v;
  ASSERT_TRUE(v.connect(relay.port()));
  ASSERT_TRUE(v.send_all(hello));
  ASSERT_TRUE(c.wait_streams(1));
  auto s = c.stream_at(0);
  ASSERT_TRUE(s->wait_received(hello.size()));
  EXPECT_EQ(s->received(), hello);
  EXPECT_EQ(s->proto, "https");
  EXPECT_EQ(s->host, "tls.test");
  // And back: opaque bytes from the connector reach the visitor.
  ASSERT_TRUE(s->send("\x16\x03\x03server-bytes"));
  EXPECT_EQ(as_text(v.read_exact(15)), "\x16\x03\x03server-bytes");
}

TEST(RelayTls, UnknownSniGetsTlsAlert) {
  loopback_relay relay(tls_relay());
  ASSERT_TRUE(relay.ok()) << relay.error();
  test_socket v;
  ASSERT_TRUE(v.connect(relay.port()));
  ASSERT_TRUE(v.send_all(make_client_hello("nobody.test")));
  read_status st{};
  auto got = v.read_to_eof(st);
  EXPECT_EQ(st, read_status::eof);
  const std::vector<std::byte> alert{std::byte{0x15}, std::byte{0x03}, std::byte{0x03},
                                     std::byte{0x00}, std::byte{0x02}, std::byte{0x02},
                                     std::byte{0x31}};
  EXPECT_EQ(got, alert);
  auto codec = wire::tls_alert_unavailable();
  EXPECT_TRUE(std::equal(codec.begin(), codec.end(), alert.begin()));
  EXPECT_TRUE(relay.wait_for_log({"visitor refused", "sni=nobody.test"}));
}

TEST(RelayTls, HttpConnectToRawAndHttpsKites) {
  loopback_relay relay(tls_relay());
  ASSERT_TRUE(relay.ok()) << relay.error();
  auto opts = with_kites({{"raw-22", "ssh.test"}, {"https", "tls.test"}});
  opts.handler = behaviour::echo();
  fake_connector c(relay.port(), opts);
  ASSERT_TRUE(c.connect_flow_b().tunnel_up);
  const std::string established(wire::connect_established_reply());
  {
    test_socket v;
    ASSERT_TRUE(v.connect(relay.port()));
    ASSERT_TRUE(v.send_all("CONNECT ssh.test:22 HTTP/1.1\r\nHost: ssh.test:22\r\n\r\n"));
    EXPECT_EQ(v.read_head(), established);
    ASSERT_TRUE(v.send_all("SSH-2.0-test\r\n"));
    EXPECT_EQ(as_text(v.read_exact(14)), "SSH-2.0-test\r\n");
  }
  {
    test_socket v;
    ASSERT_TRUE(v.connect(relay.port()));
    ASSERT_TRUE(v.send_all("CONNECT tls.test:443 HTTP/1.1\r\n\r\n"));
    EXPECT_EQ(v.read_head(), established);
    auto hello = make_client_hello("tls.test");
    ASSERT_TRUE(v.send_all(hello));
    EXPECT_EQ(v.read_exact(hello.size()), hello);  // echoed by the fake connector
  }
  ASSERT_TRUE(c.wait_streams(2));
  EXPECT_EQ(c.stream_at(0)->proto, "raw");
  EXPECT_EQ(c.stream_at(0)->port, 22U);
  EXPECT_EQ(c.stream_at(1)->proto, "https");
  EXPECT_EQ(c.stream_at(1)->host, "tls.test");
  // No tunnel for the target: HTTP/1.0 503.
  auto r = http_exchange(relay.port(), "CONNECT nobody.test:22 HTTP/1.1\r\n\r\n");
  EXPECT_EQ(r.head, std::string(wire::connect_unavailable()));
}

}  // namespace
}  // namespace kiteline::test
