// ACLs, rate limits and overload (issue 23 items 3 and 4) on real kiteline processes: what a
// refused visitor or tunnel gets (byte for byte) and the relay's log line for it; the accept ACL
// file re-read and failing closed; --ratelimit_ips's N+1th visitor; an overloaded relay's ping
// reply, and a connector's pool choosing the relay that is not overloaded.
#include "hostile/hostile_support.hpp"
#include "support/connector_fixture.hpp"
#include "support/temp_dir.hpp"
#include "support/test_env.hpp"
#include "support/test_socket.hpp"
#include "support/wait.hpp"

#include <cstdio>
#include <filesystem>
#include <regex>
#include <string>
#include <sys/wait.h>
#include <vector>

#include <gtest/gtest.h>

namespace kiteline::hostile {
namespace {

const std::string kite = "acl.test";

constexpr std::string_view page_headers =
    "Content-Type: text/html; charset=utf-8\r\nPragma: no-cache\r\nExpires: 0\r\n"
    "Cache-Control: no-store\r\nConnection: close\r\n\r\n";

constexpr std::string_view origin_reply =
    "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";

/// Sends `request` on a new connection to 127.0.0.1:port and returns everything read until the
/// relay closes (bounded by the test timeout).
std::string talk(std::uint16_t port, std::string_view request) {
  test::test_socket s;
  if (!s.connect(port) || !s.send_all(request)) {
    return "(connect failed)";
  }
  test::read_status st{};
  const auto bytes = s.read_to_eof(st);
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

std::string get(std::uint16_t port, const std::string& host, const std::string& agent = "") {
  return talk(port, "GET / HTTP/1.1\r\nHost: " + host + "\r\n" +
                        (agent.empty() ? "" : "User-Agent: " + agent + "\r\n") + "\r\n");
}

/// The relay's UUID from its "relay ready ... uuid=HEX" line.
std::string relay_uuid(process& p) {
  static const std::regex re("uuid=([0-9a-f]{40})");
  std::smatch m;
  const std::string out = p.output();
  return std::regex_search(out, m, re) ? m[1].str() : std::string();
}

/// pagekite.py's "Sorry! (fe)" page with `status`, for `proto` and `host`.
std::string sorry_page(std::string_view status, const std::string& uuid, std::string_view proto,
                       const std::string& host, bool overloaded = false) {
  return std::string(status) + "\r\n" + (overloaded ? "X-PageKite-Overloaded: Sorry\r\n" : "") +
         "X-PageKite-UUID: " + uuid + "\r\n" + std::string(page_headers) +
         "<html><body><h1>Sorry! (fe)</h1><p>The " + std::string(proto) +
         " <a href=\"https://pagekite.net/\"><i>PageKite</i></a> for <b>" + host +
         "</b> is unavailable at the moment.</p><p>Please try again later.</p><!--  -->"
         "</body></html>\n";
}

relay_setup relay_with(std::vector<std::string> extra, std::string host = "127.0.0.1",
                       std::uint16_t port = 0) {
  relay_setup s;
  s.extra = std::move(extra);
  s.host = std::move(host);
  s.port = port;
  return s;
}

}  // namespace

// --client_acl: a visitor whose address a rule denies gets pagekite.py's 403 page (HTTP and
// CONNECT) or the TLS alert, and the relay logs why; the tunnel is not affected.
TEST(Access, ClientAclDenyGives403AndALogLine) {
  test::http_origin origin;
  relay_process relay(relay_with({R"(--client_acl=deny:127\.0\.0\.1)"}));
  ASSERT_TRUE(relay.ok()) << relay.proc().tail();
  connector_process conn(relay.port(), kite, origin.port());
  ASSERT_TRUE(conn.ok()) << conn.proc().tail() << relay.proc().tail();
  const std::string uuid = relay_uuid(relay.proc());
  ASSERT_EQ(uuid.size(), 40U) << relay.proc().tail();

  EXPECT_EQ(get(relay.port(), kite), sorry_page("HTTP/1.1 403 Forbidden", uuid, "HTTP", kite));
  EXPECT_TRUE(relay.proc().wait_output({"visitor forbidden rip=127.0.0.1 kite=http:acl.test",
                                        R"(reason="rejected by client ACL: deny:127\.0\.0\.1")"}));
  EXPECT_EQ(talk(relay.port(), "CONNECT acl.test:80 HTTP/1.1\r\nHost: acl.test:80\r\n\r\n"),
            sorry_page("HTTP/1.1 403 Forbidden", uuid, "RAW", kite));
  EXPECT_TRUE(
      relay.proc().wait_output({"visitor forbidden rip=127.0.0.1 kite=connect:acl.test:80"}));
  EXPECT_EQ(origin.heads().size(), 0U) << "a refused visitor reached the origin";
}

TEST(Access, ClientAclAllowLetsTheVisitorThrough) {
  test::http_origin origin;
  relay_process relay(relay_with({"--client_acl=allow:localhost", "--client_acl=deny:any"}));
  ASSERT_TRUE(relay.ok()) << relay.proc().tail();
  connector_process conn(relay.port(), kite, origin.port());
  ASSERT_TRUE(conn.ok()) << conn.proc().tail();
  EXPECT_EQ(get(relay.port(), kite), origin_reply);
  EXPECT_EQ(relay.proc().count("visitor forbidden"), 0U) << relay.proc().tail();
}

// --tunnel_acl: the tunnel request is answered "HTTP/1.0 403 Forbidden" (pagekite.py
// HTTP_ConnectBad(403)) and logged; a kiteline connector never gets its kite up.
TEST(Access, TunnelAclDenyRefusesTheTunnelWithALogLine) {
  test::http_origin origin;
  relay_process relay(relay_with({"--tunnel_acl=allow:::1", "--tunnel_acl=deny:any"}));
  ASSERT_TRUE(relay.ok()) << relay.proc().tail();
  EXPECT_EQ(talk(relay.port(), "CONNECT PageKite:1 HTTP/1.0\r\n\r\n"),
            "HTTP/1.0 403 Forbidden\r\n\r\n");
  EXPECT_TRUE(relay.proc().wait_output(
      {"tunnel refused peer=127.0.0.1", R"(reason="rejected by tunnel ACL: deny:any")"}));
  process conn(
      {"--frontend=127.0.0.1:" + std::to_string(relay.port()),
       "--service_on=http:" + kite + ":127.0.0.1:" + std::to_string(origin.port()) + ":s3cret",
       "--logfile=stdio"});
  EXPECT_TRUE(relay.proc().wait_output({"tunnel refused peer=127.0.0.1"}));
  ASSERT_TRUE(
      test::wait_for([&] { return relay.proc().count("tunnel refused peer=127.0.0.1") >= 2; },
                     "the connector refused"));
  EXPECT_EQ(relay.proc().count("tunnel up"), 0U) << relay.proc().tail();
  EXPECT_EQ(conn.count(" live"), 0U) << conn.tail();
}

// --accept_acl_file: a denied address is closed at once, with no byte, and logged with the
// file's line and reason; the file is re-read when it changes; once it is gone every connection
// is refused (fail closed) until it is back.
TEST(Access, AcceptAclFileDeniesRereadsAndFailsClosed) {
  test::temp_dir dir("acl");
  const std::string file = dir.write("accept.acl", "# test\n127.0.0.1 deny banned by the test\n");
  relay_process relay(relay_with({"--accept_acl_file=" + file}));
  ASSERT_TRUE(relay.ok()) << relay.proc().tail();
  const std::string ping = "HEAD /ping HTTP/1.1\r\nHost: ping.pagekite\r\n\r\n";
  EXPECT_EQ(talk(relay.port(), ping), "");
  EXPECT_TRUE(relay.proc().wait_output(
      {"connection rejected port=", "rip=127.0.0.1", R"(acl_line=2 reason="banned by the test")"}));

  (void)dir.write("accept.acl", "127.0.0.1 allow\n");
  EXPECT_EQ(talk(relay.port(), ping).rfind("HTTP/1.1 503 Unavailable\r\n", 0), 0U);

  std::filesystem::remove(file);
  EXPECT_EQ(talk(relay.port(), ping), "");
  EXPECT_TRUE(relay.proc().wait_output({"accept ACL file unusable, refusing every connection"}));
  EXPECT_TRUE(relay.proc().wait_output({"connection rejected", "(fail closed)"}));

  (void)dir.write("accept.acl", "::1 deny\n");
  EXPECT_EQ(talk(relay.port(), ping).rfind("HTTP/1.1 503 Unavailable\r\n", 0), 0U);
  EXPECT_TRUE(relay.proc().wait_output({"accept ACL file", "is usable again: 1 rule(s)"}));
}

TEST(Access, MissingAcceptAclFileIsAnErrorAtStart) {
  process relay({"--isfrontend", "--host=127.0.0.1", "--ports=0", "--domain=http:*.test:s3cret",
                 "--accept_acl_file=/nonexistent/kiteline.acl", "--logfile=stdio"});
  const auto st = relay.wait_exit(test::test_timeout());
  ASSERT_TRUE(st.has_value());
  EXPECT_TRUE(WIFEXITED(*st) && WEXITSTATUS(*st) != 0);
  EXPECT_GE(relay.count("accept_acl_file: cannot read `/nonexistent/kiteline.acl`"), 1U)
      << relay.tail();
}

// --ratelimit_ips=2/3600: two distinct visitors (address + User-Agent) pass, and again; a third
// gets the 503 page and a log line.
TEST(Access, RateLimitRefusesTheNPlusFirstDistinctVisitor) {
  test::http_origin origin;
  relay_process relay(relay_with({"--ratelimit_ips=2/3600"}));
  ASSERT_TRUE(relay.ok()) << relay.proc().tail();
  connector_process conn(relay.port(), kite, origin.port());
  ASSERT_TRUE(conn.ok()) << conn.proc().tail();
  const std::string uuid = relay_uuid(relay.proc());
  EXPECT_EQ(get(relay.port(), kite, "agent-a"), origin_reply);
  EXPECT_EQ(get(relay.port(), kite, "agent-b"), origin_reply);
  EXPECT_EQ(get(relay.port(), kite, "agent-a"), origin_reply);
  EXPECT_EQ(get(relay.port(), kite, "agent-b"), origin_reply);
  EXPECT_EQ(get(relay.port(), kite, "agent-c"),
            sorry_page("HTTP/1.1 503 Unavailable", uuid, "HTTP", kite));
  EXPECT_TRUE(relay.proc().wait_output(
      {"visitor rate-limited rip=127.0.0.1 kite=acl.test", "ips_per_sec=2/3600s"}));
  EXPECT_EQ(relay.proc().count("visitor rate-limited"), 1U);
  EXPECT_EQ(origin.heads().size(), 4U);
}

// --overload_file holding 1: the relay is overloaded at once (a budget of 1 connection); its
// ping replies and error pages say X-PageKite-Overloaded: Sorry, and it still serves. A
// connector's pool (--frontends=1:@FILE:PORT) with that relay and one that is not overloaded
// chooses the other one and says why.
TEST(Access, OverloadedRelayIsAvoidedByThePool) {
  test::http_origin origin;
  test::temp_dir dir("overload");
  const std::string level = dir.write("level", "1\n");
  relay_process busy(relay_with({"--overload_file=" + level}));
  ASSERT_TRUE(busy.ok()) << busy.proc().tail();
  const std::uint16_t port = busy.port();
  EXPECT_TRUE(busy.proc().wait_output({"overload level is now 1 (from " + level + ")"}));
  const std::string uuid = relay_uuid(busy.proc());
  const std::string pong = talk(port, "HEAD /ping HTTP/1.1\r\nHost: ping.pagekite\r\n\r\n");
  EXPECT_EQ(pong.rfind("HTTP/1.1 503 Unavailable\r\nX-PageKite-Overloaded: Sorry\r\n"
                       "X-PageKite-UUID: " +
                           uuid + "\r\n",
                       0),
            0U)
      << pong;
  EXPECT_EQ(get(port, "nobody.test"),
            sorry_page("HTTP/1.1 503 Unavailable", uuid, "HTTP", "nobody.test", true));

  relay_process calm(relay_with({}, "::1", port));
  ASSERT_TRUE(calm.ok()) << "second relay on [::1]:" << port << "\n" << calm.proc().tail();
  const std::string pool = dir.write("relays", "127.0.0.1\n::1\n");
  process conn(
      {"--frontends=1:@" + pool + ":" + std::to_string(port),
       "--service_on=http:" + kite + ":127.0.0.1:" + std::to_string(origin.port()) + ":s3cret",
       "--logfile=stdio"});
  const std::string p = std::to_string(port);
  ASSERT_TRUE(
      conn.wait_output({"kiteline connector: kite http:" + kite + " live on relay [::1]:" + p}))
      << conn.tail();
  EXPECT_GE(conn.count("relay discovery: 127.0.0.1:" + p + " says it is overloaded"), 1U)
      << conn.tail();
  EXPECT_EQ(conn.count("relay discovery: using relay 127.0.0.1:" + p), 0U) << conn.tail();
  EXPECT_EQ(busy.proc().count("tunnel up"), 0U) << busy.proc().tail();
}

}  // namespace kiteline::hostile
