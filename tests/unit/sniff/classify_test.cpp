// Unit tests for sniff::classify over the captured first bytes of every connection kind.
#include "sniff/classify.hpp"

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

std::span<const std::byte> as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

classification cls(std::string_view s, const classify_limits& lim = {}) {
  return classify(as_bytes(s), lim);
}

/// Prefixes shorter than `decided_at` are need_more, longer ones equal the full verdict
/// (byte-by-byte feeding into a growing buffer is exactly this sequence of calls).
void expect_prefix_stable(std::string_view in, std::size_t decided_at,
                          const classify_limits& lim = {}) {
  const classification full = cls(in, lim);
  for (std::size_t k = 0; k <= in.size(); ++k) {
    const classification c = cls(in.substr(0, k), lim);
    if (k < decided_at) {
      ASSERT_EQ(c.what, kind::need_more) << "prefix " << k;
    } else {
      ASSERT_EQ(c, full) << "prefix " << k;
    }
  }
}

TEST(Classify, CapturedPings) {
  for (const char* f : {"01-handshake-get.ping1.be2fe.bin", "02-idle.ping2.be2fe.bin",
                        "14-https-sni.ping1.be2fe.bin", "13-no-backend-visitor.ping1.v2fe.bin"}) {
    SCOPED_TRACE(f);
    const std::string in = read_vector("nozchunks", f);
    const classification c = cls(in);
    EXPECT_EQ(c.what, kind::ping);
    EXPECT_EQ(c.host, "ping.pagekite");
    EXPECT_EQ(c.head_length, 0u);
    // Decided once the Host line is complete, before the blank line (pagekite's peek).
    const std::size_t line_end = in.find("ping.pagekite\r\n") + 15;
    expect_prefix_stable(in, line_end);
  }
}

TEST(Classify, CapturedTunnelRequests) {
  for (const char* f : {"01-handshake-get.tunnel1.be2fe.bin", "09-unknown-kite.tunnel1.be2fe.bin",
                        "10-raw-connect.tunnel2.be2fe.bin"}) {
    SCOPED_TRACE(f);
    const std::string in = read_vector("nozchunks", f);
    const std::size_t head = in.find("\r\n\r\n") + 4;
    const classification c = cls(in);
    EXPECT_EQ(c.what, kind::tunnel_request);
    EXPECT_EQ(c.head_length, head);
    EXPECT_EQ(c.method, "CONNECT");
    expect_prefix_stable(in.substr(0, std::min(in.size(), head + 64)), head);
  }
  const std::string z = read_vector("zchunks", "04-concurrent.tunnel1.be2fe.bin");
  const classification c = cls(z);
  EXPECT_EQ(c.what, kind::tunnel_request);
  EXPECT_EQ(c.head_length, z.find("\r\n\r\n") + 4);
  EXPECT_LT(c.head_length, z.size());
}

TEST(Classify, CapturedHttpVisitors) {
  struct row {
    const char* file;
    const char* host;
    std::uint16_t port;
  };
  for (const row& r : {row{"07-backend-killed-visitor.http1.v2fe.bin", "foo.test", 0},
                       row{"09-unknown-kite-visitor.http1.v2fe.bin", "foo.example", 0},
                       row{"13-no-backend-visitor.http2.v2fe.bin", "foo.test", 0},
                       row{"13-no-backend-visitor.http3.v2fe.bin", "127.0.0.1", 27091}}) {
    SCOPED_TRACE(r.file);
    const std::string in = read_vector("nozchunks", r.file);
    const classification c = cls(in);
    EXPECT_EQ(c.what, kind::visitor_http);
    EXPECT_EQ(c.host, r.host);
    EXPECT_EQ(c.port, r.port);
    EXPECT_EQ(c.method, "GET");
    EXPECT_TRUE(c.has_host);
    EXPECT_FALSE(c.websocket);
    EXPECT_FALSE(c.ping_method);
    EXPECT_EQ(c.head_length, in.size());
    expect_prefix_stable(in, in.size());
  }
}

