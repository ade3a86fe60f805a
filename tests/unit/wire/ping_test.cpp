// Relay ping and CONNECT preamble (spec §2.1, §3); the refusals are in reject_test.cpp.
#include <gtest/gtest.h>

#include <string>

#include "wire/ping.hpp"

namespace kiteline::wire {
namespace {

TEST(Ping, Request) {
  EXPECT_EQ(ping_request(), "HEAD /ping HTTP/1.1\r\nHost: ping.pagekite\r\n\r\n");
  EXPECT_TRUE(is_ping_request(ping_request()));
  EXPECT_TRUE(is_ping_request("GET /ping HTTP/1.1\r\nHost: ping.pagekite\r\n\r\n"));
  EXPECT_TRUE(is_ping_request(std::as_bytes(std::span(ping_request()))));
  // Case-sensitive, needs the preceding LF.
  EXPECT_FALSE(is_ping_request("HEAD /ping HTTP/1.1\r\nhost: ping.pagekite\r\n\r\n"));
  EXPECT_FALSE(is_ping_request("Host: ping.pagekite\r\n"));
  EXPECT_FALSE(is_ping_request("GET / HTTP/1.1\r\nHost: foo.test\r\n\r\n"));
  EXPECT_FALSE(is_ping_request(""));
  // Only in the peeked bytes: split mid-needle is not a match yet.
  const std::string_view req = ping_request();
  const std::size_t needle_end = req.find("pagekite\r\n") + 8;
  for (std::size_t n = 0; n <= req.size(); ++n) {
    EXPECT_EQ(is_ping_request(req.substr(0, n)), n >= needle_end) << n;
  }
}

TEST(Ping, ReplyFormatAndCheck) {
  const std::string uuid = "3f745e1490024fa1b5e0115645fa107e175c822a";
  const std::string reply = format_ping_reply(uuid);
  EXPECT_EQ(reply.size(), 368U);  // the captured reply's length
  EXPECT_TRUE(reply.starts_with("HTTP/1.1 503 Unavailable\r\nX-PageKite-UUID: " + uuid + "\r\n"));
  const auto r = check_ping_reply(reply);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, (ping_reply{uuid, false}));

  const std::string busy = format_ping_reply(uuid, true);
  EXPECT_TRUE(busy.starts_with("HTTP/1.1 503 Unavailable\r\nX-PageKite-Overloaded: Sorry\r\n"));
  EXPECT_EQ(*check_ping_reply(busy), (ping_reply{uuid, true}));

  // Partial read: only the status line is needed.
  EXPECT_EQ(*check_ping_reply("HTTP/1.1 503 Unavailable"), (ping_reply{"", false}));
  EXPECT_EQ(*check_ping_reply("HTTP/1.1 503 Unavailable\r\nx-pagekite-uuid: abc"),
            (ping_reply{"abc", false}));
}

TEST(Ping, BadReplies) {
  for (const std::string_view bad :
       {"", "HTTP/1.1 503", "HTTP/1.0 503 Unavailable\r\n\r\n", "HTTP/1.1 200 OK\r\n\r\n",
        "http/1.1 503 Unavailable\r\n\r\n", " HTTP/1.1 503 Unavailable\r\n"}) {
    EXPECT_EQ(check_ping_reply(bad).error(), errc::bad_ping_reply) << bad;
  }
}

TEST(ConnectPreamble, FormatAndReply) {
  EXPECT_EQ(format_connect_preamble("fe.test"), "CONNECT fe.test:443 HTTP/1.1\r\nHost: fe.test\r\n\r\n");
  EXPECT_EQ(connect_established_reply(), "HTTP/1.0 200 Connection Established\r\n\r\n");
  const std::string with_tls = std::string(connect_established_reply()) + "\x16\x03\x03";
  const auto r = check_connect_reply(with_tls);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->end, connect_established_reply().size());
  EXPECT_EQ(check_connect_reply("HTTP/1.1 200 OK\r\nX: y\r\n\r\n")->end, 25U);
  EXPECT_EQ(check_connect_reply("HTTP/1.1 200\n\n")->end, 14U);
}

TEST(ConnectPreamble, BadReplies) {
  for (const std::string_view bad :
       {"HTTP/1.0 503 Unavailable\r\n\r\n", "HTTP/1.0 403 Forbidden\r\n\r\n", "X",
        "HTTP/2 200\r\n\r\n", "HTTP/1.1 2000\r\n\r\n", "\x15\x03\x03\x00\x02\x02\x31"}) {
    EXPECT_EQ(check_connect_reply(bad).error(), errc::bad_connect_reply) << bad;
  }
  // Refused as soon as the first bytes disagree; needs more while they agree.
  EXPECT_EQ(check_connect_reply("HTTP/1.0 5").error(), errc::bad_connect_reply);
  EXPECT_TRUE(check_connect_reply("HTTP/1.0 2")->need_more());
  EXPECT_EQ(check_connect_reply("HTTP/1.0 200 " + std::string(5000, 'x'), 4096).error(),
            errc::head_too_large);
}

TEST(Ping, PongReply) {
  // What the relay answered inline before (server.cpp): the request target between the blanks.
  EXPECT_EQ(format_pong_reply("PING /x HTTP/1.1\r\nHost: a.test\r\n\r\n"), "PONG /x\r\n\r\n");
  EXPECT_EQ(format_pong_reply("PING /"), "PONG /\r\n\r\n");
}

}  // namespace
}  // namespace kiteline::wire
