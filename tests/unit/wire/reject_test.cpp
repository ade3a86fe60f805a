// The canned refusals (spec §6.7), byte for byte as the relay sends them.
#include "wire/reject.hpp"

#include <algorithm>
#include <array>
#include <string>

#include <gtest/gtest.h>

namespace kiteline::wire {
namespace {

TEST(Refusals, CannedBytes) {
  const auto alert = tls_alert_unavailable();
  const std::array<std::byte, 7> expected = {std::byte{0x15}, std::byte{0x03}, std::byte{0x03},
                                             std::byte{0x00}, std::byte{0x02}, std::byte{0x02},
                                             std::byte{0x31}};
  EXPECT_TRUE(std::equal(alert.begin(), alert.end(), expected.begin()));
  EXPECT_EQ(connect_unavailable(), "HTTP/1.0 503 Unavailable\r\n\r\n");
}

TEST(Refusals, UnavailablePage) {
  const std::string page = format_unavailable_page("u", "https", "a.test", "be");
  EXPECT_EQ(page,
            "HTTP/1.1 503 Unavailable\r\nX-PageKite-UUID: u\r\n"
            "Content-Type: text/html; charset=utf-8\r\nPragma: no-cache\r\nExpires: 0\r\n"
            "Cache-Control: no-store\r\nConnection: close\r\n\r\n"
            "<html><body><h1>Sorry! (be)</h1><p>The HTTPS <a href=\"https://pagekite.net/\">"
            "<i>PageKite</i></a> for <b>a.test</b> is unavailable at the moment.</p>"
            "<p>Please try again later.</p><!--  --></body></html>\n");
  EXPECT_NE(format_unavailable_page("u", "http", "a", "fe", false).find("The HTTP connection for"),
            std::string::npos);
}

TEST(Refusals, NoHostPage) {
  // The bytes server.cpp wrote inline before this module existed.
  EXPECT_EQ(format_no_host_page("u1"),
            "HTTP/1.1 400 Bad request\r\nX-PageKite-UUID: u1"
            "\r\nContent-Type: text/html; charset=utf-8\r\nPragma: no-cache\r\nExpires: 0\r\n"
            "Cache-Control: no-store\r\nConnection: close\r\n\r\n"
            "<html><body><h1>400 Bad request</h1><p>Your request has no Host header.</p>"
            "</body></html>\n");
}

TEST(Refusals, RelayUnavailablePage) {
  // The relay's 503 for an unrouted Host (server.cpp: "HTTP", the Host, "fe").
  EXPECT_EQ(format_unavailable_page("u2", "HTTP", "nobody.test", "fe"),
            "HTTP/1.1 503 Unavailable\r\nX-PageKite-UUID: u2\r\n"
            "Content-Type: text/html; charset=utf-8\r\nPragma: no-cache\r\nExpires: 0\r\n"
            "Cache-Control: no-store\r\nConnection: close\r\n\r\n"
            "<html><body><h1>Sorry! (fe)</h1><p>The HTTP <a href=\"https://pagekite.net/\">"
            "<i>PageKite</i></a> for <b>nobody.test</b> is unavailable at the moment.</p>"
            "<p>Please try again later.</p><!--  --></body></html>\n");
}

// --- The connector's pages: the bytes connector/http_rewriter.cpp, origin_dialer.cpp and
// static_site_http.cpp produced before they moved here (captured from that build).

constexpr const char* no_cache_headers =
    "Content-Type: text/html; charset=utf-8\r\nPragma: no-cache\r\nExpires: 0\r\n"
    "Cache-Control: no-store\r\nConnection: close\r\n\r\n";

TEST(Refusals, ConnectorUnauthorizedPage) {
  const std::string body =
      "<html><body><h1>Sorry! (be)</h1><p>The HTTP <a href=\"https://pagekite.net/\">"
      "<i>PageKite</i></a> for <b>a&lt;b&gt;&amp;&#39;&quot;.test</b> requires a user name and "
      "password.</p><p>Please try again.</p><!--  --></body></html>\n";
  const std::string with_uuid = format_unauthorized_page("u1", "a<b>&'\".test");
  EXPECT_EQ(with_uuid, "HTTP/1.1 401 Unauthorized\r\nX-PageKite-UUID: u1\r\n"
                       "WWW-Authenticate: Basic realm=PageKite\r\n" +
                           std::string(no_cache_headers) + body);
  EXPECT_EQ(with_uuid.size(), 429U);
  const std::string without = format_unauthorized_page("", "a<b>&'\".test");
  EXPECT_EQ(without, "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=PageKite\r\n" +
                         std::string(no_cache_headers) + body);
  EXPECT_EQ(without.size(), 408U);
}

TEST(Refusals, ConnectorFirewallPage) {
  const std::string body =
      "<html><body><h1>Sorry! (be)</h1><p>The HTTP <a href=\"https://pagekite.net/\">"
      "<i>PageKite</i></a> for <b>k&lt;i&gt;.test</b> is unavailable at the moment.</p>"
      "<p>Please try again later.</p><!--  --></body></html>\n";
  const std::string with_uuid = format_firewall_page("u2", "k<i>.test");
  EXPECT_EQ(with_uuid, "HTTP/1.1 500 Unavailable\r\nX-PageKite-UUID: u2\r\n" +
                           std::string(no_cache_headers) + body);
  EXPECT_EQ(with_uuid.size(), 373U);
  const std::string without = format_firewall_page("", "k<i>.test");
  EXPECT_EQ(without, "HTTP/1.1 500 Unavailable\r\n" + std::string(no_cache_headers) + body);
  EXPECT_EQ(without.size(), 352U);
}

TEST(Refusals, ConnectorRefusedRequestPages) {
  const std::string bad = format_refused_request_page(
      "u3", "k.test", false, "obs-fold (a header line starting with a space or tab)");
  EXPECT_EQ(bad, "HTTP/1.1 400 Bad Request\r\nX-PageKite-UUID: u3\r\n" +
                     std::string(no_cache_headers) +
                     "<html><body><h1>400 Bad Request</h1><p>This request for <b>k.test</b> was "
                     "not forwarded: obs-fold (a header line starting with a space or tab)."
                     "</p></body></html>\n");
  EXPECT_EQ(bad.size(), 325U);
  const std::string large =
      format_refused_request_page("u3", "k.test", true, "request head over 10 bytes");
  EXPECT_EQ(large, "HTTP/1.1 431 Request Header Fields Too Large\r\nX-PageKite-UUID: u3\r\n" +
                       std::string(no_cache_headers) +
                       "<html><body><h1>431 Request Header Fields Too Large</h1><p>This request "
                       "for <b>k.test</b> was not forwarded: request head over 10 bytes.</p>"
                       "</body></html>\n");
  EXPECT_EQ(large.size(), 338U);
  // The kite name and the reason are escaped; no UUID header without a UUID.
  const std::string escaped = format_refused_request_page("", "<k>", false, "a<b>&c");
  EXPECT_TRUE(escaped.starts_with("HTTP/1.1 400 Bad Request\r\nContent-Type: ")) << escaped;
  EXPECT_NE(escaped.find("<b>&lt;k&gt;</b> was not forwarded: a&lt;b&gt;&amp;c.</p>"),
            std::string::npos)
      << escaped;
}

TEST(Refusals, ConnectorIpForbiddenPage) {
  EXPECT_EQ(ip_forbidden_page(),
            "HTTP/1.1 403 Forbidden\r\nContent-Type: text/html; charset=utf-8\r\n"
            "Connection: close\r\n\r\n<html><body><h1>403 Forbidden</h1><p>Your address may not "
            "visit this site.</p></body></html>\n");
}

TEST(Refusals, ConnectorUnavailablePageAtMaxConns) {
  // origin_dialer's refusal for an HTTP stream (no service, no origin, --max_conns): the
  // relay's page from the connector's side ("be"), with the relay's UUID.
  EXPECT_EQ(format_unavailable_page("u4", "HTTP", "a.test", "be"),
            "HTTP/1.1 503 Unavailable\r\nX-PageKite-UUID: u4\r\n" + std::string(no_cache_headers) +
                "<html><body><h1>Sorry! (be)</h1><p>The HTTP <a href=\"https://pagekite.net/\">"
                "<i>PageKite</i></a> for <b>a.test</b> is unavailable at the moment.</p>"
                "<p>Please try again later.</p><!--  --></body></html>\n");
}

TEST(Refusals, FolderServerErrorBodies) {
  EXPECT_EQ(format_folder_error_body("404 Not Found"),
            "<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head><body><h1>404 Not "
            "Found</h1></body></html>\n");
  EXPECT_EQ(format_folder_error_body("431 Request Header Fields Too Large"),
            "<!DOCTYPE html>\n<html><head><title>431 Request Header Fields Too Large</title>"
            "</head><body><h1>431 Request Header Fields Too Large</h1></body></html>\n");
}

}  // namespace
}  // namespace kiteline::wire
