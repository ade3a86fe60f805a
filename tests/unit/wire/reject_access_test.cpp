// The refusals of the relay's access rules (spec §6.7, §8.5): --client_acl's 403 page, the
// --tunnel_acl refusal, and the overload header on the relay's error pages.
#include "wire/reject.hpp"

#include <string>

#include <gtest/gtest.h>

namespace kiteline::wire {
namespace {

constexpr const char* page_headers =
    "Content-Type: text/html; charset=utf-8\r\nPragma: no-cache\r\nExpires: 0\r\n"
    "Cache-Control: no-store\r\nConnection: close\r\n\r\n";

TEST(AccessRefusals, ForbiddenPageIsTheSorryPageWithStatus403) {
  // pagekite.py HTTP_Unavailable('fe', 'http', host, code=403, status='Forbidden').
  EXPECT_EQ(format_forbidden_page("u3", "http", "a.test"),
            std::string("HTTP/1.1 403 Forbidden\r\nX-PageKite-UUID: u3\r\n") + page_headers +
                "<html><body><h1>Sorry! (fe)</h1><p>The HTTP <a href=\"https://pagekite.net/\">"
                "<i>PageKite</i></a> for <b>a.test</b> is unavailable at the moment.</p>"
                "<p>Please try again later.</p><!--  --></body></html>\n");
  // A refused CONNECT names the raw protocol (pagekite.py: HTTP_Unavail(..., 'raw', chost)).
  EXPECT_NE(format_forbidden_page("u", "raw", "b.test").find("<p>The RAW <a"), std::string::npos);
  EXPECT_NE(format_forbidden_page("u", "http", "c", false).find("The HTTP connection for <b>c"),
            std::string::npos);
}

TEST(AccessRefusals, TunnelRefusal) {
  EXPECT_EQ(connect_forbidden(), "HTTP/1.0 403 Forbidden\r\n\r\n");
}

TEST(AccessRefusals, OverloadHeaderComesFirst) {
  EXPECT_EQ(format_no_host_page("u4", true),
            std::string("HTTP/1.1 400 Bad request\r\nX-PageKite-Overloaded: Sorry\r\n"
                        "X-PageKite-UUID: u4\r\n") +
                page_headers +
                "<html><body><h1>400 Bad request</h1><p>Your request has no Host header.</p>"
                "</body></html>\n");
  const std::string page = format_unavailable_page("u5", "HTTP", "x.test", "fe", true, true);
  EXPECT_EQ(page.rfind("HTTP/1.1 503 Unavailable\r\nX-PageKite-Overloaded: Sorry\r\n"
                       "X-PageKite-UUID: u5\r\n",
                       0),
            0U);
}

}  // namespace
}  // namespace kiteline::wire
