// Handshake request/response, kite lines, in-tunnel rounds and head scanning (spec §4).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "wire/handshake.hpp"
#include "wire/head.hpp"
#include "wire/kite_auth.hpp"

namespace kiteline::wire {
namespace {

// The spec's captured first-round request (§4.1), two kites.
constexpr std::string_view spec_request =
    "CONNECT PageKite:1 HTTP/1.0\r\n"
    "X-PageKite-Features: AddKites\r\n"
    "X-PageKite-Version: 1.5.2.201011\r\n"
    "X-PageKite-Features: ZChunks\r\n"
    "X-PageKite-Version: 1.5.2.201011\r\n"
    "X-PageKite: http:foo.example:244695ef30b8d4efea04972ab412885e5c10::a70f2eb2163a2f56405781f87e6a6d697509\r\n"
    "X-PageKite: raw-22:foo.example:244695ef30b8d4efea04972ab412885e5c10::5e8655b6de65bff1ccedbf8f50b21ddeab4d\r\n"
    "\r\n";

// The spec's captured first-round response (§4.4).
constexpr std::string_view spec_response =
    "HTTP/1.1 200 OK\r\n"
    "Content-Type: text/html; charset=utf-8\r\nPragma: no-cache\r\nExpires: 0\r\n"
    "Cache-Control: no-store\r\nConnection: close\r\n"
    "Transfer-Encoding: chunked\r\n"
    "X-PageKite-Features: ZChunks\r\n"
    "X-PageKite-Features: WebSockets\r\n"
    "X-PageKite-Features: AddKites\r\n"
    "X-PageKite-Protos: http, https, raw, websocket\r\n"
    "X-PageKite-Ports: 18880\r\n"
    "X-PageKite-Raw-Ports: virtual\r\n"
    "X-PageKite-SignThis: http:foo.example:244695ef30b8d4efea04972ab412885e5c10:t0449439fc5a0a90f39593e766a68b05e7b7\r\n"
    "X-PageKite-SignThis: raw-22:foo.example:244695ef30b8d4efea04972ab412885e5c10:tf6388722127c762423b2eef42846356e0c6\r\n"
    "X-PageKite-SessionID: 6b02be46:2c77b3887e156969672fcbc2c0ee3d6ffea9b70f\r\n"
    "X-PageKite-Misc: motd=\r\n"
    "\r\n";

constexpr std::string_view bsalt = "244695ef30b8d4efea04972ab412885e5c10";

std::string request_with(std::string_view request_line, std::string_view headers) {
  std::string s(request_line);
  s.append("\r\n").append(headers);
  s.append("X-PageKite: http:foo.test:abc::a70f2eb2163a2f56405781f87e6a6d697509\r\n\r\n");
  return s;
}

// ---------------------------------------------------------------------------------------------
// head

TEST(Head, FindsBothTerminators) {
  EXPECT_EQ(find_head_end("A\r\n\r\nrest", 100)->end, 5U);
  EXPECT_EQ(find_head_end("A\n\nrest", 100)->end, 3U);
  EXPECT_EQ(find_head_end("A\n\r\nrest", 100)->end, 4U);
  EXPECT_TRUE(find_head_end("A\r\n\r", 100)->need_more());
  EXPECT_TRUE(find_head_end("", 100)->need_more());
  EXPECT_TRUE(find_head_end("A\r\nB: c\r\n", 100)->need_more());
}

TEST(Head, CapIsExactAndSplitIndependent) {
  const std::string head = "CONNECT x\r\n\r\n";  // 13 bytes
  EXPECT_EQ(find_head_end(head, 13)->end, 13U);
  EXPECT_EQ(find_head_end(head, 12).error(), errc::head_too_large);
  // With the cap at 12, every prefix shorter than 12 needs more, every longer one is too large.
  for (std::size_t n = 0; n <= head.size(); ++n) {
    const auto r = find_head_end(std::string_view(head).substr(0, n), 12);
    if (n < 12) {
      EXPECT_TRUE(r->need_more()) << n;
    } else {
      EXPECT_EQ(r.error(), errc::head_too_large) << n;
    }
  }
  const std::string endless(100000, 'x');
  EXPECT_EQ(find_head_end(endless, 16384).error(), errc::head_too_large);
}

TEST(Head, LineReaderAndHeaderSplit) {
  line_reader r("a\r\nb\nc\r");
  std::string_view line;
  ASSERT_TRUE(r.next(line));
  EXPECT_EQ(line, "a");
  ASSERT_TRUE(r.next(line));
  EXPECT_EQ(line, "b");
  ASSERT_TRUE(r.next(line));
  EXPECT_EQ(line, "c");
  EXPECT_FALSE(r.next(line));
  const auto f = split_header_line("  X-Name :  some: value \t");
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->name, "X-Name");
  EXPECT_EQ(f->value, "some: value");
  EXPECT_FALSE(split_header_line("no colon").has_value());
  EXPECT_FALSE(split_header_line(": empty name").has_value());
}

// ---------------------------------------------------------------------------------------------
// kite lines

TEST(KiteLine, ParsesAndLowerCases) {
  const auto k = parse_kite_line("HTTP-8080:Foo.Example:bs:fs:sig");
  ASSERT_TRUE(k.has_value());
  EXPECT_EQ(*k, (kite_request{"http-8080", "foo.example", "bs", "fs", "sig"}));
  EXPECT_EQ(format_kite_line(*k), "http-8080:foo.example:bs:fs:sig");
  EXPECT_EQ(kite_key(*k), "http-8080:foo.example:bs");
  const auto first_round = parse_kite_line("http:foo.example:bs::sig");
  ASSERT_TRUE(first_round.has_value());
  EXPECT_EQ(first_round->fsalt, "");
}

TEST(KiteLine, FieldCount) {
  EXPECT_EQ(parse_kite_line("http:foo:bs:sig").error(), errc::bad_kite_line);        // 4
  EXPECT_EQ(parse_kite_line("http:foo:bs:fs:sig:x").error(), errc::bad_kite_line);   // 6
  EXPECT_EQ(parse_kite_line("").error(), errc::bad_kite_line);
  EXPECT_EQ(parse_kite_line("::::").error(), errc::bad_kite_line);  // empty proto/domain
  EXPECT_EQ(parse_kite_line("http::bs:fs:sig").error(), errc::bad_kite_line);
  EXPECT_EQ(parse_kite_line("ht tp:foo:bs:fs:sig").error(), errc::bad_kite_line);
  EXPECT_EQ(parse_kite_line("http:foo\x01:bs:fs:sig").error(), errc::bad_kite_line);
}

TEST(KiteLine, FieldLimits) {
  const std::string s24(24, 'p');
  const std::string s1024(1024, 'd');
  const std::string s36(36, 's');
  EXPECT_TRUE(parse_kite_line(s24 + ":" + s1024 + ":" + s36 + ":" + s36 + ":" + s36).has_value());
  EXPECT_EQ(parse_kite_line(s24 + "p:d:b:f:s").error(), errc::kite_field_too_long);
  EXPECT_EQ(parse_kite_line("p:" + s1024 + "d:b:f:s").error(), errc::kite_field_too_long);
  EXPECT_EQ(parse_kite_line("p:d:" + s36 + "s:f:s").error(), errc::kite_field_too_long);
  EXPECT_EQ(parse_kite_line("p:d:b:" + s36 + "s:s").error(), errc::kite_field_too_long);
  EXPECT_EQ(parse_kite_line("p:d:b:f:" + s36 + "s").error(), errc::kite_field_too_long);
  kite_limits tight;
  tight.max_domain = 3;
  EXPECT_EQ(parse_kite_line("p:abcd:b:f:s", tight).error(), errc::kite_field_too_long);
}

TEST(KiteLine, SplitProto) {
  EXPECT_EQ(*split_proto("raw-22"), (proto_port{"raw", 22}));
  EXPECT_EQ(*split_proto("http"), (proto_port{"http", std::nullopt}));
  EXPECT_EQ(*split_proto("http-65535"), (proto_port{"http", 65535}));
  EXPECT_EQ(split_proto("http-65536").error(), errc::bad_kite_line);
  EXPECT_EQ(split_proto("http-").error(), errc::bad_kite_line);
  EXPECT_EQ(split_proto("-22").error(), errc::bad_kite_line);
  EXPECT_EQ(split_proto("http-2x").error(), errc::bad_kite_line);
  EXPECT_EQ(split_proto("http-1-2").error(), errc::bad_kite_line);
  EXPECT_EQ(split_proto("").error(), errc::bad_kite_line);
}

// ---------------------------------------------------------------------------------------------
// request

TEST(Request, ParsesSpecCapture) {
  const auto r = parse_handshake_request(spec_request);
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_TRUE(r->add_kites);
  EXPECT_TRUE(r->zchunks);
  EXPECT_FALSE(r->mobile);
  EXPECT_EQ(r->versions, (std::vector<std::string>{"1.5.2.201011", "1.5.2.201011"}));
  EXPECT_EQ(r->replace, "");
  ASSERT_EQ(r->kites.size(), 2U);
  EXPECT_EQ(r->kites[1], (kite_request{"raw-22", "foo.example", std::string(bsalt), "",
                                       "5e8655b6de65bff1ccedbf8f50b21ddeab4d"}));
  EXPECT_EQ(format_handshake_request(*r), spec_request);
  EXPECT_TRUE(verify_kite_signature("s3cret", r->kites[0]));
}

TEST(Request, EverySplitPoint) {
  const std::string with_tail = std::string(spec_request) + "1b\r\nNOOP: 1\r\n";
  const auto whole = parse_handshake_request(spec_request);
  ASSERT_TRUE(whole.has_value());
  for (std::size_t n = 0; n <= with_tail.size(); ++n) {
    const std::string_view prefix = std::string_view(with_tail).substr(0, n);
    const auto scan = find_head_end(prefix, 16384);
    ASSERT_TRUE(scan.has_value());
    const auto parsed = parse_handshake_request(prefix);
    if (n < spec_request.size()) {
      EXPECT_TRUE(scan->need_more());
      EXPECT_EQ(parsed.error(), errc::missing_blank_line);
    } else {
      EXPECT_EQ(scan->end, spec_request.size());
      ASSERT_TRUE(parsed.has_value());
      EXPECT_EQ(*parsed, *whole);
    }
  }
}

TEST(Request, FormatRoundTrip) {
  handshake_request req;
  req.mobile = true;
  req.versions = {"0.91.251215C"};
  req.replace = "6b02be47:7c2465963423f4f67b6d308a38a8f3593faf5652";
  req.kites = {{"http", "a.test", "bs1", "t123", "sig1"}, {"raw-22", "b.test", "bs2", "", "s"}};
  const std::string head = format_handshake_request(req);
  EXPECT_EQ(head,
            "CONNECT PageKite:1 HTTP/1.0\r\n"
            "X-PageKite-Features: Mobile\r\n"
            "X-PageKite-Version: 0.91.251215C\r\n"
            "X-PageKite-Replace: 6b02be47:7c2465963423f4f67b6d308a38a8f3593faf5652\r\n"
            "X-PageKite: http:a.test:bs1:t123:sig1\r\n"
            "X-PageKite: raw-22:b.test:bs2::s\r\n"
            "\r\n");
  EXPECT_EQ(*parse_handshake_request(head), req);
  req.legacy_beanstalk = true;
  req.add_kites = true;
  req.zchunks = true;
  const std::string legacy = format_handshake_request(req);
  EXPECT_NE(legacy.find("X-Beanstalk: http:a.test"), std::string::npos);
  EXPECT_EQ(*parse_handshake_request(legacy), req);
}

TEST(Request, LenientHeaders) {
  // Header names in any case, legacy prefix, unknown headers and feature tokens ignored,
  // bare-LF line ends, target in any case.
  const std::string head =
      "CONNECT pageKITE:1 HTTP/1.1\n"
      "x-pagekite-features: zchunks\n"
      "X-PageKite-Features: TLS\n"
      "X-Other: 1\n"
      "X-Beanstalk-Version: 0.4\n"
      "x-beanstalk:  HTTP:FOO.test:b::s  \n"
      "\n";
  const auto r = parse_handshake_request(head);
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_TRUE(r->zchunks);
  EXPECT_FALSE(r->add_kites);
  EXPECT_TRUE(r->legacy_beanstalk);
  EXPECT_EQ(r->versions, std::vector<std::string>{"0.4"});
  ASSERT_EQ(r->kites.size(), 1U);
  EXPECT_EQ(r->kites[0], (kite_request{"http", "foo.test", "b", "", "s"}));
}

TEST(Request, BadRequestLines) {
  for (const std::string_view line :
       {"GET PageKite:1 HTTP/1.0", "connect pagekite:1 HTTP/1.0", "CONNECT PageKite:1 HTTP/1.0 x",
        "CONNECT PageKite:1 HTTP/2.0", "CONNECT PageKite:1", "CONNECT foo.test:443 HTTP/1.1",
        "CONNECT PageKite:1 http/1.0", ""}) {
    EXPECT_EQ(parse_handshake_request(request_with(line, "")).error(), errc::bad_request_line)
        << line;
  }
  // Python's split(): runs of blanks between the three words are fine.
  EXPECT_TRUE(parse_handshake_request(request_with("CONNECT  PageKite:1\tHTTP/1.0", "")));
}

TEST(Request, ErrorPaths) {
  EXPECT_EQ(parse_handshake_request(request_with("CONNECT PageKite:1 HTTP/1.0",
                                                 "X-PageKite: http:foo:bs:sig\r\n"))
                .error(),
            errc::bad_kite_line);
  EXPECT_EQ(parse_handshake_request(request_with("CONNECT PageKite:1 HTTP/1.0",
                                                 "X-PageKite: http:foo:bs:fs:sig:6\r\n"))
                .error(),
            errc::bad_kite_line);
  EXPECT_EQ(parse_handshake_request(
                request_with("CONNECT PageKite:1 HTTP/1.0",
                             "X-PageKite: http:" + std::string(1025, 'd') + ":b:f:s\r\n"))
                .error(),
            errc::kite_field_too_long);
  EXPECT_EQ(parse_handshake_request(
                request_with("CONNECT PageKite:1 HTTP/1.0", "Header line without colon\r\n"))
                .error(),
            errc::bad_header_line);
  EXPECT_EQ(parse_handshake_request("CONNECT PageKite:1 HTTP/1.0\r\n"
                                    "X-PageKite-Version: 1\r\n\r\n")
                .error(),
            errc::no_kites);
  EXPECT_EQ(parse_handshake_request("CONNECT PageKite:1 HTTP/1.0\r\n").error(),
            errc::missing_blank_line);

  // Too many kites.
  std::string many = "CONNECT PageKite:1 HTTP/1.0\r\n";
  for (int i = 0; i < 5; ++i) {
    many += "X-PageKite: http:k" + std::to_string(i) + ".test:b::s\r\n";
  }
  many += "\r\n";
  handshake_limits lim;
  lim.max_kites = 5;
  EXPECT_EQ(parse_handshake_request(many, lim)->kites.size(), 5U);
  lim.max_kites = 4;
  EXPECT_EQ(parse_handshake_request(many, lim).error(), errc::too_many_kites);

  // Oversized head.
  lim = {};
  lim.max_head = spec_request.size() - 1;
  EXPECT_EQ(parse_handshake_request(spec_request, lim).error(), errc::head_too_large);
  lim.max_head = spec_request.size();
  EXPECT_TRUE(parse_handshake_request(spec_request, lim).has_value());

  // Versions beyond the cap are ignored, not stored.
  std::string versions = "CONNECT PageKite:1 HTTP/1.0\r\n";
  for (int i = 0; i < 100; ++i) {
    versions += "X-PageKite-Version: " + std::to_string(i) + "\r\n";
  }
  versions += "X-PageKite: http:a:b::s\r\n\r\n";
  EXPECT_EQ(parse_handshake_request(versions)->versions.size(), handshake_limits{}.max_versions);
}

// ---------------------------------------------------------------------------------------------
// response

TEST(Response, ParsesSpecCapture) {
  const auto r = parse_handshake_response(spec_response);
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_TRUE(r->zchunks);
  EXPECT_TRUE(r->websockets);
  EXPECT_TRUE(r->add_kites);
  EXPECT_EQ(r->protos, (std::vector<std::string>{"http", "https", "raw", "websocket"}));
  EXPECT_EQ(r->ports, std::vector<std::string>{"18880"});
  EXPECT_EQ(r->raw_ports, std::vector<std::string>{"virtual"});
  ASSERT_EQ(r->results.size(), 2U);
  EXPECT_EQ(r->results[0],
            (kite_result{kite_status::sign_this, "http:foo.example:" + std::string(bsalt),
                         "t0449439fc5a0a90f39593e766a68b05e7b7", ""}));
  EXPECT_EQ(r->results[1].kite, "raw-22:foo.example:" + std::string(bsalt));
  EXPECT_EQ(r->session_id, "6b02be46:2c77b3887e156969672fcbc2c0ee3d6ffea9b70f");
  EXPECT_EQ(r->misc, std::optional<std::string>("motd="));
  EXPECT_FALSE(r->quota.has_value());
  EXPECT_EQ(format_handshake_response(*r), spec_response);
}

TEST(Response, EverySplitPoint) {
  const auto whole = parse_handshake_response(spec_response);
  ASSERT_TRUE(whole.has_value());
  for (std::size_t n = 0; n < spec_response.size(); ++n) {
    EXPECT_EQ(parse_handshake_response(spec_response.substr(0, n)).error(),
              errc::missing_blank_line);
    EXPECT_TRUE(find_head_end(spec_response.substr(0, n), 16384)->need_more());
  }
  EXPECT_EQ(*parse_handshake_response(std::string(spec_response) + "b0\r\nNOOP"), *whole);
}

handshake_response full_response() {
  handshake_response r;
  r.zchunks = true;
  r.add_kites = true;
  r.protos = {"http", "raw"};
  r.ports = {"80", "443"};
  r.results = {
      {kite_status::ok, "http:a.test:b1", "", ""},
      {kite_status::ssl_ok, "http:a.test:b1", "", ""},
      {kite_status::invalid, "http:b.test:b2", "", "signature"},
      {kite_status::invalid, "http:c.test:b3", "", ""},
      {kite_status::duplicate, "raw-22:d.test:b4", "", ""},
      {kite_status::sign_this, "http:e.test:b5", "t1234567abcdef", ""},
  };
  r.session_id = "1:2";
  r.misc = make_misc("Hello, world & co");
  r.qconns = 5;
  r.qdays = 30;
  r.ips_per_sec = "3/900";
  r.quota = 65536;
  return r;
}

TEST(Response, FormatOrderAndRoundTrip) {
  const handshake_response r = full_response();
  const std::string head = format_handshake_response(r);
  EXPECT_EQ(head,
            "HTTP/1.1 200 OK\r\n"
            "Content-Type: text/html; charset=utf-8\r\nPragma: no-cache\r\nExpires: 0\r\n"
            "Cache-Control: no-store\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n"
            "X-PageKite-Features: ZChunks\r\n"
            "X-PageKite-Features: AddKites\r\n"
            "X-PageKite-Protos: http, raw\r\n"
            "X-PageKite-Ports: 80, 443\r\n"
            "X-PageKite-OK: http:a.test:b1\r\n"
            "X-PageKite-SSL-OK: http:a.test:b1\r\n"
            "X-PageKite-Invalid: http:b.test:b2\r\n"
            "X-PageKite-Invalid-Why: http:b.test:b2;signature\r\n"
            "X-PageKite-Invalid: http:c.test:b3\r\n"
            "X-PageKite-Duplicate: raw-22:d.test:b4\r\n"
            "X-PageKite-SignThis: http:e.test:b5:t1234567abcdef\r\n"
            "X-PageKite-SessionID: 1:2\r\n"
            "X-PageKite-Misc: motd=Hello%2C+world+%26+co\r\n"
            "X-PageKite-QConns: 5\r\n"
            "X-PageKite-QDays: 30\r\n"
            "X-PageKite-IPsPerSec: 3/900\r\n"
            "X-PageKite-Quota: 65536\r\n"
            "\r\n");
  EXPECT_EQ(*parse_handshake_response(head), r);
  EXPECT_EQ(motd_from_misc(*r.misc), "Hello, world & co");
  handshake_response legacy = r;
  legacy.legacy_beanstalk = true;
  EXPECT_EQ(*parse_handshake_response(format_handshake_response(legacy)), legacy);
}

TEST(Response, BadStatusLines) {
  const std::string rest = "X-PageKite-OK: a:b:c\r\n\r\n";
  for (const std::string_view status :
       {"HTTP/1.1 503 Unavailable", "HTTP/1.0 403 Forbidden", "HTTP/2 200", "http/1.1 200 OK",
        "HTTP/1.1 2000", "", "HTTP/1.1"}) {
    EXPECT_EQ(parse_handshake_response(std::string(status) + "\r\n" + rest).error(),
              errc::bad_status_line)
        << status;
  }
  EXPECT_TRUE(parse_handshake_response("HTTP/1.0 200\r\n" + rest).has_value());
  EXPECT_TRUE(parse_handshake_response("HTTP/1.1 200 Whatever\r\n" + rest).has_value());
}

TEST(Response, ErrorPaths) {
  EXPECT_EQ(parse_handshake_response("HTTP/1.1 200 OK\r\nX-PageKite-SignThis: nocolon\r\n\r\n")
                .error(),
            errc::bad_kite_line);
  EXPECT_EQ(parse_handshake_response("HTTP/1.1 200 OK\r\nX-PageKite-Quota: 12k\r\n\r\n").error(),
            errc::bad_number);
  EXPECT_EQ(parse_handshake_response("HTTP/1.1 200 OK\r\nX-PageKite-QDays: \r\n\r\n").error(),
            errc::bad_number);
  EXPECT_EQ(
      parse_handshake_response("HTTP/1.1 200 OK\r\nX-PageKite-QConns: 1234567890123456789\r\n\r\n")
          .error(),
      errc::bad_number);
  EXPECT_EQ(parse_handshake_response("HTTP/1.1 200 OK\r\nno colon\r\n\r\n").error(),
            errc::bad_header_line);
  response_limits lim;
  lim.max_results = 2;
  EXPECT_EQ(parse_handshake_response("HTTP/1.1 200 OK\r\nX-PageKite-OK: a\r\nX-PageKite-OK: "
                                     "b\r\nX-PageKite-OK: c\r\n\r\n",
                                     lim)
                .error(),
            errc::too_many_kites);
  lim = {};
  lim.max_head = 20;
  EXPECT_EQ(parse_handshake_response(spec_response, lim).error(), errc::head_too_large);
  // Negative quota parses (the FE only sends positive ones, but the value is a plain integer).
  EXPECT_EQ(parse_handshake_response("HTTP/1.1 200 OK\r\nX-PageKite-Quota: -2\r\n\r\n")->quota,
            std::optional<std::int64_t>(-2));
}

TEST(Response, InvalidWhyAlone) {
  const auto r = parse_handshake_response(
      "HTTP/1.1 200 OK\r\nX-PageKite-Invalid-Why: http:x.test:b;port\r\n\r\n");
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(r->results.size(), 1U);
  EXPECT_EQ(r->results[0], (kite_result{kite_status::invalid, "http:x.test:b", "", "port"}));
}

// ---------------------------------------------------------------------------------------------
// in-tunnel rounds

TEST(KiteRound, SpecCapturePayload) {
  const std::vector<kite_request> kites = {
      {"http", "foo.example", std::string(bsalt), "t0449439fc5a0a90f39593e766a68b05e7b7",
       "ca6c1c3cfcedb393af4478a0480aa280fddd"},
      {"raw-22", "foo.example", std::string(bsalt), "tf6388722127c762423b2eef42846356e0c6",
       "484b772643a2f382d634e8d7e0e50a8ee48e"}};
  const std::string payload = format_kite_round_payload("1.5.2.201011", kites);
  EXPECT_EQ(payload.size(), 0x14cU);  // the captured chunk length
  EXPECT_EQ(payload,
            "NOOP: 1\r\nX-PageKite-Version: 1.5.2.201011\r\n"
            "X-PageKite: http:foo.example:" + std::string(bsalt) +
                ":t0449439fc5a0a90f39593e766a68b05e7b7:ca6c1c3cfcedb393af4478a0480aa280fddd\r\n"
                "X-PageKite: raw-22:foo.example:" + std::string(bsalt) +
                ":tf6388722127c762423b2eef42846356e0c6:484b772643a2f382d634e8d7e0e50a8ee48e\r\n"
                "\r\n\r\n!");
  // The frame decoder delivers NOOP separately and X-PageKite* lines in chunk_headers::extra.
  const std::string l1 = format_kite_line(kites[0]);
  const std::string l2 = format_kite_line(kites[1]);
  const std::vector<header_field> fields = {
      {"X-PageKite-Version", "1.5.2.201011"}, {"X-PageKite", l1}, {"X-PageKite", l2}};
  EXPECT_TRUE(has_handshake_fields(fields));
  const auto r = parse_kite_round(fields);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->kites, kites);
  EXPECT_TRUE(verify_kite_signature("s3cret", r->kites[0]));
  EXPECT_TRUE(verify_kite_signature("s3cret", r->kites[1]));
}

