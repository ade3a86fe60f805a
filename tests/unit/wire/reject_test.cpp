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

}  // namespace
}  // namespace kiteline::wire
