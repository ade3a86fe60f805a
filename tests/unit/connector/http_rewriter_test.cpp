// Unit tests for connector::http_rewriter: header injection (§7.3), framing, +password (§7.2).
#include "connector/http_rewriter.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace kiteline::connector {
namespace {

using namespace std::string_literals;

struct run_result {
  std::string out;
  rewrite_verdict verdict = rewrite_verdict::pass;
  bool passing_through = false;
  std::uint64_t requests = 0;
  std::string reply;    // error_reply()
  std::string reason;   // refusal_reason()
  std::string refused;  // refused_request()
};

std::span<const std::byte> bytes(std::string_view s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

std::string text(const std::vector<std::byte>& v) {
  return {reinterpret_cast<const char*>(v.data()), v.size()};
}

/// Feeds `in` cut at the given positions (ascending) and returns everything emitted.
run_result run_cuts(const rewrite_options& opts, std::string_view in,
                    const std::vector<std::size_t>& cuts) {
  http_rewriter rw(opts);
  std::vector<std::byte> out;
  run_result r;
  std::size_t pos = 0;
  for (std::size_t c : cuts) {
    r.verdict = rw.feed(bytes(in.substr(pos, c - pos)), out);
    pos = c;
  }
  r.verdict = rw.feed(bytes(in.substr(pos)), out);
  r.out = text(out);
  r.passing_through = rw.passing_through();
  r.requests = rw.requests();
  r.reply = rw.error_reply();
  r.reason = rw.refusal_reason();
  r.refused = rw.refused_request();
  return r;
}

run_result run(const rewrite_options& opts, std::string_view in) { return run_cuts(opts, in, {}); }

run_result run_bytewise(const rewrite_options& opts, std::string_view in) {
  std::vector<std::size_t> cuts;
  for (std::size_t i = 1; i < in.size(); ++i) {
    cuts.push_back(i);
  }
  return run_cuts(opts, in, cuts);
}

/// Every 2-piece split and the byte-by-byte feed give the one-piece result.
void expect_split_invariant(const rewrite_options& opts, std::string_view in) {
  const run_result whole = run(opts, in);
  for (std::size_t i = 0; i <= in.size(); ++i) {
    const run_result split = run_cuts(opts, in, {i});
    ASSERT_EQ(split.out, whole.out) << "split at " << i;
    ASSERT_EQ(split.verdict, whole.verdict) << "split at " << i;
    ASSERT_EQ(split.passing_through, whole.passing_through) << "split at " << i;
    ASSERT_EQ(split.requests, whole.requests) << "split at " << i;
    ASSERT_EQ(split.reason, whole.reason) << "split at " << i;
  }
  const run_result bytewise = run_bytewise(opts, in);
  ASSERT_EQ(bytewise.out, whole.out);
  ASSERT_EQ(bytewise.verdict, whole.verdict);
  ASSERT_EQ(bytewise.requests, whole.requests);
}

rewrite_options base_options() {
  rewrite_options o;
  o.rip = "127.0.0.1";
  o.port = 27080;
  return o;
}

constexpr std::string_view curl_get =
    "GET / HTTP/1.1\r\nHost: foo.test\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n";
constexpr std::string_view injected =
    "X-Forwarded-For: 127.0.0.1\r\nX-Forwarded-Proto: http\r\nX-PageKite-Port: 27080\r\n";

std::string rewritten(std::string_view request_line_crlf, std::string_view rest) {
  return std::string(request_line_crlf) + std::string(injected) + std::string(rest);
}

// The request of vectors/pagekite-py/nozchunks/01-handshake-get.tunnel2.txt, and the origin's
// view that spec §7.3 "Captured" shows for pagekite.py.
TEST(http_rewriter, curl_get_exact_bytes) {
  const run_result r = run(base_options(), curl_get);
  EXPECT_EQ(r.verdict, rewrite_verdict::pass);
  EXPECT_EQ(r.out,
            "GET / HTTP/1.1\r\n"
            "X-Forwarded-For: 127.0.0.1\r\n"
            "X-Forwarded-Proto: http\r\n"
            "X-PageKite-Port: 27080\r\n"
            "Host: foo.test\r\n"
            "User-Agent: curl/7.88.1\r\n"
            "Accept: */*\r\n"
            "\r\n");
  EXPECT_EQ(r.requests, 1u);
  EXPECT_FALSE(r.passing_through);
  expect_split_invariant(base_options(), curl_get);
}

TEST(http_rewriter, incomplete_head_emits_nothing_yet) {
  http_rewriter rw(base_options());
  std::vector<std::byte> out;
  EXPECT_EQ(rw.feed(bytes("GET / HTTP/1.1\r\nHost: a\r\n"), out), rewrite_verdict::pass);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(rw.feed(bytes("\r\n"), out), rewrite_verdict::pass);
  EXPECT_EQ(text(out), rewritten("GET / HTTP/1.1\r\n", "Host: a\r\n\r\n"));
}

TEST(http_rewriter, keep_alive_pipelining_of_three_requests) {
  const std::string in =
      "GET /a HTTP/1.1\r\nHost: k\r\n\r\n"
      "HEAD /b HTTP/1.1\r\nHost: k\r\n\r\n"
      "GET /c?x=1 HTTP/1.1\r\nHost: k\r\nConnection: close\r\n\r\n";
  const run_result r = run(base_options(), in);
  EXPECT_EQ(r.out,
            rewritten("GET /a HTTP/1.1\r\n", "Host: k\r\n\r\n") +
                rewritten("HEAD /b HTTP/1.1\r\n", "Host: k\r\n\r\n") +
                rewritten("GET /c?x=1 HTTP/1.1\r\n", "Host: k\r\nConnection: close\r\n\r\n"));
  EXPECT_EQ(r.requests, 3u);
  expect_split_invariant(base_options(), in);
}

TEST(http_rewriter, content_length_body_is_never_rewritten) {
  const std::string body = "GET / HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 6.6.6.6\r\n\r\n";
  const std::string in =
      "POST /upload HTTP/1.1\r\nHost: k\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\n\r\n" + body + "GET /next HTTP/1.1\r\nHost: k\r\n\r\n";
  const run_result r = run(base_options(), in);
  EXPECT_EQ(r.out,
            rewritten("POST /upload HTTP/1.1\r\n",
                      "Host: k\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n") +
                body + rewritten("GET /next HTTP/1.1\r\n", "Host: k\r\n\r\n"));
  EXPECT_EQ(r.requests, 2u);
  expect_split_invariant(base_options(), in);
}

TEST(http_rewriter, chunked_body_and_trailers_are_never_rewritten) {
  const std::string fake = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  const std::string chunked_body = "1b;name=value\r\n" + fake + "\r\n" +  // 0x1b = 27 bytes
                                   "5\r\nhello\r\n"
                                   "0\r\n"
                                   "X-Forwarded-For: 6.6.6.6\r\n"  // a trailer, untouched
                                   "\r\n";
  ASSERT_EQ(fake.size(), 0x1bu);
  const std::string in = "POST /p HTTP/1.1\r\nHost: k\r\nTransfer-Encoding: chunked\r\n\r\n" +
                         chunked_body + "GET /next HTTP/1.1\r\nHost: k\r\n\r\n";
  const run_result r = run(base_options(), in);
  EXPECT_EQ(r.out,
            rewritten("POST /p HTTP/1.1\r\n", "Host: k\r\nTransfer-Encoding: chunked\r\n\r\n") +
                chunked_body + rewritten("GET /next HTTP/1.1\r\n", "Host: k\r\n\r\n"));
  EXPECT_EQ(r.requests, 2u);
  EXPECT_FALSE(r.passing_through);
  expect_split_invariant(base_options(), in);
}

TEST(http_rewriter, chunked_with_gzip_then_chunked_and_uppercase_hex) {
  const std::string in =
      "PUT /p HTTP/1.1\r\nHost: k\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n"
      "A\r\n0123456789\r\n0\r\n\r\nGET / HTTP/1.1\r\n\r\n";
  const run_result r = run(base_options(), in);
  EXPECT_EQ(r.requests, 2u);
  EXPECT_EQ(r.out, rewritten("PUT /p HTTP/1.1\r\n",
                             "Host: k\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n"
                             "A\r\n0123456789\r\n0\r\n\r\n") +
                       rewritten("GET / HTTP/1.1\r\n", "\r\n"));
}

TEST(http_rewriter, spoofed_forwarding_headers_are_renamed) {
  const std::string in =
      "GET / HTTP/1.1\r\n"
      "Host: k\r\n"
      "X-Forwarded-For: 6.6.6.6\r\n"
      "x-forwarded-proto: https\r\n"
      "X-Forwarded-Port: 443\r\n"
      "X-PageKite-For: 1.1.1.1\r\n"
      "X-PAGEKITE-PROTO: x\r\n"
      "X-PageKite-Port:1\r\n"
      "X-Forwarded-Host: kept\r\n"
      "X-Forwarded-Foreign: kept\r\n"
      "\r\n";
  const run_result r = run(base_options(), in);
  EXPECT_EQ(r.out, rewritten("GET / HTTP/1.1\r\n",
                             "Host: k\r\n"
                             "X-Old-X-Forwarded-For: 6.6.6.6\r\n"
                             "X-Old-x-forwarded-proto: https\r\n"
                             "X-Old-X-Forwarded-Port: 443\r\n"
                             "X-Old-X-PageKite-For: 1.1.1.1\r\n"
                             "X-Old-X-PAGEKITE-PROTO: x\r\n"
                             "X-Old-X-PageKite-Port:1\r\n"
                             "X-Forwarded-Host: kept\r\n"
                             "X-Forwarded-Foreign: kept\r\n"
                             "\r\n"));
  expect_split_invariant(base_options(), in);
}

TEST(http_rewriter, rewritehost_adds_host_and_renames_the_original) {
  rewrite_options o = base_options();
  o.rewrite_host = "localhost:8080";
  const std::string in = "GET / HTTP/1.1\r\nhost: public.example\r\nAccept: */*\r\n\r\n";
  const run_result r = run(o, in);
  EXPECT_EQ(r.out,
            "GET / HTTP/1.1\r\n"
            "X-Forwarded-For: 127.0.0.1\r\n"
            "X-Forwarded-Proto: http\r\n"
            "X-PageKite-Port: 27080\r\n"
            "Host: localhost:8080\r\n"
            "X-Old-host: public.example\r\n"
            "Accept: */*\r\n"
            "\r\n");
  expect_split_invariant(o, in);
}

TEST(http_rewriter, rtls_gives_https_and_rip_is_verbatim) {
  rewrite_options o;
  o.rip = "::ffff:1.2.3.4";
  o.rtls = true;
  o.port = 443;
  const run_result r = run(o, "GET / HTTP/1.0\r\n\r\n");
  EXPECT_EQ(r.out,
            "GET / HTTP/1.0\r\n"
            "X-Forwarded-For: ::ffff:1.2.3.4\r\n"
            "X-Forwarded-Proto: https\r\n"
            "X-PageKite-Port: 443\r\n"
            "\r\n");
}

TEST(http_rewriter, injected_values_cannot_inject_lines) {
  rewrite_options o = base_options();
  o.rip = "1.2.3.4\r\nX-Evil: 1";
  o.rewrite_host = "h\nX-Evil: 2";
  const run_result r = run(o, "GET / HTTP/1.1\r\n\r\n");
  EXPECT_EQ(r.out.find("\r\nX-Evil"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("X-Forwarded-For: 1.2.3.4X-Evil: 1\r\n"), std::string::npos) << r.out;
}

TEST(http_rewriter, bare_lf_line_endings_are_preserved) {
  const std::string in = "GET / HTTP/1.1\nHost: k\n\nGET /2 HTTP/1.1\r\nHost: k\n\r\n";
  const run_result r = run(base_options(), in);
  EXPECT_EQ(r.out,
            "GET / HTTP/1.1\n"
            "X-Forwarded-For: 127.0.0.1\nX-Forwarded-Proto: http\nX-PageKite-Port: 27080\n"
            "Host: k\n\n" +
                rewritten("GET /2 HTTP/1.1\r\n", "Host: k\n\r\n"));
  EXPECT_EQ(r.requests, 2u);
  expect_split_invariant(base_options(), in);
}

TEST(http_rewriter, empty_lines_before_a_request_pass_through) {
  const std::string in = "\r\n\nGET / HTTP/1.1\r\n\r\n";
  const run_result r = run(base_options(), in);
  EXPECT_EQ(r.out, "\r\n\n" + rewritten("GET / HTTP/1.1\r\n", "\r\n"));
  expect_split_invariant(base_options(), in);
}

TEST(http_rewriter, rawheaders_adds_and_renames_nothing) {
  rewrite_options o = base_options();
  o.raw_headers = true;
  o.rewrite_host = "other";
  const std::string in = "GET / HTTP/1.1\r\nHost: k\r\nX-Forwarded-For: 6.6.6.6\r\n\r\n";
  const run_result r = run(o, in);
  EXPECT_EQ(r.out, in);
  EXPECT_EQ(r.requests, 1u);
}

TEST(http_rewriter, upgrade_request_then_everything_verbatim) {
  const std::string head =
      "GET /ws HTTP/1.1\r\nHost: k\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
  const std::string after =
      std::string("\x81\x05hello", 7) + "GET / HTTP/1.1\r\nX-Forwarded-For: 6\r\n\r\n";
  const std::string in = head + after;
  const run_result r = run(base_options(), in);
  EXPECT_EQ(r.out, rewritten("GET /ws HTTP/1.1\r\n", head.substr(head.find("\r\n") + 2)) + after);
  EXPECT_TRUE(r.passing_through);
  EXPECT_EQ(r.requests, 1u);
  expect_split_invariant(base_options(), in);
}

TEST(http_rewriter, connect_request_then_everything_verbatim) {
  const std::string in = "CONNECT db:5432 HTTP/1.1\r\nHost: db:5432\r\n\r\nGET / HTTP/1.1\r\n\r\n";
  const run_result r = run(base_options(), in);
  EXPECT_EQ(r.out, rewritten("CONNECT db:5432 HTTP/1.1\r\n", "Host: db:5432\r\n\r\n") +
                       "GET / HTTP/1.1\r\n\r\n");
  EXPECT_TRUE(r.passing_through);
}

// Was oversized_head_passes_through_verbatim_from_then_on: an oversized head now ends the stream.
TEST(http_rewriter, oversized_head_is_refused_with_431_and_nothing_is_forwarded) {
  std::string in = "GET / HTTP/1.1\r\nHost: k\r\nX-Big: " + std::string(70 * 1024, 'a') +
                   "\r\nX-Forwarded-For: 6.6.6.6\r\n\r\nGET /2 HTTP/1.1\r\n\r\n";
  const run_result r = run(base_options(), in);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.verdict, rewrite_verdict::head_too_large);
  EXPECT_EQ(r.reason, "request head over 65536 bytes");
  EXPECT_TRUE(r.reply.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n")) << r.reply;
  EXPECT_FALSE(r.passing_through);
  EXPECT_EQ(r.requests, 0u);
  // The cap is exact: a head of max_head bytes is rewritten, one byte more is refused.
  const std::string small = "GET / HTTP/1.1\r\nA: b\r\n\r\n";
  rewrite_options o = base_options();
  o.max_head = small.size();
  EXPECT_EQ(run(o, small).requests, 1u);
  EXPECT_EQ(run(o, small).verdict, rewrite_verdict::pass);
  // A request before the oversized one was forwarded; nothing of the oversized one is.
  const run_result second = run(o, small + "GET / HTTP/1.1\r\nA: bc\r\n\r\n");
  EXPECT_EQ(second.out, rewritten("GET / HTTP/1.1\r\n", "A: b\r\n\r\n"));
  EXPECT_EQ(second.verdict, rewrite_verdict::head_too_large);
  o.max_head = small.size() - 1;
  EXPECT_EQ(run(o, small).out, "");
  EXPECT_EQ(run(o, small).verdict, rewrite_verdict::head_too_large);
  expect_split_invariant(o, small + "GET / HTTP/1.1\r\n\r\n");
}

// Was malformed_heads_pass_through_verbatim: such heads now end the stream with 400, and the
// pipelined request after them (with a spoofed X-Forwarded-For) never reaches the origin.
TEST(http_rewriter, malformed_heads_are_refused_with_400_and_nothing_after_them_is_forwarded) {
  const std::vector<std::pair<std::string, std::string>> heads = {
      {"GET / HTTP/1.1\r\nHost: k\r\n folded\r\n\r\n",
       "obs-fold (a header line starting with a space or tab)"},
      {"GET / HTTP/1.1\r\nHost: k\r\n\tfolded\r\n\r\n",
       "obs-fold (a header line starting with a space or tab)"},
      {"GET / HTTP/1.1\r\nHost : k\r\n\r\n", "bad header name"},
      {"GET / HTTP/1.1\r\n: k\r\n\r\n", "bad header name"},
      {"GET / HTTP/1.1\r\nno colon\r\n\r\n", "header line without a colon"},
      {"GET / HTTP/2.0\r\n\r\n", "HTTP version other than 1.x"},
      {"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "HTTP version other than 1.x"},
      {"GET  / HTTP/1.1\r\n\r\n", "bad request line"},
      {"GET /\r\n\r\n", "bad request line"},
      {"GET / HTTP/1.10\r\n\r\n", "bad request line"},
      {"GET / http/1.1\r\n\r\n", "bad request line"},
      {"G(T / HTTP/1.1\r\n\r\n", "bad request line"},
      {"GET /a\x01 HTTP/1.1\r\n\r\n", "bad request line"},
      {"GET / HTTP/1.1\r\nA: b\rc\r\n\r\n", "CR or NUL inside a header line"},
      {"GET / HTTP/1.1\r\nA: b\r\r\n\r\n", "CR or NUL inside a header line"},
      {"GET / HTTP/1.1\r\nA: b\0c\r\n\r\n"s, "CR or NUL inside a header line"},
      {"POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
       "conflicting Content-Length values"},
      {"POST / HTTP/1.1\r\nContent-Length: 5, 6\r\n\r\n", "bad Content-Length"},
      {"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", "bad Content-Length"},
      {"POST / HTTP/1.1\r\nContent-Length: \r\n\r\n", "bad Content-Length"},
      {"POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n", "bad Content-Length"},
      {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
       "Transfer-Encoding with Content-Length"},
      {"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
       "final transfer coding is not chunked"},
      {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
       "a transfer coding after chunked"},
      {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n",
       "a transfer coding after chunked"},
  };
  const std::string first = "GET /first HTTP/1.1\r\nHost: k\r\n\r\n";
  const std::string spoof = "GET / HTTP/1.1\r\nX-Forwarded-For: 6.6.6.6\r\n\r\n";
  for (const auto& [h, reason] : heads) {
    const std::string in = first + h + spoof;
    const run_result r = run(base_options(), in);
    EXPECT_EQ(r.out, rewritten("GET /first HTTP/1.1\r\n", "Host: k\r\n\r\n")) << h;
    EXPECT_EQ(r.verdict, rewrite_verdict::bad_request) << h;
    EXPECT_EQ(r.reason, reason) << h;
    EXPECT_TRUE(r.reply.starts_with("HTTP/1.1 400 Bad Request\r\n")) << h;
    EXPECT_FALSE(r.passing_through) << h;
    EXPECT_EQ(r.requests, 1u) << h;
    expect_split_invariant(base_options(), in);
  }
}

TEST(http_rewriter, equal_repeated_content_lengths_are_accepted) {
  const std::string in =
      "POST / HTTP/1.1\r\nContent-Length: 3, 3\r\nContent-Length: 3\r\n\r\nabcGET / "
      "HTTP/1.1\r\n\r\n";
  const run_result r = run(base_options(), in);
  EXPECT_EQ(r.requests, 2u);
  EXPECT_FALSE(r.passing_through);
}

// Was malformed_chunk_framing_stops_rewriting (pass-through from the bad framing on): now the
// stream ends with 400; the checked framing before the fault was forwarded, nothing after it.
TEST(http_rewriter, malformed_chunk_framing_is_refused_with_400) {
  struct chunk_case {
    std::string body;       // after the head
    std::string forwarded;  // the part of `body` the origin gets
    std::string reason;
  };
  const std::vector<chunk_case> cases = {
      {"x\r\n", "", "bad chunk-size line"},
      {"3\r\nabcX\r\n", "3\r\nabc", "no line end after chunk data"},
      {"3\r\nabc\rX", "3\r\nabc", "no line end after chunk data"},
      {"11111111111111111\r\n", "", "bad chunk-size line"},
      {"3 junk\r\nabc\r\n0\r\n\r\n", "", "bad chunk-size line"},
      {"\r\n", "", "bad chunk-size line"},
      {"3;" + std::string(5000, 'e') + "\r\n", "", "chunk-size line over 4 KiB"},
      {"1\r\na\r\n0\r\nno colon\r\n\r\n", "1\r\na\r\n0\r\n",
       "trailer: header line without a colon"},
      {"0\r\nT: v\r\n folded\r\n\r\n", "0\r\nT: v\r\n",
       "trailer: obs-fold (a header line starting with a space or tab)"},
  };
  const std::string head = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (const chunk_case& c : cases) {
    const std::string in = head + c.body + "GET / HTTP/1.1\r\n\r\n";
    const run_result r = run(base_options(), in);
    EXPECT_EQ(r.verdict, rewrite_verdict::bad_request) << c.body;
    EXPECT_EQ(r.reason, c.reason) << c.body;
    EXPECT_FALSE(r.passing_through) << c.body;
    EXPECT_EQ(r.requests, 1u) << c.body;
    EXPECT_EQ(r.out,
              rewritten("POST / HTTP/1.1\r\n", "Transfer-Encoding: chunked\r\n\r\n") + c.forwarded)
        << c.body;
    expect_split_invariant(base_options(), in);
  }
  // A trailer section over max_head: 431.
  rewrite_options o = base_options();
  o.max_head = 64;
  const std::string big = head + "0\r\nT: " + std::string(80, 'v') + "\r\n\r\n";
  const run_result r = run(o, big);
  EXPECT_EQ(r.verdict, rewrite_verdict::head_too_large);
  EXPECT_EQ(r.reason, "trailer section over 64 bytes");
  expect_split_invariant(o, big);
}

std::string basic(std::string_view user_colon_pass_b64) {
  return "GET /secret HTTP/1.1\r\nHost: k\r\nAuthorization: " + std::string(user_colon_pass_b64) +
         "\r\n\r\n";
}

rewrite_options password_options() {
  rewrite_options o = base_options();
  o.passwords = {{"alice", "s3cret"}, {"bob", "pa:ss"}};
  o.kite_name = "k<b>.example";
  o.uuid = "abc123";
  return o;
}

TEST(http_rewriter, password_ok_passes_and_is_rewritten) {
  // alice:s3cret, bob:pa:ss (a ':' in the password is kept).
  for (const std::string cred : {"Basic YWxpY2U6czNjcmV0", "basic   Ym9iOnBhOnNz"}) {
    const std::string in = basic(cred) + "GET /2 HTTP/1.1\r\n\r\n";  // later requests unchecked
    const run_result r = run(password_options(), in);
    EXPECT_EQ(r.verdict, rewrite_verdict::pass) << cred;
    EXPECT_EQ(r.requests, 2u);
    EXPECT_EQ(r.out, rewritten("GET /secret HTTP/1.1\r\n",
                               "Host: k\r\nAuthorization: " + cred + "\r\n\r\n") +
                         rewritten("GET /2 HTTP/1.1\r\n", "\r\n"));
    expect_split_invariant(password_options(), in);
  }
}

TEST(http_rewriter, password_missing_or_wrong_is_unauthorized) {
  const std::vector<std::string> requests = {
      "GET / HTTP/1.1\r\nHost: k\r\n\r\n",  // missing
      basic("Basic YWxpY2U6d3Jvbmc="),      // alice:wrong
      basic("Basic bWFsbG9yeTpzM2NyZXQ="),  // mallory:s3cret
      basic("Basic YWxpY2U6czNjcmV0Cg=="),  // alice:s3cret\n
      basic("Basic YWxpY2U="),              // alice (no colon)
      basic("Bearer YWxpY2U6czNjcmV0"),     // wrong scheme
      basic("Basic YWxpY2U6czNjcmV0!"),     // not base64
      basic("Basic"),                       // no credentials
      "GET / HTTP/1.1\r\nHost: k\r\n folded\r\nAuthorization: Basic YWxpY2U6czNjcmV0\r\n\r\n",
      "\r\nGET / HTTP/1.1\r\nX: " + std::string(70 * 1024, 'x') + "\r\n\r\n",  // oversized
  };
  for (const std::string& req : requests) {
    const std::string in = req + basic("Basic YWxpY2U6czNjcmV0");  // a good second try
    http_rewriter rw(password_options());
    std::vector<std::byte> out;
    EXPECT_EQ(rw.feed(bytes(in), out), rewrite_verdict::unauthorized) << req.substr(0, 80);
    EXPECT_TRUE(out.empty()) << req.substr(0, 80);
    EXPECT_EQ(rw.feed(bytes("GET / HTTP/1.1\r\n\r\n"), out), rewrite_verdict::unauthorized);
    EXPECT_TRUE(out.empty());
    EXPECT_EQ(rw.feed({}, out), rewrite_verdict::unauthorized);
  }
  expect_split_invariant(password_options(), basic("Basic YWxpY2U6d3Jvbmc="));
}

TEST(http_rewriter, password_check_waits_for_the_whole_head) {
  http_rewriter rw(password_options());
  std::vector<std::byte> out;
  EXPECT_EQ(rw.feed(bytes("\r\nGET / HTTP/1.1\r\nAuthorization: Basic YWxp"), out),
            rewrite_verdict::pass);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(rw.feed(bytes("Y2U6czNjcmV0\r\n\r\nbody"), out), rewrite_verdict::pass);
  // The leading empty line is dropped while the check is pending; "body" is the next head.
  EXPECT_EQ(text(out),
            rewritten("GET / HTTP/1.1\r\n", "Authorization: Basic YWxpY2U6czNjcmV0\r\n\r\n"));
}

TEST(http_rewriter, error_reply_is_a_pagekite_style_401_page) {
  const http_rewriter rw(password_options());
  const std::string_view reply = rw.error_reply();
  EXPECT_TRUE(
      reply.starts_with("HTTP/1.1 401 Unauthorized\r\n"
                        "X-PageKite-UUID: abc123\r\n"
                        "WWW-Authenticate: Basic realm=PageKite\r\n"
                        "Content-Type: text/html; charset=utf-8\r\n"
                        "Pragma: no-cache\r\n"
                        "Expires: 0\r\n"
                        "Cache-Control: no-store\r\n"
                        "Connection: close\r\n"
                        "\r\n"
                        "<html><body><h1>Sorry! (be)</h1>"))
      << reply;
  EXPECT_NE(reply.find("<b>k&lt;b&gt;.example</b>"), std::string_view::npos) << reply;
  EXPECT_TRUE(reply.ends_with("</body></html>\n"));
  EXPECT_EQ(reply.find("Content-Length"), std::string_view::npos);
}

// A mixed stream through every state, for the split-point contract.
TEST(http_rewriter, every_split_point_of_a_mixed_stream) {
  const std::string in =
      "\r\nGET / HTTP/1.1\r\nHost: k\r\nX-Forwarded-For: 6\r\n\r\n"
      "POST /a HTTP/1.1\r\nContent-Length: 10\r\n\r\nGET / HTTP"
      "POST /b HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
      "4;x=y\r\nGET \r\n3\nabc\n0\r\nT: v\r\n\r\n"
      "GET /c HTTP/1.1\nHost: k\n\n"
      "GET /ws HTTP/1.1\r\nUpgrade: websocket\r\n\r\nGET / HTTP/1.1\r\n\r\n";
  const run_result r = run(base_options(), in);
  EXPECT_EQ(r.requests, 5u);
  EXPECT_TRUE(r.passing_through);
  expect_split_invariant(base_options(), in);
}

// --- the request firewall (§7.3 item 4) and every request going through the checks --------

rewrite_options firewall_options() {
  rewrite_options o = base_options();
  o.kite_name = "foo.test";
  o.uuid = "abc123";
  return o;
}

std::string get(std::string_view target) {
  return "GET " + std::string(target) + " HTTP/1.1\r\nHost: foo.test\r\n\r\n";
}

// The five requests of the hardening issue's row 6.
const std::vector<std::pair<std::string, firewall_rule>> row6 = {
    {"/server-status", firewall_rule::server_status}, {"/wp-config.php", firewall_rule::wp_config},
    {"/x/../../etc/passwd", firewall_rule::dot_dot},  {"/wp-admin/", firewall_rule::wp_admin},
    {"/phpmyadmin/", firewall_rule::db_admin},
};

TEST(http_rewriter, firewall_refuses_with_pagekite_500_page_and_forwards_nothing) {
  for (const auto& [target, rule] : row6) {
    http_rewriter rw(firewall_options());
    std::vector<std::byte> out;
    EXPECT_EQ(rw.feed(bytes(get(target)), out), rewrite_verdict::blocked) << target;
    EXPECT_TRUE(out.empty()) << target;
    EXPECT_EQ(rw.blocked_rule(), rule) << target;
    EXPECT_EQ(rw.refusal_reason(), firewall_rule_name(rule));
    EXPECT_EQ(rw.refused_request(), "GET " + target);
    EXPECT_EQ(rw.requests(), 0u);
    EXPECT_EQ(rw.error_reply(),
              "HTTP/1.1 500 Unavailable\r\n"
              "X-PageKite-UUID: abc123\r\n"
              "Content-Type: text/html; charset=utf-8\r\n"
              "Pragma: no-cache\r\n"
              "Expires: 0\r\n"
              "Cache-Control: no-store\r\n"
              "Connection: close\r\n"
              "\r\n"
              "<html><body><h1>Sorry! (be)</h1><p>The HTTP <a href=\"https://pagekite.net/\"><i>"
              "PageKite</i></a> for <b>foo.test</b> is unavailable at the moment.</p><p>Please "
              "try again later.</p><!--  --></body></html>\n");
    // Final: nothing more is forwarded, whatever follows.
    EXPECT_EQ(rw.feed(bytes(get("/")), out), rewrite_verdict::blocked);
    EXPECT_EQ(rw.feed({}, out), rewrite_verdict::blocked);
    EXPECT_TRUE(out.empty());
    expect_split_invariant(firewall_options(), get(target) + get("/"));
  }
}

TEST(http_rewriter, firewall_checks_five_methods_only) {
  for (std::string_view m : {"GET", "POST", "PUT", "PATCH", "DELETE", "get", "Delete"}) {
    const std::string in = std::string(m) + " /wp-admin/ HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc";
    const run_result r = run(firewall_options(), in);
    EXPECT_EQ(r.verdict, rewrite_verdict::blocked) << m;
    EXPECT_EQ(r.out, "") << m;  // not even the body
  }
  for (std::string_view m : {"HEAD", "OPTIONS", "PROPFIND", "TRACE"}) {
    const std::string in = std::string(m) + " /wp-admin/ HTTP/1.1\r\n\r\n";
    const run_result r = run(firewall_options(), in);
    EXPECT_EQ(r.verdict, rewrite_verdict::pass) << m;
    EXPECT_EQ(r.out, rewritten(std::string(m) + " /wp-admin/ HTTP/1.1\r\n", "\r\n")) << m;
  }
}

TEST(http_rewriter, firewall_keeps_pagekite_exceptions_and_case_rules) {
  for (std::string_view allowed : {"/wp-admin/admin-ajax", "/wp-admin/css/colors.css", "/a..b",
                                   "/a/server-status", "/index.php", "/phpmy"}) {
    const run_result r = run(firewall_options(), get(allowed));
    EXPECT_EQ(r.verdict, rewrite_verdict::pass) << allowed;
    EXPECT_EQ(r.requests, 1u) << allowed;
  }
  for (std::string_view blocked :
       {"/WP-ADMIN/", "/Server-Status", "/PhpMyAdmin/", "/wp-admin/admin-ajax.php", "//admin"}) {
    EXPECT_EQ(run(firewall_options(), get(blocked)).verdict, rewrite_verdict::blocked) << blocked;
  }
}

TEST(http_rewriter, insecure_turns_the_firewall_off) {
  rewrite_options o = firewall_options();
  o.insecure = true;
  for (const auto& entry : row6) {
    const std::string& target = entry.first;
    const run_result r = run(o, get(target));
    EXPECT_EQ(r.verdict, rewrite_verdict::pass) << target;
    EXPECT_EQ(r.out, rewritten("GET " + target + " HTTP/1.1\r\n", "Host: foo.test\r\n\r\n"));
  }
  // Malformed heads are refused with or without the firewall.
  EXPECT_EQ(run(o, "GET / HTTP/1.1\r\n folded\r\n\r\n").verdict, rewrite_verdict::bad_request);
}

TEST(http_rewriter, a_stream_that_passed_password_is_not_firewalled) {
  const std::string in =
      "GET /wp-admin/ HTTP/1.1\r\nAuthorization: Basic YWxpY2U6czNjcmV0\r\n\r\n" + get("/admin");
  const run_result r = run(password_options(), in);
  EXPECT_EQ(r.verdict, rewrite_verdict::pass);
  EXPECT_EQ(r.requests, 2u);
  // Without credentials it is the 401, not the firewall's 500.
  const run_result no = run(password_options(), get("/wp-admin/"));
  EXPECT_EQ(no.verdict, rewrite_verdict::unauthorized);
  EXPECT_TRUE(no.reply.starts_with("HTTP/1.1 401 Unauthorized\r\n"));
}

TEST(http_rewriter, rawheaders_is_still_firewalled_and_checked) {
  rewrite_options o = firewall_options();
  o.raw_headers = true;
  EXPECT_EQ(run(o, get("/wp-admin/")).verdict, rewrite_verdict::blocked);
  EXPECT_EQ(run(o, "GET / HTTP/1.1\r\nno colon\r\n\r\n").verdict, rewrite_verdict::bad_request);
  EXPECT_EQ(run(o, get("/ok")).out, get("/ok"));
}

TEST(http_rewriter, every_split_point_of_allowed_then_blocked_pipelined_requests) {
  const std::string body = "GET /wp-admin/ HTTP/1.1\r\n\r\n";  // a body: not firewalled
  ASSERT_EQ(body.size(), 27u);
  const std::string in = "POST /form HTTP/1.1\r\nHost: foo.test\r\nContent-Length: 27\r\n\r\n" +
                         body +
                         "GET /ok HTTP/1.1\r\nHost: foo.test\r\n\r\n"
                         "GET /x/../../etc/passwd HTTP/1.1\r\nHost: foo.test\r\n\r\n"
                         "GET /after HTTP/1.1\r\n\r\n";
  const run_result r = run(firewall_options(), in);
  EXPECT_EQ(r.verdict, rewrite_verdict::blocked);
  EXPECT_EQ(r.reason, "/..");
  EXPECT_EQ(r.refused, "GET /x/../../etc/passwd");
  EXPECT_EQ(r.requests, 2u);
  EXPECT_EQ(r.out, rewritten("POST /form HTTP/1.1\r\n",
                             "Host: foo.test\r\nContent-Length: 27\r\n\r\n" + body) +
                       rewritten("GET /ok HTTP/1.1\r\n", "Host: foo.test\r\n\r\n"));
  expect_split_invariant(firewall_options(), in);
}

// Row 7: a malformed header line, then a pipelined request with a spoofed X-Forwarded-For. The
// origin never sees 6.6.6.6 as a live header: the stream ends with 400 at the malformed head.
TEST(http_rewriter, spoofed_header_after_a_malformed_line_never_reaches_the_origin) {
  for (const std::string& before : {""s, get("/first")}) {
    const std::string in = before + "GET / HTTP/1.1\r\nHost: foo.test\r\nbroken line\r\n\r\n" +
                           "GET /2 HTTP/1.1\r\nHost: foo.test\r\nX-Forwarded-For: 6.6.6.6\r\n\r\n";
    const run_result r = run(firewall_options(), in);
    EXPECT_EQ(r.verdict, rewrite_verdict::bad_request);
    EXPECT_EQ(r.reason, "header line without a colon");
    EXPECT_EQ(r.refused, "GET /");
    EXPECT_EQ(r.out.find("6.6.6.6"), std::string::npos) << r.out;
    EXPECT_EQ(r.requests, before.empty() ? 0u : 1u);
    EXPECT_EQ(r.reply,
              "HTTP/1.1 400 Bad Request\r\n"
              "X-PageKite-UUID: abc123\r\n"
              "Content-Type: text/html; charset=utf-8\r\n"
              "Pragma: no-cache\r\n"
              "Expires: 0\r\n"
              "Cache-Control: no-store\r\n"
              "Connection: close\r\n"
              "\r\n"
              "<html><body><h1>400 Bad Request</h1><p>This request for <b>foo.test</b> was not "
              "forwarded: header line without a colon.</p></body></html>\n");
    expect_split_invariant(firewall_options(), in);
  }
}

TEST(http_rewriter, spoofed_forwarding_headers_are_renamed_in_every_pipelined_request) {
  const std::string in =
      "GET /1 HTTP/1.1\r\nHost: k\r\nX-Forwarded-For: 6.6.6.1\r\n\r\n"
      "POST /2 HTTP/1.1\r\nX-Forwarded-For: 6.6.6.2\r\nContent-Length: 2\r\n\r\nok"
      "GET /3 HTTP/1.1\r\nx-forwarded-for: 6.6.6.3\r\nX-PageKite-Port: 1\r\n\r\n";
  const run_result r = run(firewall_options(), in);
  EXPECT_EQ(r.verdict, rewrite_verdict::pass);
  EXPECT_EQ(r.requests, 3u);
  EXPECT_EQ(r.out,
            rewritten("GET /1 HTTP/1.1\r\n", "Host: k\r\nX-Old-X-Forwarded-For: 6.6.6.1\r\n\r\n") +
                rewritten("POST /2 HTTP/1.1\r\n",
                          "X-Old-X-Forwarded-For: 6.6.6.2\r\nContent-Length: 2\r\n\r\nok") +
                rewritten("GET /3 HTTP/1.1\r\n",
                          "X-Old-x-forwarded-for: 6.6.6.3\r\nX-Old-X-PageKite-Port: 1\r\n\r\n"));
  expect_split_invariant(firewall_options(), in);
}

TEST(http_rewriter, refused_request_is_cut_for_logs) {
  const std::string target = "/wp-admin/" + std::string(1000, 'a');
  const run_result r = run(firewall_options(), get(target));
  EXPECT_EQ(r.verdict, rewrite_verdict::blocked);
  EXPECT_EQ(r.refused, ("GET " + target).substr(0, 256));
  // Nothing is remembered for requests that pass.
  EXPECT_EQ(run(firewall_options(), get("/fine")).refused, "");
  EXPECT_EQ(run(firewall_options(), get("/fine")).reason, "");
}

}  // namespace
}  // namespace kiteline::connector
