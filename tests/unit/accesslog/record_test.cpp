// accesslog::record: the key=value quoting and the JSON escaping over every byte value, both
// renderings of a record, and the HTTP request/status line peeks.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "accesslog/record.hpp"
#include "core/text.hpp"

namespace kiteline::accesslog {
namespace {

/// Decodes one JSON string literal (RFC 8259 §7) to UTF-8; nullopt when it is not one (a raw
/// control byte, a bad escape, no closing quote, trailing bytes).
std::optional<std::string> decode_json_string(std::string_view s) {
  if (s.size() < 2 || s.front() != '"' || s.back() != '"') {
    return std::nullopt;
  }
  std::string out;
  for (std::size_t i = 1; i + 1 < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == '"') {
      return std::nullopt;
    }
    if (c != '\\') {
      out += static_cast<char>(c);
      continue;
    }
    if (i + 2 >= s.size()) {
      return std::nullopt;
    }
    const char e = s[++i];
    switch (e) {
      case '"': out += '"'; break;
      case '\\': out += '\\'; break;
      case '/': out += '/'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'u': {
        if (i + 4 >= s.size()) {
          return std::nullopt;
        }
        unsigned cp = 0;
        for (int k = 0; k < 4; ++k) {
          const int h = hex_digit_value(s[i + 1 + static_cast<std::size_t>(k)]);
          if (h < 0) {
            return std::nullopt;
          }
          cp = cp * 16 + static_cast<unsigned>(h);
        }
        i += 4;
        if (cp < 0x80) {
          out += static_cast<char>(cp);
        } else if (cp < 0x800) {
          out += static_cast<char>(0xc0 | (cp >> 6));
          out += static_cast<char>(0x80 | (cp & 0x3f));
        } else {
          out += static_cast<char>(0xe0 | (cp >> 12));
          out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
          out += static_cast<char>(0x80 | (cp & 0x3f));
        }
        break;
      }
      default:
        return std::nullopt;
    }
  }
  return out;
}

/// Decodes a key=value value written by append_text_value (quoted or bare).
std::optional<std::string> decode_text_value(std::string_view s) {
  if (s == "-") {
    return std::string();
  }
  if (s.empty() || s.front() != '"') {
    return std::string(s);
  }
  if (s.size() < 2 || s.back() != '"') {
    return std::nullopt;
  }
  std::string out;
  for (std::size_t i = 1; i + 1 < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c >= 0x7f) {
      return std::nullopt;  // never raw in a line
    }
    if (c != '\\') {
      out += static_cast<char>(c);
      continue;
    }
    const char e = s[++i];
    if (e == '"' || e == '\\') {
      out += e;
    } else if (e == 'x' && i + 2 < s.size()) {
      const int hi = hex_digit_value(s[i + 1]);
      const int lo = hex_digit_value(s[i + 2]);
      if (hi < 0 || lo < 0) {
        return std::nullopt;
      }
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      return std::nullopt;
    }
  }
  return out;
}

std::string json(std::string_view v) {
  std::string out;
  append_json_string(out, v);
  return out;
}

std::string text(std::string_view v) {
  std::string out;
  append_text_value(out, v);
  return out;
}

TEST(AccesslogJson, EveryByteValueAloneIsEscapedToValidJson) {
  for (int b = 0; b < 256; ++b) {
    const std::string in(1, static_cast<char>(b));
    const std::string out = json(in);
    for (const char ch : out) {
      const auto c = static_cast<unsigned char>(ch);
      EXPECT_TRUE(c >= 0x20 && c < 0x7f) << "byte " << b << " gave raw byte " << int(c);
    }
    const auto back = decode_json_string(out);
    ASSERT_TRUE(back.has_value()) << "byte " << b << ": " << out;
    if (b < 0x80) {
      EXPECT_EQ(*back, in) << "byte " << b;
    } else {
      // A lone byte 0x80-0xFF is never well-formed UTF-8: U+FFFD.
      EXPECT_EQ(out, "\"\\ufffd\"") << "byte " << b;
      EXPECT_EQ(*back, "\xef\xbf\xbd");
    }
  }
}

