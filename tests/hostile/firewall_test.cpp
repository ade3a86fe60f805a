// Hostile visitors against a connector process (rows 6 and 7): requests pagekite.py's connector
// refuses by default, and a spoofed X-Forwarded-For pipelined behind a malformed head.
#include <string>
#include <vector>

#include "hostile/hostile_support.hpp"
#include "support/connector_fixture.hpp"
#include "support/test_socket.hpp"

namespace kiteline::hostile {
namespace {

const std::vector<std::string> row6 = {"/server-status", "/wp-config.php", "/x/../../etc/passwd",
                                       "/wp-admin/", "/phpmyadmin/"};

std::string get(const std::string& target) {
  return "GET " + target + " HTTP/1.1\r\nHost: fw.test\r\nConnection: close\r\n\r\n";
}

int status_of(std::uint16_t port, const std::string& target) {
  return test::visit(port, get(target)).status;
}

// Row 6: each request gets pagekite.py's 500 page and never reaches the origin; with
// --insecure, each gets the origin's 200.
TEST(HostileVisitors, Row6FirewalledRequestsNeverReachTheOrigin) {
  test::http_origin origin;
  relay_process relay;
  ASSERT_TRUE(relay.ok()) << relay.proc().tail();
  std::string statuses;
  {
    connector_process connector(relay.port(), "fw.test", origin.port());
    ASSERT_TRUE(connector.ok()) << connector.proc().tail();
    for (const auto& t : row6) {
      const int st = status_of(relay.port(), t);
      statuses += t + " " + std::to_string(st) + "; ";
      EXPECT_EQ(st, 500) << t;
    }
    EXPECT_EQ(connector.proc().count("(request firewall rule"), row6.size());
  }
  for (const auto& h : origin.heads()) {
    ADD_FAILURE() << "the origin saw: " << h.substr(0, h.find('\r'));
  }
  report("row 6 firewall", "answers", statuses);
  connector_process insecure(relay.port(), "fw.test", origin.port(), {"--insecure"});
  ASSERT_TRUE(insecure.ok()) << insecure.proc().tail();
  for (const auto& t : row6) {
    EXPECT_EQ(status_of(relay.port(), t), 200) << t << " with --insecure";
  }
}

// Row 7: a valid request, a malformed head, then X-Forwarded-For: 6.6.6.6, pipelined. The
// origin must never receive 6.6.6.6 as a live header: the stream ends with 400 at the malformed
// head.
TEST(HostileVisitors, Row7SpoofedForwardedForBehindAMalformedHeadNeverReachesTheOrigin) {
  test::recording_origin origin;
  relay_process relay;
  ASSERT_TRUE(relay.ok()) << relay.proc().tail();
  connector_process connector(relay.port(), "fw.test", origin.port());
  ASSERT_TRUE(connector.ok()) << connector.proc().tail();
  test::test_socket s;
  ASSERT_TRUE(s.connect(relay.port()));
  ASSERT_TRUE(s.send_all("GET /1 HTTP/1.1\r\nHost: fw.test\r\n\r\n"
                         "GET /2 HTTP/1.1\r\nHost: fw.test\r\nnot a header line\r\n\r\n"
                         "GET /3 HTTP/1.1\r\nHost: fw.test\r\nX-Forwarded-For: 6.6.6.6\r\n\r\n"));
  test::read_status st{};
  const std::string got(test::as_text(s.read_to_eof(st)));
  EXPECT_NE(got.find("HTTP/1.1 400 Bad Request\r\n"), std::string::npos) << got;
  ASSERT_TRUE(test::wait_for([&] { return origin.active() == 0; }, "origin connections ended"));
  std::string seen;
  for (const auto& bytes : origin.received()) {
    seen += bytes;
  }
  EXPECT_EQ(seen.find("\r\nX-Forwarded-For: 6.6.6.6"), std::string::npos) << seen;
  EXPECT_EQ(seen.find("GET /3"), std::string::npos) << seen;
  report("row 7 spoofed X-Forwarded-For", "visitor got / origin saw 6.6.6.6",
         got.substr(0, got.find('\r')) + " / " +
             (seen.find("6.6.6.6") == std::string::npos ? "never" : "yes"));
}

}  // namespace
}  // namespace kiteline::hostile
