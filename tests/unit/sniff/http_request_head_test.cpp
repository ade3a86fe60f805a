// Unit tests for sniff::parse_request_head: captured visitor/ping/tunnel heads and strict rules.
#include "sniff/http_request_head.hpp"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/vectors.hpp"

namespace kiteline::sniff {
namespace {

using test::read_vector;

/// Every prefix shorter than `complete_at` gives "not complete"; every longer one gives the same
/// result as the whole input (head or error).
void expect_prefix_stable(std::string_view in, std::size_t complete_at,
                          const http_limits& lim = {}) {
  const auto full = parse_request_head(in, lim);
  for (std::size_t k = 0; k <= in.size(); ++k) {
    const auto r = parse_request_head(in.substr(0, k), lim);
    if (k < complete_at) {
      ASSERT_TRUE(r.has_value()) << "prefix " << k << ": " << r.error().message();
      ASSERT_FALSE(r->complete) << "prefix " << k;
    } else {
      ASSERT_EQ(r.has_value(), full.has_value()) << "prefix " << k;
      if (full.has_value()) {
        ASSERT_EQ(r->complete, full->complete);
        ASSERT_EQ(r->head, full->head) << "prefix " << k;
      } else {
        ASSERT_EQ(r.error(), full.error()) << "prefix " << k;
      }
    }
  }
}

request_head parse_ok(std::string_view in) {
  const auto r = parse_request_head(in);
  EXPECT_TRUE(r.has_value()) << r.error().message() << " for " << in;
  if (!r.has_value()) {
    return {};
  }
  EXPECT_TRUE(r->complete) << in;
  return r->head;
}

std::error_code parse_err(std::string_view in, const http_limits& lim = {}) {
  const auto r = parse_request_head(in, lim);
  EXPECT_FALSE(r.has_value()) << in;
  return r.error();
}

TEST(HttpRequestHead, CapturedCurlGet) {
  const std::string in = read_vector("nozchunks", "07-backend-killed-visitor.http1.v2fe.bin");
  const request_head h = parse_ok(in);
  EXPECT_EQ(h.method, "GET");
  EXPECT_EQ(h.target, "/");
  EXPECT_EQ(h.version, http_version::http_1_1);
  EXPECT_EQ(h.head_length, in.size());
  EXPECT_EQ(h.head_length, 72u);
  ASSERT_EQ(h.fields.size(), 3u);
  EXPECT_EQ(h.fields[0], (header_field{"Host", "foo.test"}));
  EXPECT_EQ(h.fields[1], (header_field{"User-Agent", "curl/7.88.1"}));
  EXPECT_EQ(h.fields[2], (header_field{"Accept", "*/*"}));
  EXPECT_TRUE(h.has_host);
  EXPECT_EQ(h.host, "foo.test");
  EXPECT_EQ(h.host_port, 0);
  EXPECT_FALSE(h.websocket_upgrade);
  expect_prefix_stable(in, in.size());
}

TEST(HttpRequestHead, CapturedVisitorRequests) {
  struct row {
    const char* file;
    const char* target;
    const char* host;
    std::uint16_t port;
  };
  for (const row& r :
       {row{"07-backend-killed-visitor.http2.v2fe.bin", "/slow?n=100", "foo.test", 0},
        row{"07-backend-killed-visitor.http3.v2fe.bin", "/", "foo.test", 0},
        row{"08-wrong-secret-visitor.http1.v2fe.bin", "/", "foo.test", 0},
        row{"09-unknown-kite-visitor.http1.v2fe.bin", "/", "foo.example", 0},
        row{"13-no-backend-visitor.http1.v2fe.bin", "/", "nobody.test", 0},
        row{"13-no-backend-visitor.http2.v2fe.bin", "/some/path?q=1", "foo.test", 0},
        row{"13-no-backend-visitor.http3.v2fe.bin", "/", "127.0.0.1", 27091}}) {
    SCOPED_TRACE(r.file);
    const std::string in = read_vector("nozchunks", r.file);
    const request_head h = parse_ok(in);
    EXPECT_EQ(h.method, "GET");
    EXPECT_EQ(h.target, r.target);
    EXPECT_EQ(h.host, r.host);
    EXPECT_EQ(h.host_port, r.port);
    EXPECT_EQ(h.head_length, in.size());
    expect_prefix_stable(in, in.size());
  }
}

TEST(HttpRequestHead, CapturedConnects) {
  struct row {
    const char* set;
    const char* file;
    const char* host;
    std::uint16_t port;
    std::size_t head_length;
  };
  for (const row& r :
       {row{"nozchunks", "10-raw-connect-visitor.connect1.v2fe.bin", "ssh.test", 22, 32},
        row{"nozchunks", "11-https-connect-visitor.connect1.v2fe.bin", "tls.test", 443, 108},
        row{"nozchunks", "13-no-backend-visitor.connect1.v2fe.bin", "nobody.test", 443, 59},
        row{"nozchunks", "13-no-backend-visitor.connect2.v2fe.bin", "nobody.test", 22, 57},
        row{"nozchunks", "14-https-sni-visitor.connect1.v2fe.bin", "tls.test", 443, 108},
        row{"nozchunks", "12-tls-tunnel.connect1.be2fe.bin", "fe.test", 443, 47},
        row{"zchunks", "12-tls-tunnel.connect1.be2fe.bin", "fe.test", 443, 47}}) {
    SCOPED_TRACE(r.file);
    const std::string in = read_vector(r.set, r.file);
    const request_head h = parse_ok(in);
    EXPECT_EQ(h.method, "CONNECT");
    EXPECT_EQ(h.connect_host, r.host);
    EXPECT_EQ(h.connect_port, r.port);
    EXPECT_FALSE(h.pagekite_tunnel);
    EXPECT_EQ(h.head_length, r.head_length);
    EXPECT_EQ(in.substr(h.head_length - 4, 4), "\r\n\r\n");
    expect_prefix_stable(in, r.head_length);
  }
}

TEST(HttpRequestHead, CapturedPingsAndTunnelRequests) {
  for (const char* f : {"01-handshake-get.ping1.be2fe.bin", "14-https-sni.ping2.be2fe.bin"}) {
    const std::string in = read_vector("nozchunks", f);
    const request_head h = parse_ok(in);
    EXPECT_EQ(h.method, "HEAD");
    EXPECT_EQ(h.target, "/ping");
    EXPECT_EQ(h.host, "ping.pagekite");
    EXPECT_EQ(h.head_length, 44u);
  }
  const std::string tunnel = read_vector("nozchunks", "01-handshake-get.tunnel1.be2fe.bin");
  const request_head t = parse_ok(tunnel);
  EXPECT_EQ(t.method, "CONNECT");
  EXPECT_EQ(t.target, "PageKite:1");
  EXPECT_EQ(t.version, http_version::http_1_0);
  EXPECT_TRUE(t.pagekite_tunnel);
  EXPECT_FALSE(t.has_host);
  EXPECT_TRUE(t.connect_host.empty());
  EXPECT_EQ(t.head_length, tunnel.size());
  EXPECT_EQ(t.fields.size(), 4u);
  expect_prefix_stable(tunnel, tunnel.size());
  // With ZChunks the tunnel bytes go on after the head: head_length stops at the blank line.
  const std::string z = read_vector("zchunks", "01-handshake-get.tunnel1.be2fe.bin");
  const request_head zh = parse_ok(z);
  EXPECT_TRUE(zh.pagekite_tunnel);
  EXPECT_EQ(zh.head_length, z.find("\r\n\r\n") + 4);
  EXPECT_LT(zh.head_length, z.size());
  expect_prefix_stable(z.substr(0, zh.head_length + 40), zh.head_length);
}

TEST(HttpRequestHead, BareLfLineEndings) {
  const request_head h = parse_ok("GET /x HTTP/1.0\nHost: Foo.Test\n\nbody");
  EXPECT_EQ(h.version, http_version::http_1_0);
  EXPECT_EQ(h.host, "foo.test");
  EXPECT_EQ(h.head_length, 32u);
}

TEST(HttpRequestHead, AllMethodsAccepted) {
  for (const char* m :
       {"OPTIONS", "CONNECT", "GET", "HEAD", "POST", "PUT", "TRACE", "PROPFIND", "PROPPATCH",
        "MKCOL", "DELETE", "COPY", "MOVE", "LOCK", "UNLOCK", "PING", "PATCH"}) {
    const std::string target = std::string(m) == "CONNECT" ? "a.test:1" : "/";
    const std::string in = std::string(m) + " " + target + " HTTP/1.1\r\n\r\n";
    const request_head h = parse_ok(in);  // views into `in`
    EXPECT_EQ(h.method, m);
  }
}

TEST(HttpRequestHead, HostForms) {
  struct row {
    const char* value;
    const char* host;
    std::uint16_t port;
  };
  for (const row& r :
       {row{"Example.COM", "example.com", 0}, row{"example.com:8080", "example.com", 8080},
        row{"[::1]:8080", "[::1]", 8080}, row{"[2001:DB8::1]", "[2001:db8::1]", 0},
        row{"0x7f000001--foo.test", "foo.test", 0}, row{"0x7F000001--Foo.Test:99", "foo.test", 99},
        row{"0x0123456789abcdef0123456789abcdef--k.test", "k.test", 0},
        row{"0x7f00001--foo.test", "0x7f00001--foo.test", 0},  // 7 hex digits
        row{"127.0.0.1:27091", "127.0.0.1", 27091}, row{"", "", 0}}) {
    SCOPED_TRACE(r.value);
    const request_head h = parse_ok(std::string("GET / HTTP/1.1\r\nHost: ") + r.value + "\r\n\r\n");
    EXPECT_TRUE(h.has_host);
    EXPECT_EQ(h.host, r.host);
    EXPECT_EQ(h.host_port, r.port);
  }
  const request_head none = parse_ok("GET / HTTP/1.1\r\nAccept: */*\r\n\r\n");
  EXPECT_FALSE(none.has_host);
  EXPECT_TRUE(none.host.empty());
}

TEST(HttpRequestHead, BadHostValues) {
  for (const char* v :
       {"a..b", "foo.test:0", "foo.test:65536", "foo.test:", "foo.test:8x", "a:b:c", "::1", "[::1",
        "[::1]x", "[]", "[zz::1]", "foo bar", "0x7f000001--", "foo.test.", "foo.test:123456"}) {
    SCOPED_TRACE(v);
    EXPECT_EQ(parse_err(std::string("GET / HTTP/1.1\r\nHost: ") + v + "\r\n\r\n"), errc::bad_host);
  }
}

TEST(HttpRequestHead, WebSocketUpgrade) {
  EXPECT_TRUE(parse_ok("GET / HTTP/1.1\r\nUpgrade: WebSocket\r\n\r\n").websocket_upgrade);
  EXPECT_TRUE(parse_ok("GET / HTTP/1.1\r\nupgrade: h2c, websocket\r\n\r\n").websocket_upgrade);
  EXPECT_FALSE(parse_ok("GET / HTTP/1.1\r\nUpgrade: h2c\r\n\r\n").websocket_upgrade);
  EXPECT_FALSE(parse_ok("GET / HTTP/1.1\r\nX-Upgrade: websocket\r\n\r\n").websocket_upgrade);
}

TEST(HttpRequestHead, ConnectTargets) {
  const request_head v6 = parse_ok("CONNECT [::1]:22 HTTP/1.1\r\n\r\n");
  EXPECT_EQ(v6.connect_host, "[::1]");
  EXPECT_EQ(v6.connect_port, 22);
  EXPECT_TRUE(parse_ok("CONNECT pagekite:whatever HTTP/1.1\r\n\r\n").pagekite_tunnel);
  EXPECT_TRUE(parse_ok("CONNECT PAGEKITE:1 HTTP/1.0\r\n\r\n").pagekite_tunnel);
  for (const char* t : {"host.test", "host.test:", "host.test:0", "host.test:65536",
                        "host.test:http", ":80", "a..b:80", "pagekite1:80x"}) {
    SCOPED_TRACE(t);
    EXPECT_EQ(parse_err(std::string("CONNECT ") + t + " HTTP/1.1\r\n\r\n"),
              errc::bad_connect_target);
  }
  EXPECT_EQ(parse_ok("CONNECT h.test:65535 HTTP/1.1\r\n\r\n").connect_port, 65535);
  EXPECT_EQ(parse_ok("CONNECT h.test:1 HTTP/1.1\r\n\r\n").connect_port, 1);
}

TEST(HttpRequestHead, RequestLineErrors) {
  EXPECT_EQ(parse_err("FOO / HTTP/1.1\r\n\r\n"), errc::bad_method);
  EXPECT_EQ(parse_err("get / HTTP/1.1\r\n\r\n"), errc::bad_method);
  EXPECT_EQ(parse_err("GETS / HTTP/1.1\r\n\r\n"), errc::bad_method);
  EXPECT_EQ(parse_err("\r\nGET / HTTP/1.1\r\n\r\n"), errc::bad_method);
  EXPECT_EQ(parse_err("GET / HTTP/2.0\r\n\r\n"), errc::bad_version);
  EXPECT_EQ(parse_err("GET / HTTP/1.2\r\n\r\n"), errc::bad_version);
  EXPECT_EQ(parse_err("GET / http/1.1\r\n\r\n"), errc::bad_version);
  EXPECT_EQ(parse_err("GET / HTTP/1.1 \r\n\r\n"), errc::bad_version);
  EXPECT_EQ(parse_err("GET /\r\n\r\n"), errc::bad_version);
  EXPECT_EQ(parse_err("GET\r\n\r\n"), errc::bad_request_line);
  EXPECT_EQ(parse_err("GET  / HTTP/1.1\r\n\r\n"), errc::bad_request_line);
  EXPECT_EQ(parse_err("GET\t/ HTTP/1.1\r\n\r\n"), errc::bad_request_line);
  EXPECT_EQ(parse_err("GET /a\rb HTTP/1.1\r\n\r\n"), errc::bad_request_line);
  EXPECT_EQ(parse_err(std::string("GET /\0 HTTP/1.1\r\n\r\n", 20)), errc::bad_request_line);
}

TEST(HttpRequestHead, BadMethodRejectedBeforeTheLineEnds) {
  EXPECT_EQ(parse_err("X"), errc::bad_method);
  EXPECT_EQ(parse_err("GEX"), errc::bad_method);
  EXPECT_EQ(parse_err("PROPPATCHX"), errc::bad_method);
  EXPECT_EQ(parse_err("GET\t"), errc::bad_request_line);
  const auto partial = parse_request_head("PROPP");
  ASSERT_TRUE(partial.has_value());
  EXPECT_FALSE(partial->complete);
}

TEST(HttpRequestHead, HeaderErrors) {
  EXPECT_EQ(parse_err("GET / HTTP/1.1\r\nHost: a.test\r\n folded\r\n\r\n"), errc::obs_fold);
  EXPECT_EQ(parse_err("GET / HTTP/1.1\r\n\tX: y\r\n\r\n"), errc::obs_fold);
  EXPECT_EQ(parse_err("GET / HTTP/1.1\r\nHost: a.test\r\nhost: b.test\r\n\r\n"),
            errc::duplicate_host);
  EXPECT_EQ(parse_err("GET / HTTP/1.1\r\nHost: a.test\r\nHOST: a.test\r\n\r\n"),
            errc::duplicate_host);
  EXPECT_EQ(parse_err(std::string("GET / HTTP/1.1\r\nX-A: a\0b\r\n\r\n", 29)),
            errc::bad_header_value);
  EXPECT_EQ(parse_err("GET / HTTP/1.1\r\nX-A: a\rb\r\n\r\n"), errc::bad_header_value);
  EXPECT_EQ(parse_err("GET / HTTP/1.1\r\nX-A: a\x7f\r\n\r\n"), errc::bad_header_value);
  EXPECT_EQ(parse_err("GET / HTTP/1.1\r\nNoColon\r\n\r\n"), errc::bad_header_line);
  EXPECT_EQ(parse_err("GET / HTTP/1.1\r\n: empty-name\r\n\r\n"), errc::bad_header_line);
  EXPECT_EQ(parse_err("GET / HTTP/1.1\r\nHost : a.test\r\n\r\n"), errc::bad_header_line);
  EXPECT_EQ(parse_err("GET / HTTP/1.1\r\nX(y): z\r\n\r\n"), errc::bad_header_line);
  // Tabs and obs-text are fine in values, and surrounding blanks are trimmed.
  const request_head h = parse_ok("GET / HTTP/1.1\r\nX-A: \t a\tb \xe9 \t\r\n\r\n");
  ASSERT_EQ(h.fields.size(), 1u);
  EXPECT_EQ(h.fields[0].value, "a\tb \xe9");
}

TEST(HttpRequestHead, HeadSizeCap) {
  const std::string head = "GET / HTTP/1.1\r\nHost: a.test\r\n\r\n";  // 32 bytes
  ASSERT_EQ(head.size(), 32u);
  const http_limits exact{32, 100};
  EXPECT_EQ(parse_request_head(head, exact)->head.head_length, 32u);
  const http_limits small{31, 100};
  EXPECT_EQ(parse_err(head, small), errc::head_too_large);
  // need_more below the cap, head_too_large as soon as the cap is reached without a blank line.
  EXPECT_FALSE(parse_request_head(head.substr(0, 30), small)->complete);
  EXPECT_EQ(parse_err(head.substr(0, 31), small), errc::head_too_large);
  expect_prefix_stable(head, 31, small);
  // Default cap: 16 KiB of headers without an end.
  std::string big = "GET / HTTP/1.1\r\nX-Big: " + std::string(20000, 'a');
  EXPECT_EQ(parse_err(big), errc::head_too_large);
  EXPECT_FALSE(parse_request_head(big.substr(0, 16383))->complete);
}

TEST(HttpRequestHead, HeaderCountCap) {
  std::string in = "GET / HTTP/1.1\r\n";
  for (int i = 0; i < 100; ++i) {
    in += "X-N: " + std::to_string(i) + "\r\n";
  }
  EXPECT_EQ(parse_ok(in + "\r\n").fields.size(), 100u);
  EXPECT_EQ(parse_err(in + "X-N: 100\r\n\r\n"), errc::too_many_headers);
  EXPECT_EQ(parse_err("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\n\r\n", http_limits{16384, 1}),
            errc::too_many_headers);
}

TEST(HttpRequestHead, ErrorsStableOverEveryPrefix) {
  for (const std::string& in :
       {std::string("GET / HTTP/1.1\r\nHost: a.test\r\n folded\r\n\r\n"),
        std::string("GET / HTTP/1.1\r\nHost: a:0\r\n\r\n"), std::string("GET / HTTP/2.0\r\n\r\n"),
        std::string("CONNECT a.test HTTP/1.1\r\n\r\n"), std::string("GEX / HTTP/1.1\r\n\r\n")}) {
    SCOPED_TRACE(in);
    const auto full = parse_request_head(in);
    ASSERT_FALSE(full.has_value());
    for (std::size_t k = 0; k <= in.size(); ++k) {
      const auto r = parse_request_head(std::string_view(in).substr(0, k));
      if (!r.has_value()) {
        EXPECT_EQ(r.error(), full.error()) << k;
      } else {
        EXPECT_FALSE(r->complete) << k;
      }
    }
  }
}

}  // namespace
}  // namespace kiteline::sniff
