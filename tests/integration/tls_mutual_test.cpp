// Mutual TLS between the real connector and the in-process relay (--tls_client_ca,
// --tls_client_required, --tls_client_cert), relay verification by name, and versioned
// white-label discovery (fe4_152.DOMAIN through a local resolver table, nothing leaves the host).
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>

#include "config/parse.hpp"
#include "connector/client.hpp"
#include "support/fake_visitor.hpp"
#include "support/loopback_relay.hpp"
#include "support/temp_dir.hpp"
#include "support/tls_client.hpp"

namespace kiteline::test {
namespace {

/// A folder with one file, served by the connector's built-in web server (short form DIR NAME).
struct site_dir {
  temp_dir dir{"mtls"};
  site_dir() { dir.write("hello.txt", "hello over mutual TLS\n"); }
  [[nodiscard]] std::string path() const { return dir.path().string(); }
};

/// connector::client from a command line, started on its own thread, logging to a sink.
struct running_connector {
  std::shared_ptr<capture_sink> sink = std::make_shared<capture_sink>();
  std::unique_ptr<connector::client> client;
  std::string error;

  explicit running_connector(std::vector<std::string> args, connector::client_options opts = {}) {
    args.insert(args.begin(), {"kiteline", "--clean"});
    const auto out = config::parse_command_line(args, config::environment{});
    for (const auto& e : out.errors) {
      error += e.to_string() + "\n";
    }
    if (!out.ok() || !out.connector) {
      return;
    }
    opts.retry.first = milliseconds(200);
    opts.retry.cap = milliseconds(1000);
    opts.rejected_retry = milliseconds(1000);
    client = std::make_unique<connector::client>(*out.connector,
                                                 make_capture_logger("connector", sink), opts);
    if (const auto started = client->start(); !started) {
      error = started.error().message();
      client.reset();
      return;
    }
    client->start_threads();
  }
  ~running_connector() {
    if (client) {
      client->stop();
    }
  }
  running_connector(const running_connector&) = delete;
  running_connector& operator=(const running_connector&) = delete;