TEST(KiteRound, Errors) {
  EXPECT_EQ(parse_kite_round(std::vector<header_field>{{"X-PageKite-Version", "1"}}).error(),
            errc::no_kites);
  EXPECT_EQ(parse_kite_round(std::vector<header_field>{{"X-PageKite", "a:b:c"}}).error(),
            errc::bad_kite_line);
  EXPECT_EQ(
      parse_kite_round(std::vector<header_field>{{"X-PageKite-Version", "1\r\nX: y"},
                                                 {"X-PageKite", "a:b:c::"}})
          .error(),
      errc::bad_header_line);
  handshake_limits lim;
  lim.max_kites = 1;
  EXPECT_EQ(parse_kite_round(std::vector<header_field>{{"X-PageKite", "a:b:c::"},
                                                       {"X-PageKite", "a:c:c::"}},
                             lim)
                .error(),
            errc::too_many_kites);
  EXPECT_FALSE(has_handshake_fields(std::vector<header_field>{{"PING", "1"}, {"X-Other", "1"}}));
}

TEST(ResultRound, SpecCapturePayload) {
  handshake_response r;
  r.results = {{kite_status::ok, "http:foo.example:" + std::string(bsalt), "", ""},
               {kite_status::ok, "raw-22:foo.example:" + std::string(bsalt), "", ""}};
  r.session_id = "6b02be47:7c2465963423f4f67b6d308a38a8f3593faf5652";
  r.misc = make_misc("");
  const std::string payload = format_result_payload(r);
  EXPECT_EQ(payload.size(), 0xfbU);  // the captured chunk length
  EXPECT_EQ(payload,
            "NOOP: 1\r\n"
            "X-PageKite-OK: http:foo.example:" + std::string(bsalt) + "\r\n"
            "X-PageKite-OK: raw-22:foo.example:" + std::string(bsalt) + "\r\n"
            "X-PageKite-SessionID: 6b02be47:7c2465963423f4f67b6d308a38a8f3593faf5652\r\n"
            "X-PageKite-Misc: motd=\r\n"
            "\r\n!");
  std::vector<header_field> fields = {{"NOOP", "1"}};
  for (const kite_result& k : r.results) {
    fields.push_back({"X-PageKite-OK", k.kite});
  }
  fields.push_back({"X-PageKite-SessionID", r.session_id});
  fields.push_back({"X-PageKite-Misc", *r.misc});
  EXPECT_EQ(*parse_result_fields(fields), r);
}