TEST(Classify, CapturedConnectVisitors) {
  struct row {
    const char* set;
    const char* file;
    const char* host;
    std::uint16_t port;
  };
  for (const row& r :
       {row{"nozchunks", "10-raw-connect-visitor.connect1.v2fe.bin", "ssh.test", 22},
        row{"nozchunks", "11-https-connect-visitor.connect1.v2fe.bin", "tls.test", 443},
        row{"nozchunks", "13-no-backend-visitor.connect1.v2fe.bin", "nobody.test", 443},
        row{"nozchunks", "13-no-backend-visitor.connect2.v2fe.bin", "nobody.test", 22},
        row{"zchunks", "12-tls-tunnel.connect1.be2fe.bin", "fe.test", 443}}) {
    SCOPED_TRACE(r.file);
    const std::string in = read_vector(r.set, r.file);
    const std::size_t head = in.find("\r\n\r\n") + 4;
    const classification c = cls(in);
    EXPECT_EQ(c.what, kind::visitor_connect);
    EXPECT_EQ(c.host, r.host);
    EXPECT_EQ(c.port, r.port);
    EXPECT_EQ(c.head_length, head);
    expect_prefix_stable(in.substr(0, std::min(in.size(), head + 64)), head);
  }
}

TEST(Classify, CapturedTlsVisitors) {
  struct row {
    const char* file;
    const char* sni;
    bool alpn;
    std::size_t size;
  };
  for (const row& r : {row{"13-no-backend-visitor.tls1.v2fe.bin", "nobody.test", false, 317},
                       row{"14-https-sni-visitor.tls1.v2fe.bin", "tls.test", true, 517}}) {
    SCOPED_TRACE(r.file);
    const std::string in = read_vector("nozchunks", r.file);
    ASSERT_EQ(in.size(), r.size);
    const classification c = cls(in);
    EXPECT_EQ(c.what, kind::visitor_tls);
    EXPECT_TRUE(c.has_sni);
    EXPECT_EQ(c.host, r.sni);
    EXPECT_EQ(c.has_alpn, r.alpn);
    EXPECT_EQ(c.head_length, 0u);
    expect_prefix_stable(in, in.size());
  }
  // The TLS bytes that follow an accepted CONNECT are classified on their own.
  const std::string after = read_vector("nozchunks", "11-https-connect-visitor.connect1.v2fe.bin");
  const classification c = cls(std::string_view(after).substr(cls(after).head_length));
  EXPECT_EQ(c.what, kind::visitor_tls);
  EXPECT_EQ(c.host, "tls.test");
}

TEST(Classify, SslV2Hello) {
  EXPECT_EQ(cls("\x80").what, kind::need_more);
  const classification c = cls("\x80\x2e");
  EXPECT_EQ(c.what, kind::visitor_tls);
  EXPECT_TRUE(c.sslv2);
  EXPECT_FALSE(c.has_sni);
}

TEST(Classify, TlsErrorsBecomeReject) {
  const classification c = cls(std::string("\x16\x03\x01\x00\x04\x02", 6));
  EXPECT_EQ(c.what, kind::reject);
  EXPECT_EQ(c.error, errc::not_client_hello);
}

TEST(Classify, GarbageRejectedAtTheFirstByte) {
  for (const std::string& first :
       {std::string(1, '\0'), std::string("x"), std::string("\r"), std::string("g"),
        std::string(" "), std::string("\x17"), std::string("\xff"), std::string("SSH-2.0-x\r\n")}) {
    SCOPED_TRACE(first);
    const classification c = cls(first.substr(0, 1));
    EXPECT_EQ(c.what, kind::reject);
    EXPECT_EQ(c.error, errc::unknown_protocol);
    EXPECT_EQ(cls(first + "GET / HTTP/1.1\r\n\r\n"), c);
  }
}

TEST(Classify, BadMethodRejectedBeforeTheLineEnds) {
  const classification c = cls("GEX");
  EXPECT_EQ(c.what, kind::reject);
  EXPECT_EQ(c.error, errc::bad_method);
  EXPECT_EQ(cls("G").what, kind::need_more);
  EXPECT_EQ(cls("PROPF").what, kind::need_more);
}

TEST(Classify, Xmpp) {
  EXPECT_EQ(cls("<?xm").what, kind::need_more);
  EXPECT_EQ(cls("<?xml version='1.0'?><stream:stream to='a.test'>").error, errc::xmpp_unsupported);
  EXPECT_EQ(cls("<html>").error, errc::unknown_protocol);
}

