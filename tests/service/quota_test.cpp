// An authority's limits end to end (issue 23 item 2) on real processes: a kiteline relay with
// --authdomain (PowerDNS, tests/support/pagekite_authority.py) and a kiteline connector.
// The CNAME's IPsPerSec becomes the tunnel's visitor rate limit (spec 8.2, 8.5): distinct
// visitors (address + User-Agent + Accept-Language) beyond it get pagekite.py's 503 page and
// the relay logs them; with --ratelimit_ips too, the stricter limit applies. The connector
// shows the quota it was given (log, console /status.json and page) and the new figure after
// the relay's re-check (a Quota: chunk, spec 5.9 and 8.4).
#include "hostile/hostile_support.hpp"
#include "service/pdns_support.hpp"
#include "support/connector_fixture.hpp"
#include "support/fake_visitor.hpp"
#include "support/wait.hpp"

#include <cstdlib>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace kiteline::hostile {
namespace {

class AuthQuota : public pdns_test {};

/// GET / for `host` from a visitor with these User-Agent and Accept-Language values ("": none).
test::http_response visit(std::uint16_t port, const std::string& host, const std::string& agent,
                          const std::string& language = "") {
  std::string extra = "User-Agent: " + agent + "\r\n";
  if (!language.empty()) {
    extra += "Accept-Language: " + language + "\r\n";
  }
  return test::http_exchange(port, test::http_get(host, "/", extra));
}

std::string body_of(const test::http_response& r) {
  return {reinterpret_cast<const char*>(r.body.data()), r.body.size()};
}

/// The rate-limited visitor's answer: pagekite.py's "Sorry! (fe)" 503 page for the kite.
testing::AssertionResult sorry_503(const test::http_response& r, const std::string& host) {
  const std::string body = body_of(r);
  if (r.status == 503 && r.head.starts_with("HTTP/1.1 503 Unavailable\r\n") &&
      body.find("<h1>Sorry! (fe)</h1>") != std::string::npos &&
      body.find("PageKite</i></a> for <b>" + host + "</b> is unavailable") != std::string::npos) {
    return testing::AssertionSuccess();
  }
  return testing::AssertionFailure() << "not the 503 page for " << host << ":\n" << r.head << body;
}

/// ips.kites.example's authority answer: CNAME ok-2-e10.x.0.0.q400, so 2 distinct visitors per
/// 3600 s (hex 2, e10) and 1024 kB.
const std::string ips_kite = "ips.kites.example";

// The authority alone: its IPsPerSec switches the visitor limit on for the tunnel. Visitors 1
// and 2 differ only by Accept-Language; a visitor seen already passes again; visitor 3 (another
// User-Agent) is refused.
TEST_F(AuthQuota, AuthorityIpsPerSecLimitsDistinctVisitors) {
  test::http_origin origin;
  relay_process relay(relay_setup{auth_options(dns_.address())});
  ASSERT_TRUE(relay.ok()) << relay.proc().tail();
  connector_process conn(relay.port(), ips_kite, origin.port());
  ASSERT_TRUE(conn.ok()) << conn.proc().tail();
  EXPECT_TRUE(relay.proc().wait_output({"limits quota_kb=1024", "ips_per_sec=2/3600"}));
  EXPECT_EQ(visit(relay.port(), ips_kite, "agent-a").status, 200);
  EXPECT_EQ(visit(relay.port(), ips_kite, "agent-a", "de").status, 200);
  EXPECT_EQ(visit(relay.port(), ips_kite, "agent-a").status, 200);
  EXPECT_EQ(visit(relay.port(), ips_kite, "agent-a", "de").status, 200);
  EXPECT_TRUE(sorry_503(visit(relay.port(), ips_kite, "agent-b"), ips_kite));
  EXPECT_TRUE(relay.proc().wait_output(
      {"visitor rate-limited rip=127.0.0.1 kite=ips.kites.example", "ips_per_sec=2/3600s"}));
  EXPECT_EQ(relay.proc().count("visitor rate-limited"), 1U);
  EXPECT_EQ(origin.heads().size(), 4U);
}

// With --ratelimit_ips as well, the stricter of the two applies: a stricter rule (1/3600)
// refuses the second visitor; a looser one (10/3600) does not lift the authority's 2/3600.
TEST_F(AuthQuota, StricterOfRatelimitIpsAndTheAuthorityApplies) {
  struct limit_case {
    std::string rule;
    std::size_t admitted;
    std::string logged;
  };
  for (const auto& c :
       std::vector<limit_case>{{"--ratelimit_ips=1/3600", 1, "ips_per_sec=1/3600s"},
                               {"--ratelimit_ips=10/3600", 2, "ips_per_sec=2/3600s"}}) {
    SCOPED_TRACE(c.rule);
    test::http_origin origin;
    relay_process relay(relay_setup{auth_options(dns_.address(), {c.rule})});
    ASSERT_TRUE(relay.ok()) << relay.proc().tail();
    connector_process conn(relay.port(), ips_kite, origin.port());
    ASSERT_TRUE(conn.ok()) << conn.proc().tail();
    for (std::size_t i = 0; i < c.admitted; ++i) {
      EXPECT_EQ(visit(relay.port(), ips_kite, "agent-" + std::to_string(i)).status, 200) << i;
    }
    EXPECT_TRUE(sorry_503(visit(relay.port(), ips_kite, "agent-last"), ips_kite));
    EXPECT_TRUE(relay.proc().wait_output(
        {"visitor rate-limited rip=127.0.0.1 kite=ips.kites.example", c.logged}));
    EXPECT_EQ(origin.heads().size(), c.admitted);
  }
}

/// GET `path` from the console on 127.0.0.1:`port`; the body.
std::string console_body(std::uint16_t port, const std::string& path) {
  return body_of(test::http_exchange(port, test::http_get("127.0.0.1", path)));
}

// The connector shows what the relay's authority granted, and the re-checked quota: the
// authority answers quota.kites.example from a file the test rewrites.
TEST_F(AuthQuota, ConnectorShowsTheQuotaAndItsRecheck) {
  dns_.set_answer("quota", "cname ok-2-e10.x.1e.5.q800");  // 2048 kB, 30 days, 5 conns
  test::http_origin origin;
  relay_process relay(
      relay_setup{auth_options(dns_.address(), {"--authdomain_recheck_seconds=1"})});
  ASSERT_TRUE(relay.ok()) << relay.proc().tail();
  connector_process conn(relay.port(), "quota.kites.example", origin.port(),
                         {"--httpd=127.0.0.1:0"});
  ASSERT_TRUE(conn.ok()) << conn.proc().tail();
  const auto url = conn.proc().line_after("kiteline connector console=http://127.0.0.1:");
  ASSERT_TRUE(url) << conn.proc().tail();
  const auto console = static_cast<std::uint16_t>(std::atoi(url->c_str()));
  EXPECT_TRUE(conn.proc().wait_output({"quota 2048 kB, streams 5, days 30, visitor IPs/s 2/3600"}));

  const std::string granted =
      "\"quota_kb\":2048,\"quota_conns\":5,\"quota_days\":30,\"ips_per_sec\":\"2/3600\"";
  std::string json = console_body(console, "/status.json");
  EXPECT_NE(json.find(granted), std::string::npos) << json;
  EXPECT_NE(console_body(console, "/").find("2048 kB, 5 conns, 30 days, 2 IPs/3600 s"),
            std::string::npos);

  // The relay re-checks every second; the new figure arrives in a Quota: chunk (QConns, QDays
  // and IPsPerSec are never sent in chunks: they keep the handshake's values).
  dns_.set_answer("quota", "cname ok-2-e10.x.1e.5.q400");  // 1024 kB
  const std::string rechecked =
      "\"quota_kb\":1024,\"quota_conns\":5,\"quota_days\":30,\"ips_per_sec\":\"2/3600\"";
  EXPECT_TRUE(test::wait_for(
      [&] {
        json = console_body(console, "/status.json");
        return json.find(rechecked) != std::string::npos;
      },
      "the re-checked quota in /status.json"))
      << json;
  EXPECT_TRUE(relay.proc().wait_output({"quota re-checked: 1024 kB"}));
  EXPECT_TRUE(conn.proc().wait_output({"relay 127.0.0.1:", "quota now 1024 kB"}));
  EXPECT_NE(console_body(console, "/").find("1024 kB, 5 conns, 30 days, 2 IPs/3600 s"),
            std::string::npos);
}

}  // namespace
}  // namespace kiteline::hostile
