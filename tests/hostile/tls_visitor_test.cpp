// Visitors whose TLS the relay ends (row 11) and TLS peers that attack the record layer (rows
// 5 and 10), against relay and connector processes. The raw TLS 1.3 peer
// (tests/support/raw_tls13_peer.hpp) moves records by hand after OpenSSL's handshake.
#include <string>
#include <vector>

#include "hostile/hostile_support.hpp"
#include "support/connector_fixture.hpp"
#include "support/loopback_relay.hpp"
#include "support/raw_tls13_peer.hpp"

namespace kiteline::hostile {
namespace {

using test::raw_tls13_peer;

/// One HTTPS visit through the relay's TLS endpoint: GET /bytes/`n` with Host `host`, the
/// relay terminating TLS (SNI `sni`, or none). True when the reply is 200 and byte-exact.
bool https_visit(std::uint16_t port, const std::string& sni, const std::string& host,
                 std::size_t n, std::string& why) {
  raw_tls13_peer p(raw_tls13_peer::connect_loopback(port), raw_tls13_peer::role::client,
                   {.server_name = sni});
  if (!p.ok()) {
    why = "handshake: " + p.error();
    return false;
  }
  if (!p.send_data(test::as_bytes(test::get_request(host, n)))) {
    why = "send failed";
    return false;
  }
  const auto got = p.read_data(n + 4096);
  const std::string text(test::as_text(got));
  const auto head_end = text.find("\r\n\r\n");
  if (text.rfind("HTTP/1.1 200", 0) != 0 || head_end == std::string::npos) {
    why = "reply: " + text.substr(0, 120);
    return false;
  }
  const auto body = std::span<const std::byte>(got).subspan(head_end + 4);
  if (body.size() != n || test::sha256_hex(body) != test::pattern(7).sha256_of(n)) {
    why = "body of " + std::to_string(body.size()) + " bytes differs";
    return false;
  }
  return true;
}

// Row 11: with 2 workers, HTTPS visitors whose TLS the relay ends (SNI = the relay's own name,
// or none) and whose Host names a kite. Today half of them landed on the worker without the
// kite's tunnel and were refused ("tunnel on another worker"); now the connection, TLS state
// and all, moves to the tunnel's worker.
TEST(HostileVisitors, Row11TlsTerminatedVisitorsReachTheirKiteFromEveryWorker) {
  test::test_cert cert({"relay.test"});
  test::http_origin origin;
  relay_process relay({{"--threads=2", "--tls_endpoint=relay.test:" + cert.pem_file(),
                        "--tls_default=relay.test"}});
  ASSERT_TRUE(relay.ok()) << relay.proc().tail();
  connector_process connector(relay.port(), "healthy.test", origin.port());
  ASSERT_TRUE(connector.ok()) << connector.proc().tail();
  int served = 0;
  for (int i = 0; i < 20; ++i) {
    std::string why;
    if (https_visit(relay.port(), i % 2 == 0 ? "relay.test" : "", "healthy.test", 10000, why)) {
      ++served;
    } else {
      ADD_FAILURE() << "visit " << i << ": " << why;
    }
  }
  report("row 11 TLS-terminated visitors, 2 workers", "served", std::to_string(served) + "/20");
  EXPECT_EQ(served, 20) << relay.proc().tail();
  EXPECT_EQ(relay.proc().count("tunnel on another worker"), 0U);
}

}  // namespace
}  // namespace kiteline::hostile
