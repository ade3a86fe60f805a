// console/request: the console's request head parser and its Basic auth check.
#include "console/request.hpp"

#include <string>

#include <gtest/gtest.h>

#include "core/text.hpp"

namespace kiteline::console {
namespace {

TEST(console_request, routes_and_query_strings) {
  const auto r = parse_request("GET /metrics?x=1 HTTP/1.1\r\nHost: a\r\n\r\n");
  ASSERT_EQ(r.status, parse_status::complete);
  EXPECT_EQ(r.req.method, "GET");
  EXPECT_EQ(r.req.path, "/metrics");
  EXPECT_EQ(r.req.where, route::metrics);
  EXPECT_EQ(r.head_length, std::string("GET /metrics?x=1 HTTP/1.1\r\nHost: a\r\n\r\n").size());
  EXPECT_EQ(route_of("/status.json"), route::status_json);
  EXPECT_EQ(route_of("/"), route::status_page);
  EXPECT_EQ(route_of("/index.html"), route::status_page);
  EXPECT_EQ(route_of("/metrics/"), route::not_found);
  EXPECT_EQ(route_of("/etc/passwd"), route::not_found);
}

TEST(console_request, every_prefix_of_a_head_needs_more) {
  const std::string head = "GET / HTTP/1.0\r\nAuthorization: Basic eDpw\r\n\r\n";
  for (std::size_t k = 0; k < head.size(); ++k) {
    EXPECT_EQ(parse_request(head.substr(0, k)).status, parse_status::need_more) << k;
  }
  const auto r = parse_request(head);
  ASSERT_EQ(r.status, parse_status::complete);
  EXPECT_EQ(r.req.authorization, "Basic eDpw");
}

TEST(console_request, malformed_heads_are_bad_requests) {
  for (const char* bad : {"GET\r\n\r\n", "GET / HTTP/2.0\r\n\r\n", "G(T / HTTP/1.1\r\n\r\n",
                          "GET http://x/ HTTP/1.1\r\n\r\n", "GET / HTTP/1.1\r\nNo colon\r\n\r\n",
                          "GET / HTTP/1.1\r\n folded: x\r\n\r\n",
                          "GET / HTTP/1.1\r\nX: a\x01z\r\n\r\n"}) {
    EXPECT_EQ(parse_request(bad).status, parse_status::bad_request) << bad;
  }
}

TEST(console_request, an_endless_head_is_too_large) {
  const std::string big = "GET / HTTP/1.1\r\nX: " + std::string(max_head_bytes, 'a');
  EXPECT_EQ(parse_request(big).status, parse_status::too_large);
}

TEST(console_basic_auth, any_user_with_the_password) {
  const auto hdr = [](std::string_view userpass) {
    return "Basic " + base64_encode(userpass);
  };
  EXPECT_TRUE(basic_auth_ok(hdr("admin:s3cret"), "s3cret"));
  EXPECT_TRUE(basic_auth_ok(hdr(":s3cret"), "s3cret"));
  EXPECT_TRUE(basic_auth_ok("basic " + base64_encode("u:a:b"), "a:b"));  // first ':' splits
  EXPECT_FALSE(basic_auth_ok(hdr("admin:s3cre"), "s3cret"));
  EXPECT_FALSE(basic_auth_ok(hdr("admin:s3cretX"), "s3cret"));
  EXPECT_FALSE(basic_auth_ok(hdr("s3cret"), "s3cret"));  // no ':'
  EXPECT_FALSE(basic_auth_ok("Bearer " + base64_encode("a:s3cret"), "s3cret"));
  EXPECT_FALSE(basic_auth_ok("Basic !!!!", "s3cret"));
  EXPECT_FALSE(basic_auth_ok("", "s3cret"));
  EXPECT_FALSE(basic_auth_ok(hdr("a:"), ""));  // an empty password never opens
}

}  // namespace
}  // namespace kiteline::console
