// A relay that also serves its own sites (pagekite.py's recommended relay layout: --isfrontend
// plus --service_on / --backend), and the relay's --errorurl, on the real kiteline binary:
// a visitor reaches the relay's local origin byte-exact with no connector process, an outside
// connector's kite works alongside, an outside connector cannot take a local kite (Duplicate),
// an https local kite is routed by SNI, and unknown kites get the --errorurl frameset.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>

#include <string>
#include <vector>

#include "core/text.hpp"
#include "hostile/hostile_support.hpp"
#include "support/connector_fixture.hpp"
#include "support/test_env.hpp"
#include "support/tls_client.hpp"

namespace kiteline::hostile {
namespace {

constexpr std::size_t mib = 1024 * 1024;

std::string local_backend(const std::string& proto, const std::string& kite, std::uint16_t port) {
  return "--backend=" + proto + ":" + kite + ":127.0.0.1:" + std::to_string(port) + ":secret";
}

/// GET /bytes/N of `host` through the relay: 200 and byte-exact (SHA-256 of the pattern).
testing::AssertionResult get_exact(std::uint16_t port, const std::string& host, std::size_t n) {
  const auto r = test::visit(port, test::get_request(host, n));
  if (r.status != 200) {
    return testing::AssertionFailure() << host << ": status " << r.status << "\n" << r.head;
  }
  if (r.body.size() != n || test::sha256_hex(r.body) != test::pattern(7).sha256_of(n)) {
    return testing::AssertionFailure() << host << ": body of " << r.body.size() << " bytes differs";
  }
  return testing::AssertionSuccess();
}

TEST(LocalBackend, RelayServesItsOwnKiteWithNoConnectorProcess) {
  test::http_origin origin;
  relay_process relay({{local_backend("http", "local.test", origin.port())}});
  ASSERT_TRUE(relay.ok()) << relay.proc().tail();
  ASSERT_TRUE(relay.proc().wait_output({"kite up", "peer=local", "kite=http:local.test"}))
      << relay.proc().tail();
  EXPECT_TRUE(get_exact(relay.port(), "local.test", mib));
  // The connector's side of the stream ran as for any connector: forwarding headers added.
  const auto heads = origin.heads();
  ASSERT_EQ(heads.size(), 1u);
  EXPECT_NE(heads[0].find("\r\nX-Forwarded-For: 127.0.0.1\r\n"), std::string::npos) << heads[0];
  EXPECT_NE(heads[0].find("\r\nX-PageKite-Port: " + std::to_string(relay.port()) + "\r\n"),
            std::string::npos)
      << heads[0];
  // No signature, no challenge: the log says how the kite was accepted.
  EXPECT_EQ(relay.proc().count("kite authenticated by the relay itself (local back-end)"), 1u)
      << relay.proc().tail();
}

TEST(LocalBackend, OutsideConnectorServesAlongsideAndCannotTakeTheLocalKite) {
  test::http_origin local_origin;
  test::http_origin remote_origin;
  test::http_origin thief_origin;
  relay_process relay({{local_backend("http", "local.test", local_origin.port())}});
  ASSERT_TRUE(relay.ok()) << relay.proc().tail();
  ASSERT_TRUE(relay.proc().wait_output({"kite up", "peer=local", "kite=http:local.test"}))
      << relay.proc().tail();
  connector_process remote(relay.port(), "remote.test", remote_origin.port());
  ASSERT_TRUE(remote.ok()) << remote.proc().tail();
  EXPECT_TRUE(get_exact(relay.port(), "remote.test", 100000));
  EXPECT_TRUE(get_exact(relay.port(), "local.test", 100000));
  EXPECT_EQ(remote_origin.heads().size(), 1u);
  EXPECT_EQ(local_origin.heads().size(), 1u);

  // A connector with a valid secret for *.test asks for local.test: X-PageKite-Duplicate, as
  // pagekite.py answers while its loop-back tunnel holds the kite.
  process thief({"--frontend=127.0.0.1:" + std::to_string(relay.port()),
                 "--service_on=http:local.test:127.0.0.1:" + std::to_string(thief_origin.port()) +
                     ":s3cret",
                 "--logfile=stdio"});
  ASSERT_TRUE(thief.wait_output({"kite local.test refused by relay", "duplicate"})) << thief.tail();
  ASSERT_TRUE(relay.proc().wait_output({"kite refused", "kite=http:local.test", "reason=duplicate"}))
      << relay.proc().tail();
  EXPECT_TRUE(get_exact(relay.port(), "local.test", 100000));
  EXPECT_EQ(local_origin.heads().size(), 2u);
  EXPECT_EQ(thief_origin.heads().size(), 0u);
}

TEST(LocalBackend, HttpsLocalKiteIsRoutedBySni) {
  test::echo_origin tls_origin(test::echo_origin::mode::tls, {"secure.test"});
  relay_process relay({{local_backend("https", "secure.test", tls_origin.port())}});
  ASSERT_TRUE(relay.ok()) << relay.proc().tail();
  ASSERT_TRUE(relay.proc().wait_output({"kite up", "peer=local", "kite=https:secure.test"}))
      << relay.proc().tail();
  test::tls_client_options o;
  o.sni = "secure.test";
  const auto hs = test::tls_handshake(relay.port(), o);
  EXPECT_TRUE(hs.ok) << hs.error;  // the origin's TLS server answered, through the relay
  // Without a kite for the name the relay refuses the ClientHello with its alert.
  o.sni = "nobody.test";
  EXPECT_FALSE(test::tls_handshake(relay.port(), o).ok);
}

TEST(LocalBackend, DrainEndsTheLocalTunnelWithTheRelay) {
  // SIGTERM drains: the idle loop-back tunnel is closed like any other and not opened again,
  // so the relay exits at once rather than at the end of its grace.
  test::http_origin origin;
  relay_process relay({{local_backend("http", "local.test", origin.port()), "--grace_seconds=60"}});
  ASSERT_TRUE(relay.ok()) << relay.proc().tail();
  ASSERT_TRUE(relay.proc().wait_output({"kite up", "peer=local", "kite=http:local.test"}))
      << relay.proc().tail();
  ASSERT_EQ(::kill(relay.proc().pid(), SIGTERM), 0);
  const auto status = relay.proc().wait_exit(test::test_timeout());
  ASSERT_TRUE(status) << relay.proc().tail();
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << relay.proc().tail();
  EXPECT_EQ(relay.proc().count("kite up tunnel="), 1u) << relay.proc().tail();
}

TEST(LocalBackend, RelayErrorUrlFramesetAndPerDomainOverride) {
  relay_process relay({{"--errorurl=https://errors.example/offline/?",
                        "--errorurl=special.test:http://special.example/down.html?k=v"}});
  ASSERT_TRUE(relay.ok()) << relay.proc().tail();
  auto r = test::visit(relay.port(), test::get_request("nobody.test", 1));
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(as_text(r.body),
            "<html><frameset cols=\"*\"><frame target=\"_top\" "
            "src=\"https://errors.example/offline/?&amp;where=FE&amp;proto=http&amp;"
            "domain=nobody.test&amp;relay=127.0.0.1\" /><noframes><h1>Sorry! (fe)</h1><p>The "
            "HTTP <a href=\"https://pagekite.net/\"><i>PageKite</i></a> for <b>nobody.test</b> "
            "is unavailable at the moment.</p><p>Please try again later.</p><!--  -->"
            "</noframes></frameset></html>\n");
  r = test::visit(relay.port(), test::get_request("www.special.test", 1));
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(as_text(r.body),
            "<html><frameset cols=\"*\"><frame target=\"_top\" "
            "src=\"http://special.example/down.html?k=v&amp;where=FE&amp;proto=http&amp;"
            "domain=www.special.test&amp;relay=127.0.0.1\" /><noframes><h1>Sorry! (fe)</h1>"
            "<p>The HTTP connection for <b>www.special.test</b> is unavailable at the moment.</p>"
            "<p>Please try again later.</p><!--  --></noframes></frameset></html>\n");
  EXPECT_NE(r.head.find("X-PageKite-UUID: "), std::string::npos) << r.head;
}

TEST(LocalBackend, ExampleRcFileIsAccepted) {
  // pagekite.py's own layout for such a relay, as shipped in dist/examples.
  const std::string rc =
      std::string(KITELINE_SOURCE_DIR) + "/dist/examples/relay-with-local-backends.rc";
  process check({"--optfile=" + rc, "--check-config"});
  const auto status = check.wait_exit(test::test_timeout());
  ASSERT_TRUE(status) << check.tail();
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << check.tail();
  EXPECT_EQ(check.count("configuration OK (relay)"), 1u) << check.tail();
}

TEST(LocalBackend, ExampleRcFileServesItsLocalKites) {
  // The same file run for real, on a free port and with the origins moved to this test's.
  test::http_origin origin;
  const std::string rc =
      std::string(KITELINE_SOURCE_DIR) + "/dist/examples/relay-with-local-backends.rc";
  relay_process relay({{"--optfile=" + rc, "--ports=0", "--protos=http,https",
                        local_backend("http", "mine.test", origin.port())}});
  ASSERT_TRUE(relay.ok()) << relay.proc().tail();
  ASSERT_TRUE(relay.proc().wait_output({"kite up", "peer=local", "kite=http:mine.test"}))
      << relay.proc().tail();
  EXPECT_TRUE(get_exact(relay.port(), "mine.test", 4096));
}

}  // namespace
}  // namespace kiteline::hostile