  [[nodiscard]] testing::AssertionResult wait_live() {
    return wait_for([&] { return client->live_tunnels() >= 1; }, milliseconds(10000),
                    "connector live");
  }
  [[nodiscard]] testing::AssertionResult wait_log(std::string_view part) {
    return wait_for([&] { return sink->count(part) > 0; }, milliseconds(10000), part);
  }
  [[nodiscard]] std::string dump() {
    std::string s;
    for (const auto& l : sink->lines()) {
      s += l + "\n";
    }
    return s;
  }
};

std::string get_hello(std::uint16_t port, const std::string& host) {
  return http_exchange(port, http_get(host, "/hello.txt")).body_text();
}

/// Relay on fe.test with --tls_client_ca = the client certificate (self-signed: its own CA).
relay_options mtls_relay(const test_cert& client_ca, bool required) {
  relay_options o;
  o.tls_names = {"fe.test"};
  o.tls_default = "fe.test";
  o.extra_args = {"--tls_client_ca=" + client_ca.cert_file()};
  if (required) {
    o.extra_args.emplace_back("--tls_client_required");
  }
  return o;
}

/// A TLS connector (CONNECT fe.test, relay verified) serving `site` as `kite`, authenticated by
/// `auth`: "--tls_client_cert=PEM" or "--kitesecret=SECRET".
std::vector<std::string> connector_args(const loopback_relay& relay, const site_dir& site,
                                        const std::string& kite, const std::string& auth) {
  return {"--frontend=127.0.0.1:" + std::to_string(relay.port()), "--fe_certname=fe.test",
          "--ca_certs=" + relay.ca_file(), auth, site.path(), kite};
}

std::string cert_auth(const test_cert& c) { return "--tls_client_cert=" + c.pem_file(); }
std::string secret_auth() { return "--kitesecret=" + std::string(default_secret); }

TEST(MutualTls, CertificateNamingTheKiteNeedsNoSecret) {
  test_cert client_cert({"cert.example"});
  loopback_relay relay(mtls_relay(client_cert, false));
  ASSERT_TRUE(relay.ok()) << relay.error();
  site_dir site;
  running_connector conn(connector_args(relay, site, "cert.example", cert_auth(client_cert)));
  ASSERT_TRUE(conn.client) << conn.error;
  ASSERT_TRUE(conn.wait_live()) << conn.dump() << relay.log_dump();
  EXPECT_TRUE(relay.wait_for_log({"kite authenticated by client certificate",
                                  "kite=http:cert.example"}))
      << relay.log_dump();
  EXPECT_EQ(get_hello(relay.port(), "cert.example"), "hello over mutual TLS\n");
}

TEST(MutualTls, SecretsStillWorkWithoutACertificate) {
  test_cert client_cert({"cert.example"});
  loopback_relay relay(mtls_relay(client_cert, false));
  ASSERT_TRUE(relay.ok()) << relay.error();
  site_dir site;
  running_connector conn(connector_args(relay, site, "a.test", secret_auth()));
  ASSERT_TRUE(conn.client) << conn.error;
  ASSERT_TRUE(conn.wait_live()) << conn.dump() << relay.log_dump();
  EXPECT_EQ(get_hello(relay.port(), "a.test"), "hello over mutual TLS\n");
  EXPECT_EQ(relay.log().count("authenticated by client certificate"), 0u);
}

TEST(MutualTls, CertificateForAnotherNameDoesNotAuthenticateTheKite) {
  test_cert client_cert({"cert.example"});
  loopback_relay relay(mtls_relay(client_cert, false));
  ASSERT_TRUE(relay.ok()) << relay.error();
  site_dir site;
  // other.example is not in the certificate, and there is no secret.
  running_connector conn(connector_args(relay, site, "other.example", cert_auth(client_cert)));
  ASSERT_TRUE(conn.client) << conn.error;
  EXPECT_TRUE(relay.wait_for_log({"kite refused", "kite=http:other.example"}))
      << relay.log_dump();
  EXPECT_EQ(conn.client->live_tunnels(), 0u);
}

TEST(MutualTls, CertificateFromAnotherCaIsRefusedInTheHandshake) {
  test_cert client_ca({"cert.example"});
  test_cert rogue({"cert.example"});  // same name, different key: not signed by the CA
  loopback_relay relay(mtls_relay(client_ca, false));
  ASSERT_TRUE(relay.ok()) << relay.error();
  tls_client_options o;
  o.sni = "fe.test";
  o.client_pem = rogue.pem_file();
  const auto bad = tls_handshake(relay.port(), o);
  EXPECT_FALSE(bad.ok);
  EXPECT_TRUE(relay.wait_for_log({"TLS handshake failed", "certificate verify failed"}))
      << relay.log_dump();
  o.client_pem = client_ca.pem_file();
  const auto good = tls_handshake(relay.port(), o);
  EXPECT_TRUE(good.ok) << good.error;
  // And the real connector with the rogue certificate never gets a tunnel.
  site_dir site;
  running_connector conn(connector_args(relay, site, "cert.example", cert_auth(rogue)));
  ASSERT_TRUE(conn.client) << conn.error;
  EXPECT_TRUE(wait_for([&] { return conn.client->counters().attempts.load() >= 2; },
                       milliseconds(10000), "two attempts"))
      << conn.dump();
  EXPECT_EQ(conn.client->live_tunnels(), 0u);
  EXPECT_EQ(relay.log().count("kite up"), 0u) << relay.log_dump();
}

TEST(MutualTls, RequiredRefusesASecretWithoutCertificate) {
  test_cert client_cert({"cert.example"});
  loopback_relay relay(mtls_relay(client_cert, true));
  ASSERT_TRUE(relay.ok()) << relay.error();
  site_dir site;
  {
    running_connector conn(connector_args(relay, site, "a.test", secret_auth()));
    ASSERT_TRUE(conn.client) << conn.error;
    EXPECT_TRUE(relay.wait_for_log({"kite refused", "--tls_client_required"}))
        << relay.log_dump();
    EXPECT_EQ(conn.client->live_tunnels(), 0u);
  }
  running_connector conn(connector_args(relay, site, "cert.example", cert_auth(client_cert)));
  ASSERT_TRUE(conn.client) << conn.error;
  ASSERT_TRUE(conn.wait_live()) << conn.dump() << relay.log_dump();
  EXPECT_EQ(get_hello(relay.port(), "cert.example"), "hello over mutual TLS\n");
}

TEST(RelayVerification, NameMismatchIsRefusedAndSaysWhy) {
  // The relay answers for relay.other with a certificate that is only valid for fe.test.
  test_cert fe({"fe.test"});
  relay_options o;
  o.extra_args = {"--tls_endpoint=relay.other:" + fe.pem_file()};
  loopback_relay relay(o);
  ASSERT_TRUE(relay.ok()) << relay.error();
  site_dir site;
  // The CA verifies the chain, but the name the connector asked for is not in it.
  running_connector conn({"--frontend=127.0.0.1:" + std::to_string(relay.port()),
                          "--fe_certname=relay.other", "--ca_certs=" + fe.cert_file(),
                          "--kitesecret=" + std::string(default_secret), site.path(), "a.test"});
  ASSERT_TRUE(conn.client) << conn.error;
  EXPECT_TRUE(conn.wait_log("certificate name mismatch")) << conn.dump();
  EXPECT_EQ(conn.client->live_tunnels(), 0u);
  EXPECT_EQ(relay.log().count("kite up"), 0u);
}

TEST(Whitelabel, VersionedRelayNameIsResolvedLocallyAndItsCertificateVerified) {
  // The white-label relay: certificate for fe.example.test (the first name --whitelabel sets).
  relay_options o;
  o.tls_names = {"fe.example.test"};
  o.tls_default = "fe.example.test";
  loopback_relay relay(o);
  ASSERT_TRUE(relay.ok()) << relay.error();
  site_dir site;
  std::atomic<int> lookups{0};
  std::string asked;  // written on the connector's worker before the first lookup returns
  connector::client_options opts;
  const std::uint16_t port = relay.port();
  opts.resolver = [&, port](const std::string& name, std::uint16_t pool_port) {
    std::vector<net::tcp::endpoint> out;
    if (name == "fe4_152.example.test" && pool_port == 443) {
      out.emplace_back(asio::ip::make_address("127.0.0.1"), port);
    }
    if (lookups.load() == 0) {
      asked = name + ":" + std::to_string(pool_port);
    }
    ++lookups;
    return out;
  };
  // --dyndns= : no update to the dnsup.example.test the preset implies (nothing through DNS).
  running_connector conn({"--whitelabel=example.test", "--dyndns=",
                          "--ca_certs=" + relay.ca_file(),
                          "--kitesecret=" + std::string(default_secret), site.path(),
                          "a.example.test"},
                         opts);
  ASSERT_TRUE(conn.client) << conn.error;
  ASSERT_TRUE(conn.wait_live()) << conn.dump() << relay.log_dump();
  ASSERT_GE(lookups.load(), 1);
  EXPECT_EQ(asked, "fe4_152.example.test:443");
  EXPECT_TRUE(conn.sink->contains({"relay discovery: using relay 127.0.0.1:"})) << conn.dump();
  EXPECT_EQ(get_hello(relay.port(), "a.example.test"), "hello over mutual TLS\n");
}

}  // namespace
}  // namespace kiteline::test