TEST(ResultRound, RoundTripWithEverything) {
  const handshake_response r = full_response();
  const std::string payload = format_result_payload(r);
  ASSERT_TRUE(payload.starts_with("NOOP: 1\r\n"));
  ASSERT_TRUE(payload.ends_with("\r\n\r\n!"));
  std::vector<header_field> fields;
  line_reader lines(payload);
  std::string_view line;
  while (lines.next(line) && !line.empty()) {
    fields.push_back(*split_header_line(line));
  }
  EXPECT_EQ(*parse_result_fields(fields), r);
}

TEST(Misc, UrlEncoding) {
  EXPECT_EQ(make_misc(""), "motd=");
  EXPECT_EQ(make_misc("a b/c~"), "motd=a+b%2Fc~");
  EXPECT_EQ(motd_from_misc("x=1&motd=a+b%2fc%zz%4"), "a b/c%zz%4");
  EXPECT_EQ(motd_from_misc("x=1"), "");
  EXPECT_EQ(motd_from_misc(make_misc("\x01\xff \xe2\x82\xac")), "\x01\xff \xe2\x82\xac");
}

TEST(Misc, KiteLineVersionIsRecognisedAndPagekitePyIsNot) {
  EXPECT_TRUE(is_kiteline_version("1.5.2.201011+kiteline"));  // what kiteline's connector sends
  EXPECT_TRUE(is_kiteline_version("kiteline/0.1"));
  EXPECT_FALSE(is_kiteline_version("1.5.2.201011"));  // Debian's pagekite.py
  EXPECT_FALSE(is_kiteline_version("0.4.6a+github"));  // libpagekite
  EXPECT_FALSE(is_kiteline_version(""));
  EXPECT_FALSE(is_kiteline_version("1.5.2+kiteline2"));
  EXPECT_FALSE(is_kiteline_version("1.5.2+kitelinefake"));
}

TEST(Misc, OnlyPagekitePyVersionsGetFrameFiller) {
  EXPECT_TRUE(is_pagekite_py_version("1.5.2.201011"));  // Debian's pagekite.py
  EXPECT_TRUE(is_pagekite_py_version("0.5.9.3"));
  EXPECT_TRUE(is_pagekite_py_version("1"));
  EXPECT_FALSE(is_pagekite_py_version("0.91.251215C"));  // libpagekite
  EXPECT_FALSE(is_pagekite_py_version("1.5.2.201011+kiteline"));
  EXPECT_FALSE(is_pagekite_py_version(""));
  EXPECT_FALSE(is_pagekite_py_version(".1"));
  EXPECT_FALSE(is_pagekite_py_version("1."));
  EXPECT_FALSE(is_pagekite_py_version("1 .2"));
  EXPECT_FALSE(is_pagekite_py_version("evil"));
}

}  // namespace
}  // namespace kiteline::wire