TEST(Classify, HttpErrorsBecomeReject) {
  struct row {
    const char* in;
    errc e;
  };
  for (const row& r :
       {row{"GET / HTTP/2.0\r\n\r\n", errc::bad_version}, row{"GET /\r\n\r\n", errc::bad_version},
        row{"GET / HTTP/1.1\r\nHost: a.test\r\n x\r\n\r\n", errc::obs_fold},
        row{"GET / HTTP/1.1\r\nHost: a.test\r\nHost: b.test\r\n\r\n", errc::duplicate_host},
        row{"CONNECT a.test HTTP/1.1\r\n\r\n", errc::bad_connect_target},
        row{"CONNECT a.test:0 HTTP/1.1\r\n\r\n", errc::bad_connect_target},
        row{"CONNECT a.test:65536 HTTP/1.1\r\n\r\n", errc::bad_connect_target}}) {
    SCOPED_TRACE(r.in);
    const classification c = cls(r.in);
    EXPECT_EQ(c.what, kind::reject);
    EXPECT_EQ(c.error, r.e);
  }
  const std::string nul("GET / HTTP/1.1\r\nX: \0\r\n\r\n", 24);
  EXPECT_EQ(cls(nul).error, errc::bad_header_value);
  classify_limits small;
  small.http.max_head_bytes = 20;
  EXPECT_EQ(cls("GET / HTTP/1.1\r\nHost: a.test\r\n\r\n", small).error, errc::head_too_large);
}

TEST(Classify, PingFastPathAndFullHead) {
  // Without the blank line: decided by the peek.
  EXPECT_EQ(cls("GET /ping HTTP/1.1\r\nHost: ping.pagekite\r\n").what, kind::ping);
  EXPECT_EQ(cls("GET /ping HTTP/1.1\nHost: ping.pagekite\n").what, kind::ping);
  EXPECT_EQ(cls("GET /ping HTTP/1.1\r\nHost: ping.pagekite").what, kind::need_more);
  // Host line beyond the 64-byte peek: only the complete head decides.
  const std::string long_target = "GET /" + std::string(60, 'p') + " HTTP/1.1\r\n";
  EXPECT_EQ(cls(long_target + "Host: ping.pagekite\r\n").what, kind::need_more);
  EXPECT_EQ(cls(long_target + "Host: ping.pagekite\r\n\r\n").what, kind::ping);
  // Other spellings count once the head is complete (Host is case-insensitive, port removed).
  EXPECT_EQ(cls("HEAD /ping HTTP/1.1\r\nhost: PING.pagekite:80\r\n").what, kind::need_more);
  EXPECT_EQ(cls("HEAD /ping HTTP/1.1\r\nhost: PING.pagekite:80\r\n\r\n").what, kind::ping);
  // A longer name is an ordinary visitor.
  const classification v = cls("GET / HTTP/1.1\r\nHost: ping.pagekite.example\r\n\r\n");
  EXPECT_EQ(v.what, kind::visitor_http);
  EXPECT_EQ(v.host, "ping.pagekite.example");
  // An earlier header error wins over the peek, whatever the split.
  const std::string bad = "GET / HTTP/1.1\r\nBad Header\r\nHost: ping.pagekite\r\n\r\n";
  EXPECT_EQ(cls(bad).error, errc::bad_header_line);
  expect_prefix_stable(bad, bad.find("Bad Header") + 12);
  // A later error does not: the ping reply does not read the rest.
  const std::string later = "HEAD /ping HTTP/1.1\r\nHost: ping.pagekite\r\n x\r\n\r\n";
  EXPECT_EQ(cls(later).what, kind::ping);
  expect_prefix_stable(later, later.find("pagekite\r\n") + 10);
}

TEST(Classify, HttpFlags) {
  const std::string ping_method = "PING /foo HTTP/1.1\r\nHost: k.test\r\n\r\n";
  const classification p = cls(ping_method);
  EXPECT_EQ(p.what, kind::visitor_http);
  EXPECT_TRUE(p.ping_method);
  EXPECT_EQ(p.method, "PING");
  const classification w =
      cls("GET /chat HTTP/1.1\r\nHost: K.Test:8080\r\nUpgrade: websocket\r\n"
          "Connection: Upgrade\r\n\r\n");
  EXPECT_EQ(w.what, kind::visitor_http);
  EXPECT_TRUE(w.websocket);
  EXPECT_EQ(w.host, "k.test");
  EXPECT_EQ(w.port, 8080);
  const classification no_host = cls("GET / HTTP/1.0\r\n\r\n");
  EXPECT_EQ(no_host.what, kind::visitor_http);
  EXPECT_FALSE(no_host.has_host);
  EXPECT_TRUE(no_host.host.empty());
  const classification embedded = cls("GET / HTTP/1.1\r\nHost: 0x0a000001--k.test\r\n\r\n");
  EXPECT_EQ(embedded.host, "k.test");
}

TEST(Classify, EmptyInputNeedsMore) { EXPECT_EQ(cls("").what, kind::need_more); }

}  // namespace
}  // namespace kiteline::sniff
