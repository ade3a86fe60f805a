// Tests of connector service selection (spec §7.1), +ip filtering and the PROXY v1 line.
#include <gtest/gtest.h>

#include <vector>

#include "connector/service_map.hpp"

namespace kiteline::connector {
namespace {

config::service svc(std::string proto, std::optional<std::uint16_t> port, std::string kite,
                    std::uint16_t origin) {
  config::service s;
  s.proto = std::move(proto);
  s.public_port = port;
  s.kite_name = std::move(kite);
  s.origin_host = "127.0.0.1";
  s.origin_port = origin;
  return s;
}

std::uint16_t pick(const std::vector<config::service>& v, std::string_view proto,
                   std::string_view host, std::optional<std::uint32_t> port) {
  const auto* s = choose_service(v, proto, host, port);
  return s == nullptr ? 0 : s->origin_port;
}

TEST(service_map, exact_name_and_http_fallbacks) {
  std::vector<config::service> v{svc("http", {}, "foo.test", 1), svc("http2", {}, "bar.test", 2),
                                 svc("raw", {}, "foo.test", 3)};
  EXPECT_EQ(pick(v, "http", "foo.test", 80), 1);
  EXPECT_EQ(pick(v, "http", "bar.test", 80), 2);        // http -> http2
  EXPECT_EQ(pick(v, "websocket", "foo.test", 80), 1);   // websocket -> http
  EXPECT_EQ(pick(v, "raw", "foo.test", 22), 3);
  EXPECT_EQ(pick(v, "https", "foo.test", 443), 0);      // no https service
  EXPECT_EQ(pick(v, "http", "other.test", 80), 0);
  EXPECT_EQ(pick(v, "http", "FOO.test", 80), 1);        // case-insensitive
}

TEST(service_map, port_specific_first_then_portless) {
  std::vector<config::service> v{svc("http", {}, "foo.test", 1),
                                 svc("http", 8080, "foo.test", 2)};
  EXPECT_EQ(pick(v, "http", "foo.test", 8080), 2);
  EXPECT_EQ(pick(v, "http", "foo.test", 80), 1);
  std::vector<config::service> only_port{svc("http", 8080, "foo.test", 2)};
  EXPECT_EQ(pick(only_port, "http", "foo.test", 80), 0);  // a port-specific kite is only that
}

TEST(service_map, wildcard_parents_after_exact) {
  std::vector<config::service> v{svc("http", {}, "*.example.test", 1),
                                 svc("http", {}, "*.test", 2),
                                 svc("http", {}, "a.b.example.test", 3)};
  EXPECT_EQ(pick(v, "http", "a.b.example.test", 80), 3);
  EXPECT_EQ(pick(v, "http", "x.b.example.test", 80), 1);  // *.b.example.test, then *.example...
  EXPECT_EQ(pick(v, "http", "www.example.test", 80), 1);
  EXPECT_EQ(pick(v, "http", "other.test", 80), 2);
  EXPECT_EQ(pick(v, "http", "test", 80), 0);
}

TEST(service_map, unknown_catch_all_and_disabled) {
  std::vector<config::service> v{svc("raw", {}, "unknown", 9), svc("http", {}, "foo.test", 1)};
  v[1].enabled = false;
  EXPECT_EQ(pick(v, "raw", "anything.test", 22), 9);
  EXPECT_EQ(pick(v, "http", "foo.test", 80), 0);  // disabled kites are skipped
}

TEST(service_map, ip_filter) {
  std::vector<std::string> none;
  EXPECT_TRUE(ip_allowed(none, "10.0.0.1"));
  std::vector<std::string> allow{"1.2.3.4", "10.9.8"};
  EXPECT_TRUE(ip_allowed(allow, "1.2.3.4"));
  EXPECT_TRUE(ip_allowed(allow, "::ffff:1.2.3.4"));
  EXPECT_FALSE(ip_allowed(allow, "1.2.3.40"));
  EXPECT_TRUE(ip_allowed(allow, "10.9.8.77"));
  EXPECT_FALSE(ip_allowed(allow, "10.9.80.1"));
  EXPECT_FALSE(ip_allowed(allow, "127.0.0.1"));
}

TEST(service_map, proxy_v1_lines) {
  EXPECT_EQ(proxy_v1_line("127.0.0.1", 4000, 80), "PROXY TCP4 127.0.0.1 0.0.0.0 4000 80\r\n");
  EXPECT_EQ(proxy_v1_line("::ffff:1.2.3.4", 5, 443), "PROXY TCP4 1.2.3.4 0.0.0.0 5 443\r\n");
  EXPECT_EQ(proxy_v1_line("2001:db8::1", 5, 80), "PROXY TCP6 2001:db8::1 :: 5 80\r\n");
  EXPECT_EQ(proxy_v1_line("evil\r\nX: y", 5, 80), "");
}

TEST(service_map, http_protos) {
  for (auto p : {"http", "http2", "http3", "websocket"}) {
    EXPECT_TRUE(is_http_proto(p)) << p;
  }
  for (auto p : {"https", "raw", "irc"}) {
    EXPECT_FALSE(is_http_proto(p)) << p;
  }
}

}  // namespace
}  // namespace kiteline::connector
