// Connector integration tests (hardening issue, item 4): pagekite.py's HTTP request firewall
// and the end of pass-through for unparseable requests, through a real in-process relay and
// connector. Rows 6 and 7 of the measurements.

#include "support/connector_fixture.hpp"
#include "support/loopback_relay.hpp"
#include "support/test_env.hpp"
#include "support/test_socket.hpp"

#include <memory>
#include <mutex>
#include <string>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

#include <gtest/gtest.h>

namespace kiteline::test {
namespace {

std::string service_on(const std::string& spec, std::uint16_t origin_port) {
  return "--service_on=" + spec + ":127.0.0.1:" + std::to_string(origin_port) + ":s3cret";
}

/// A connector for the relay on `relay_port` (--nullui --frontend=RELAY, then `args`), live;
/// null, with the reason reported as a test failure, when it does not start or go live.
std::unique_ptr<test_connector> live_connector(std::uint16_t relay_port,
                                               std::vector<std::string> args) {
  args.insert(args.begin(), {"--nullui", "--frontend=127.0.0.1:" + std::to_string(relay_port)});
  auto c = std::make_unique<test_connector>(std::move(args));
  if (!c->ok()) {
    ADD_FAILURE() << c->error;
    return nullptr;
  }
  if (auto live = wait_live(*c); !live) {
    ADD_FAILURE() << live.message() << "\n" << c->log_dump();
    return nullptr;
  }
  return c;
}

std::string get(const std::string& target) {
  return "GET " + target + " HTTP/1.1\r\nHost: foo.test\r\nConnection: close\r\n\r\n";
}

// The five requests of row 6, which pagekite.py's connector refuses by default.
const std::vector<std::string> row6 = {"/server-status", "/wp-config.php", "/x/../../etc/passwd",
                                       "/wp-admin/", "/phpmyadmin/"};

/// True when some recorded origin head has `target` on its request line.
bool origin_saw(http_origin& origin, const std::string& target) {
  for (const auto& h : origin.heads()) {
    if (h.rfind("GET " + target + " ", 0) == 0) {
      return true;
    }
  }
  return false;
}

/// Each row-6 request: pagekite.py's 500 page from the connector, a log line naming the kite,
/// the request and the rule, and not one byte of it at the origin.
void expect_row6_refused(std::uint16_t relay_port, http_origin& origin, test_connector& conn) {
  for (const auto& target : row6) {
    auto r = visit(relay_port, get(target));
    EXPECT_EQ(r.status, 500) << target << "\n" << r.head;
    EXPECT_EQ(r.head.rfind("HTTP/1.1 500 Unavailable\r\nX-PageKite-UUID: ", 0), 0u) << r.head;
    EXPECT_NE(r.head.find("\r\nConnection: close\r\n"), std::string::npos) << r.head;
    const std::string body(as_text(r.body));
    EXPECT_NE(body.find("<h1>Sorry! (be)</h1>"), std::string::npos) << body;
    EXPECT_NE(body.find("for <b>foo.test</b> is unavailable"), std::string::npos) << body;
    EXPECT_FALSE(origin_saw(origin, target)) << target;
    EXPECT_TRUE(
        conn.sink->contains({"kite foo.test refused GET " + target + " (request firewall rule"}))
        << conn.log_dump();
  }
  EXPECT_EQ(conn.sink->count("(request firewall rule"), row6.size());
}

/// Each row-6 request reaches the origin and gets its 200.
void expect_row6_admitted(std::uint16_t relay_port, http_origin& origin) {
  for (const auto& target : row6) {
    auto r = visit(relay_port, get(target));
    EXPECT_EQ(r.status, 200) << target << "\n" << r.head;
    EXPECT_EQ(as_text(r.body), "ok") << target;
    EXPECT_TRUE(origin_saw(origin, target)) << target;
  }
}

/// The off-switches turn off the firewall, not the request checks: a request whose framing
/// cannot be trusted (it passes the relay, which only reads the first head) still gets 400.
void expect_bad_framing_refused(std::uint16_t relay_port, http_origin& origin) {
  const std::string bad =
      "POST /wp-admin/x HTTP/1.1\r\nHost: foo.test\r\nTransfer-Encoding: chunked\r\n"
      "Content-Length: 5\r\nConnection: close\r\n\r\n0\r\n\r\n";
  auto r = visit(relay_port, bad);
  EXPECT_EQ(r.status, 400) << r.head;
  EXPECT_NE(std::string(as_text(r.body)).find("Transfer-Encoding with Content-Length"),
            std::string::npos);
  for (const auto& h : origin.heads()) {
    EXPECT_NE(h.rfind("POST /wp-admin/x ", 0), 0u) << h;
  }
}

TEST(connector_firewall, row6_requests_get_pagekite_500_and_never_reach_the_origin) {
  loopback_relay relay;
  ASSERT_TRUE(relay.ok()) << relay.error();
  http_origin origin;
  auto conn = live_connector(relay.port(), {service_on("http:foo.test", origin.port())});
  ASSERT_TRUE(conn);
  expect_row6_refused(relay.port(), origin, *conn);
  // Ordinary requests and methods the firewall does not check still pass.
  EXPECT_TRUE(get_ok(relay.port(), 1000));
  auto head = visit(relay.port(),
                    "HEAD /wp-admin/ HTTP/1.1\r\nHost: foo.test\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(head.status, 200) << head.head;
  EXPECT_EQ(origin.heads().size(), 2u);
}

TEST(connector_firewall, global_insecure_turns_it_off) {
  loopback_relay relay;
  ASSERT_TRUE(relay.ok()) << relay.error();
  http_origin origin;
  auto conn =
      live_connector(relay.port(), {"--insecure", service_on("http:foo.test", origin.port())});
  ASSERT_TRUE(conn);
  expect_row6_admitted(relay.port(), origin);
  EXPECT_EQ(conn->sink->count("request firewall"), 0u);
  expect_bad_framing_refused(relay.port(), origin);
}

TEST(connector_firewall, per_kite_insecure_turns_it_off_for_that_kite_only) {
  loopback_relay relay;
  ASSERT_TRUE(relay.ok()) << relay.error();
  http_origin origin;
  {
    // The short form, as pagekite.py: PORT NAME +insecure.
    auto conn = live_connector(relay.port(), {"--kitesecret=s3cret", std::to_string(origin.port()),
                                              "foo.test", "+insecure"});
    ASSERT_TRUE(conn);
    expect_row6_admitted(relay.port(), origin);
    conn->client->stop();
    ASSERT_TRUE(relay.wait_for_route("http", "foo.test", false));
  }
  // --service_cfg form; bar.test (same connector, no flag) is still firewalled.
  http_origin other;
  auto conn = live_connector(relay.port(), {service_on("http:foo.test", origin.port()),
                                            service_on("http:bar.test", other.port()),
                                            "--service_cfg=foo.test/80:insecure:True"});
  ASSERT_TRUE(conn);
  auto r = visit(relay.port(), get("/wp-admin/"));
  EXPECT_EQ(r.status, 200) << r.head;
  auto bar =
      visit(relay.port(), "GET /wp-admin/ HTTP/1.1\r\nHost: bar.test\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(bar.status, 500) << bar.head;
  EXPECT_TRUE(other.heads().empty());
}

TEST(connector_firewall, a_stream_that_passed_ip_or_password_is_trusted) {
  loopback_relay relay;
  ASSERT_TRUE(relay.ok()) << relay.error();
  http_origin origin;
  {
    auto conn = live_connector(relay.port(), {"--kitesecret=s3cret", std::to_string(origin.port()),
                                              "foo.test", "+ip/127.0.0.1"});
    ASSERT_TRUE(conn);
    auto r = visit(relay.port(), get("/wp-admin/"));
    EXPECT_EQ(r.status, 200) << r.head;
    expect_bad_framing_refused(relay.port(), origin);
    conn->client->stop();
    ASSERT_TRUE(relay.wait_for_route("http", "foo.test", false));
  }
  auto conn = live_connector(relay.port(), {service_on("http:foo.test", origin.port()),
                                            "--service_cfg=foo.test/80:password/alice:wonder"});
  ASSERT_TRUE(conn);
  // alice:wonder
  auto r = visit(relay.port(),
                 "GET /phpmyadmin/ HTTP/1.1\r\nHost: foo.test\r\n"
                 "Authorization: Basic YWxpY2U6d29uZGVy\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(r.status, 200) << r.head;
  auto none = visit(relay.port(), get("/phpmyadmin/"));
  EXPECT_EQ(none.status, 401) << none.head;
  EXPECT_EQ(origin.heads().size(), 2u);
}

TEST(connector_firewall, rawheaders_kites_are_firewalled_too) {
  loopback_relay relay;
  ASSERT_TRUE(relay.ok()) << relay.error();
  http_origin origin;
  auto conn = live_connector(relay.port(), {service_on("http:foo.test", origin.port()),
                                            "--service_cfg=foo.test/80:rawheaders:True"});
  ASSERT_TRUE(conn);
  auto r = visit(relay.port(), get("/wp-config.php"));
  EXPECT_EQ(r.status, 500) << r.head;
  auto ok = visit(relay.port(), get("/fine"));
  EXPECT_EQ(ok.status, 200) << ok.head;
  const auto heads = origin.heads();
  ASSERT_EQ(heads.size(), 1u);
  EXPECT_EQ(heads[0], get("/fine"));  // nothing added: +rawheaders
}

/// What a visitor gets, to EOF, after a valid first request (answered by recording_origin or
/// cut off by the refusal) and a refused second one: true when it is the optional `200 ok`
/// followed by exactly one refusal page with `status_line`.
testing::AssertionResult ok_then_refusal(const std::string& got, std::string_view status_line) {
  std::string_view rest = got;
  if (rest.starts_with(recording_origin::ok_reply)) {
    rest.remove_prefix(recording_origin::ok_reply.size());
  }
  if (!rest.starts_with(status_line) || !rest.ends_with("</body></html>\n") ||
      rest.find("HTTP/1.1 ", 1) != std::string_view::npos) {
    return testing::AssertionFailure() << "got: " << got;
  }
  return testing::AssertionSuccess();
}

// Row 7: a pipelined request with a malformed header line, then one carrying
// X-Forwarded-For: 6.6.6.6. Before, the origin got both verbatim after the first request (and
// trusted 6.6.6.6); now the stream ends with 400 at the malformed head. (The relay checks the
// FIRST head itself, so the malformed one comes second.)
TEST(connector_firewall,
     row7_spoofed_forwarded_for_after_a_malformed_line_never_reaches_the_origin) {
  loopback_relay relay;
  ASSERT_TRUE(relay.ok()) << relay.error();
  recording_origin origin;
  auto conn = live_connector(relay.port(), {service_on("http:foo.test", origin.port())});
  ASSERT_TRUE(conn);
  {
    test_socket s;
    ASSERT_TRUE(s.connect(relay.port()));
    ASSERT_TRUE(
        s.send_all("GET /1 HTTP/1.1\r\nHost: foo.test\r\n\r\n"
                   "GET /2 HTTP/1.1\r\nHost: foo.test\r\nthis is not a header\r\n\r\n"
                   "GET /3 HTTP/1.1\r\nHost: foo.test\r\nX-Forwarded-For: 6.6.6.6\r\n\r\n"));
    read_status st{};
    const std::string got(as_text(s.read_to_eof(st)));
    EXPECT_TRUE(ok_then_refusal(got, "HTTP/1.1 400 Bad Request\r\n"));
    EXPECT_NE(got.find("was not forwarded: header line without a colon."), std::string::npos);
    EXPECT_TRUE(
        conn->sink->contains({"kite foo.test refused `GET /2`: header line without a colon"}))
        << conn->log_dump();
  }
  // The origin connection has ended. The first request was emitted rewritten, but the refusal
  // drops the stream at once, so the origin got it, part of it, or nothing (when the refusal
  // came before the dial completed); never anything after it.
  ASSERT_TRUE(wait_for([&] { return origin.active() == 0; }, "origin connections ended"));
  const std::string first =
      "GET /1 HTTP/1.1\r\nX-Forwarded-For: 127.0.0.1\r\n"
      "X-Forwarded-Proto: http\r\nX-PageKite-Port: " +
      std::to_string(relay.port()) + "\r\nHost: foo.test\r\n\r\n";
  const auto got = origin.received();
  EXPECT_LE(got.size(), 1u);
  for (const auto& bytes : got) {
    EXPECT_TRUE(first.starts_with(bytes)) << bytes;
  }
}

TEST(connector_firewall, every_keep_alive_request_is_rewritten_and_checked) {
  loopback_relay relay;
  ASSERT_TRUE(relay.ok()) << relay.error();
  recording_origin origin;
  auto conn = live_connector(relay.port(), {service_on("http:foo.test", origin.port())});
  ASSERT_TRUE(conn);
  test_socket s;
  ASSERT_TRUE(s.connect(relay.port()));
  for (int i = 1; i <= 3; ++i) {
    ASSERT_TRUE(s.send_all("GET /" + std::to_string(i) +
                           " HTTP/1.1\r\nHost: foo.test\r\nX-Forwarded-For: 6.6.6." +
                           std::to_string(i) + "\r\n\r\n"));
    EXPECT_EQ(as_text(s.read_exact(recording_origin::ok_reply.size())), recording_origin::ok_reply) << i;
  }
  // The fourth request on the same connection is refused by the firewall; the stream ends.
  ASSERT_TRUE(s.send_all(get("/wp-admin/")));
  EXPECT_EQ(s.read_head().rfind("HTTP/1.1 500 Unavailable\r\n", 0), 0u);
  EXPECT_TRUE(s.wait_closed());
  s.close();
  ASSERT_TRUE(wait_for([&] { return origin.active() == 0; }, "origin connection ended"));
  const auto got = origin.received();
  ASSERT_EQ(got.size(), 1u);
  std::string want;
  for (int i = 1; i <= 3; ++i) {
    want += "GET /" + std::to_string(i) +
            " HTTP/1.1\r\nX-Forwarded-For: 127.0.0.1\r\nX-Forwarded-Proto: http\r\n"
            "X-PageKite-Port: " +
            std::to_string(relay.port()) + "\r\nHost: foo.test\r\nX-Old-X-Forwarded-For: 6.6.6." +
            std::to_string(i) + "\r\n\r\n";
  }
  EXPECT_EQ(got[0], want);
}

TEST(connector_firewall, oversized_second_head_gets_431) {
  loopback_relay relay;
  ASSERT_TRUE(relay.ok()) << relay.error();
  recording_origin origin;
  auto conn = live_connector(relay.port(), {service_on("http:foo.test", origin.port())});
  ASSERT_TRUE(conn);
  test_socket s;
  ASSERT_TRUE(s.connect(relay.port()));
  // The relay caps the first head at 16 KiB itself; the connector caps every head at 64 KiB.
  ASSERT_TRUE(
      s.send_all("GET /1 HTTP/1.1\r\nHost: foo.test\r\n\r\n"
                 "GET /2 HTTP/1.1\r\nHost: foo.test\r\nX-Big: " +
                 std::string(65 * 1024, 'a') + "\r\n\r\n"));
  read_status st{};
  const std::string got(as_text(s.read_to_eof(st)));
  EXPECT_TRUE(ok_then_refusal(got, "HTTP/1.1 431 Request Header Fields Too Large\r\n"));
  s.close();
  ASSERT_TRUE(wait_for([&] { return origin.active() == 0; }, "origin connections ended"));
  for (const auto& bytes : origin.received()) {
    EXPECT_EQ(bytes.find("GET /2"), std::string::npos);
  }
}

}  // namespace
}  // namespace kiteline::test