TEST(AccesslogJson, ShortEscapesAndControlBytes) {
  EXPECT_EQ(json("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(json("\b\f\n\r\t"), R"("\b\f\n\r\t")");
  EXPECT_EQ(json(std::string("\0\x01\x1f\x7f", 4)), R"("\u0000\u0001\u001f\u007f")");
  EXPECT_EQ(json("/path?q=1&x=<y>"), R"("/path?q=1&x=<y>")");
  EXPECT_EQ(json(""), R"("")");
}

TEST(AccesslogJson, WellFormedUtf8PassesIllFormedBecomesReplacement) {
  EXPECT_EQ(json("caf\xc3\xa9"), "\"caf\xc3\xa9\"");                  // U+00E9
  EXPECT_EQ(json("\xe2\x82\xac"), "\"\xe2\x82\xac\"");                // U+20AC
  EXPECT_EQ(json("\xf0\x9f\x98\x80"), "\"\xf0\x9f\x98\x80\"");        // U+1F600
  EXPECT_EQ(json("\xc0\xaf"), R"("\ufffd\ufffd")");                   // overlong '/'
  EXPECT_EQ(json("\xed\xa0\x80"), R"("\ufffd\ufffd\ufffd")");         // a surrogate
  EXPECT_EQ(json("\xf4\x90\x80\x80"), R"("\ufffd\ufffd\ufffd\ufffd")");  // above U+10FFFF
  EXPECT_EQ(json("\xe2\x82"), R"("\ufffd\ufffd")");                   // cut short
  EXPECT_EQ(json("a\xffz"), R"("a\ufffdz")");
}

TEST(AccesslogJson, EveryBytePairRoundTripsWhenAscii) {
  for (int a = 0; a < 128; ++a) {
    for (int b = 0; b < 128; ++b) {
      const std::string in{static_cast<char>(a), static_cast<char>(b)};
      const auto back = decode_json_string(json(in));
      ASSERT_TRUE(back.has_value());
      ASSERT_EQ(*back, in);
    }
  }
}

TEST(AccesslogText, EveryByteValueRoundTripsAndNeverBreaksTheLine) {
  for (int b = 0; b < 256; ++b) {
    const std::string in = "a" + std::string(1, static_cast<char>(b)) + "z";
    const std::string out = text(in);
    for (const char ch : out) {
      const auto c = static_cast<unsigned char>(ch);
      EXPECT_TRUE(c >= 0x20 && c < 0x7f) << "byte " << b << " gave raw byte " << int(c);
    }
    EXPECT_EQ(out.find("; "), std::string::npos) << "byte " << b << ": " << out;
    const auto back = decode_text_value(out);
    ASSERT_TRUE(back.has_value()) << "byte " << b << ": " << out;
    EXPECT_EQ(*back, in) << "byte " << b;
    const bool bare = b > 0x20 && b < 0x7f && b != '"' && b != ';' && b != '\\';
    EXPECT_EQ(out.front() != '"', bare) << "byte " << b << ": " << out;
  }
}

TEST(AccesslogText, QuotingCases) {
  EXPECT_EQ(text(""), "-");
  EXPECT_EQ(text("-"), "\"-\"");
  EXPECT_EQ(text("/index.html?a=b"), "/index.html?a=b");
  EXPECT_EQ(text("a b"), "\"a b\"");
  EXPECT_EQ(text("x; y=1"), "\"x; y=1\"");
  EXPECT_EQ(text("say \"hi\"\\"), R"("say \"hi\"\\")");
  EXPECT_EQ(text("l1\r\nl2"), R"("l1\x0d\x0al2")");
  EXPECT_EQ(text("caf\xc3\xa9"), R"("caf\xc3\xa9")");
}

record sample() {
  record r;
  // 2026-12-07 09:45:01.250 UTC
  r.time = std::chrono::system_clock::time_point(std::chrono::milliseconds(1796636701250LL));
  r.role = "relay";
  r.remote_ip = "::1";
  r.remote_port = 40000;
  r.kite = "demo.localhost";
  r.proto = "http";
  r.port = 8080;
  r.method = "GET";
  r.path = "/a b\"c";
  r.status = 200;
  r.bytes_in = 78;
  r.bytes_out = 1234;
  r.duration = std::chrono::microseconds(12345);
  r.tunnel = "127.0.0.1:5555";
  return r;
}

TEST(AccesslogFormat, TextLine) {
  const std::string line = format_text(sample());
  const std::string t = format_time(sample().time);
  EXPECT_EQ(line, "ts=6b16801d; t=" + t +
                      "; role=relay; rip=::1; rport=40000; kite=demo.localhost; proto=http; "
                      "port=8080; method=GET; path=\"/a b\\\"c\"; status=200; bytes_in=78; "
                      "bytes_out=1234; ms=12.345; tunnel=127.0.0.1:5555");
  record r = sample();
  r.method.clear();
  r.path.clear();
  r.status = 0;
  r.duration = std::chrono::microseconds(7);
  r.note = "no tunnel";
  const std::string l2 = format_text(r);
  EXPECT_NE(l2.find("; method=-; path=-; status=-; "), std::string::npos) << l2;
  EXPECT_NE(l2.find("; ms=0.007; "), std::string::npos) << l2;
  EXPECT_NE(l2.find("; note=\"no tunnel\""), std::string::npos) << l2;
}

TEST(AccesslogFormat, JsonLine) {
  const std::string line = format_json(sample());
  const std::string t = format_time(sample().time);
  EXPECT_EQ(line, "{\"time\":\"" + t +
                      "\",\"role\":\"relay\",\"remote_ip\":\"::1\",\"remote_port\":40000,"
                      "\"kite\":\"demo.localhost\",\"proto\":\"http\",\"port\":8080,"
                      "\"method\":\"GET\",\"path\":\"/a b\\\"c\",\"status\":200,\"bytes_in\":78,"
                      "\"bytes_out\":1234,\"duration_ms\":12.345,"
                      "\"tunnel\":\"127.0.0.1:5555\",\"note\":null}");
  record r = sample();
  r.status = 0;
  r.method.clear();
  EXPECT_NE(format_json(r).find("\"method\":null"), std::string::npos);
  EXPECT_NE(format_json(r).find("\"status\":null"), std::string::npos);
  EXPECT_EQ(format_line(format::json, r), format_json(r));
  EXPECT_EQ(format_line(format::text, r), format_text(r));
}

TEST(AccesslogFormat, TimeIsIso8601WithOffset) {
  const std::string t = format_time(sample().time);
  ASSERT_EQ(t.size(), 29U) << t;  // 2026-12-07T09:45:01.250+00:00
  EXPECT_EQ(t[4], '-');
  EXPECT_EQ(t[10], 'T');
  EXPECT_EQ(t.substr(19, 4), ".250");
  EXPECT_TRUE(t[23] == '+' || t[23] == '-') << t;
  EXPECT_EQ(t[26], ':');
}

TEST(AccesslogPeek, RequestLine) {
  auto r = parse_request_line("GET /index.html?x=1 HTTP/1.1\r\nHost: a\r\n\r\n");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->method, "GET");
  EXPECT_EQ(r->path, "/index.html?x=1");
  r = parse_request_line("POST /cut-sho");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->path, "/cut-sho");
  EXPECT_FALSE(parse_request_line("").has_value());
  EXPECT_FALSE(parse_request_line("\x16\x03\x01\x02\x00").has_value());
  EXPECT_FALSE(parse_request_line("GET  HTTP/1.1").has_value());
  EXPECT_FALSE(parse_request_line("GET").has_value());
}

TEST(AccesslogPeek, StatusLine) {
  EXPECT_EQ(parse_status_line("HTTP/1.1 200 OK\r\n"), 200);
  EXPECT_EQ(parse_status_line("HTTP/1.0 503 Unavailable\r\n"), 503);
  EXPECT_EQ(parse_status_line("HTTP/1.1 404\r\n"), 404);
  EXPECT_EQ(parse_status_line("HTTP/1.1 200"), 200);
  EXPECT_EQ(parse_status_line("HTTP/1.1 20"), 0);
  EXPECT_EQ(parse_status_line("HTTP/2 200 OK"), 0);
  EXPECT_EQ(parse_status_line("HTTP/1.1 2000 OK"), 0);
  EXPECT_EQ(parse_status_line("SSH-2.0-OpenSSH"), 0);
}

}  // namespace
}  // namespace kiteline::accesslog
