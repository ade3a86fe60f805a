// console::server on loopback: routes, Basic auth, methods, and a port that is taken.
#include "console/server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include "core/text.hpp"

namespace kiteline::console {
namespace {

/// Sends `request` to 127.0.0.1:port and reads until the server closes.
std::string ask(std::uint16_t port, const std::string& request) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return "connect failed";
  }
  (void)::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) {
      break;
    }
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

std::shared_ptr<spdlog::logger> quiet() {
  return std::make_shared<spdlog::logger>("t", std::make_shared<spdlog::sinks::null_sink_mt>());
}

pages fake_pages() {
  pages p;
  p.metrics = [] { return std::string("m_total 1\n"); };
  p.status_json = [] { return std::string("{}"); };
  p.status_html = [] { return std::string("<p>hi</p>"); };
  return p;
}

TEST(console_server, basic_auth_then_routes) {
  config::console_config cfg;
  cfg.enabled = true;
  cfg.password = config::secret("pw");
  auto s = server::start(cfg, fake_pages(), quiet());
  ASSERT_TRUE(s) << s.error().message();
  const std::uint16_t port = (*s)->port();
  EXPECT_NE(port, 0);
  EXPECT_EQ((*s)->url(), "http://127.0.0.1:" + std::to_string(port) + "/");
  const std::string denied = ask(port, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(denied.rfind("HTTP/1.1 401 Unauthorized\r\n", 0), 0u) << denied;
  EXPECT_NE(denied.find("WWW-Authenticate: Basic realm=\"kiteline console\""), std::string::npos);
  EXPECT_EQ(denied.find("m_total"), std::string::npos);
  const std::string wrong = ask(
      port, "GET /metrics HTTP/1.1\r\nAuthorization: Basic " + base64_encode("a:nope") + "\r\n\r\n");
  EXPECT_EQ(wrong.rfind("HTTP/1.1 401", 0), 0u);
  const std::string auth = "Authorization: Basic " + base64_encode("anyone:pw") + "\r\n";
  const std::string ok = ask(port, "GET /metrics HTTP/1.1\r\n" + auth + "\r\n");
  EXPECT_EQ(ok.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << ok;
  EXPECT_NE(ok.find("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"),
            std::string::npos);
  EXPECT_EQ(ok.substr(ok.size() - 10), "m_total 1\n");
  const std::string page = ask(port, "GET / HTTP/1.0\r\n" + auth + "\r\n");
  EXPECT_NE(page.find("Content-Type: text/html; charset=utf-8\r\n"), std::string::npos);
  EXPECT_NE(page.find("Content-Security-Policy: default-src 'none'"), std::string::npos);
  EXPECT_EQ(page.substr(page.size() - 9), "<p>hi</p>");
  const std::string json = ask(port, "GET /status.json HTTP/1.1\r\n" + auth + "\r\n");
  EXPECT_NE(json.find("Content-Type: application/json\r\n"), std::string::npos);
  const std::string head = ask(port, "HEAD /metrics HTTP/1.1\r\n" + auth + "\r\n");
  EXPECT_NE(head.find("Content-Length: 10\r\n"), std::string::npos);
  EXPECT_EQ(head.find("m_total"), std::string::npos);
  EXPECT_EQ(ask(port, "GET /nope HTTP/1.1\r\n" + auth + "\r\n").rfind("HTTP/1.1 404", 0),
            0u);
  EXPECT_EQ(ask(port, "POST / HTTP/1.1\r\n" + auth + "\r\n").rfind("HTTP/1.1 405", 0), 0u);
  EXPECT_EQ(ask(port, "GARBAGE\r\n\r\n").rfind("HTTP/1.1 400", 0), 0u);
}

TEST(console_server, a_port_in_use_is_an_error_naming_it) {
  config::console_config cfg;
  cfg.enabled = true;
  auto first = server::start(cfg, fake_pages(), quiet());
  ASSERT_TRUE(first);
  cfg.port = (*first)->port();
  auto second = server::start(cfg, fake_pages(), quiet());
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().message(),
            "console (--httpd): cannot listen on 127.0.0.1:" + std::to_string(cfg.port) +
                ": Address already in use (port " + std::to_string(cfg.port) +
                " is taken by another process)");
}

}  // namespace
}  // namespace kiteline::console
