// --errorurl pages (spec §6.7): byte for byte as pagekite.py 1.5.2's HTTP_Unavailable writes
// them with a frame URL (the bodies below were produced by Debian's pagekite.py), and every
// value HTML-escaped.
#include "wire/reject.hpp"

#include <string>

#include <gtest/gtest.h>

namespace kiteline::wire {
namespace {

constexpr std::string_view head =
    "HTTP/1.1 503 Unavailable\r\nX-PageKite-UUID: u\r\n"
    "Content-Type: text/html; charset=utf-8\r\nPragma: no-cache\r\nExpires: 0\r\n"
    "Cache-Control: no-store\r\nConnection: close\r\n\r\n";

TEST(ErrorFrame, RelayPageAppendsWhereProtoDomainRelay) {
  error_frame f;
  f.uuid = "u";
  f.where = "fe";
  f.proto = "http";
  f.host = "a.test";
  f.url = "https://e.example/off/?";
  f.relay_ip = "127.0.0.1";
  EXPECT_EQ(format_error_frame_page(f),
            std::string(head) +
                "<html><frameset cols=\"*\"><frame target=\"_top\" src=\"https://e.example/off/?"
                "&amp;where=FE&amp;proto=http&amp;domain=a.test&amp;relay=127.0.0.1\" />"
                "<noframes><h1>Sorry! (fe)</h1><p>The HTTP <a href=\"https://pagekite.net/\">"
                "<i>PageKite</i></a> for <b>a.test</b> is unavailable at the moment.</p>"
                "<p>Please try again later.</p><!--  --></noframes></frameset></html>\n");
}

TEST(ErrorFrame, NoQuestionMarkNoParametersAndNoAdvertisement) {
  error_frame f;
  f.uuid = "u";
  f.where = "be";
  f.proto = "websocket";
  f.host = "b.test";
  f.url = "http://x/y";
  f.relay_ip = "10.0.0.1";
  f.advertise = false;
  EXPECT_EQ(format_error_frame_page(f),
            std::string(head) +
                "<html><frameset cols=\"*\"><frame target=\"_top\" src=\"http://x/y\" />"
                "<noframes><h1>Sorry! (be)</h1><p>The WEBSOCKET connection for <b>b.test</b> is "
                "unavailable at the moment.</p><p>Please try again later.</p><!--  -->"
                "</noframes></frameset></html>\n");
}

TEST(ErrorFrame, EveryValueIsEscaped) {
  error_frame f;
  f.uuid = "u";
  f.status = "403 Forbidden";
  f.where = "fe";
  f.proto = "http";
  f.host = "<b>\"x\"&'";
  f.url = "http://e/?a=1&b=\"><script>";
  f.relay_ip = "<ip>";
  f.overloaded = true;
  const std::string page = format_error_frame_page(f);
  EXPECT_EQ(page.rfind("HTTP/1.1 403 Forbidden\r\nX-PageKite-Overloaded: Sorry\r\n", 0), 0u);
  EXPECT_NE(page.find("src=\"http://e/?a=1&amp;b=&quot;&gt;&lt;script&gt;&amp;where=FE&amp;"
                      "proto=http&amp;domain=&lt;b&gt;&quot;x&quot;&amp;&#39;&amp;relay=&lt;ip&gt;\""),
            std::string::npos)
      << page;
  EXPECT_NE(page.find("<b>&lt;b&gt;&quot;x&quot;&amp;&#39;</b>"), std::string::npos) << page;
  EXPECT_EQ(page.find("<script>"), std::string::npos);
  EXPECT_EQ(page.find("<ip>"), std::string::npos);
}

}  // namespace
}  // namespace kiteline::wire
