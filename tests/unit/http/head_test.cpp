// http/head: the one HTTP/1.x head scanner. Every byte value against an independent
// description of each byte rule, every split point of the input for the streaming use, and
// malformed heads.
#include "http/head.hpp"

#include <array>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

namespace kiteline::http {
namespace {

// RFC 9110 §5.6.2, written out independently of the code under test.
bool rfc_tchar(int b) {
  static constexpr std::string_view specials = "!#$%&'*+-.^_`|~";
  const bool alpha = (b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z');
  const bool digit = b >= '0' && b <= '9';
  return alpha || digit ||
         (b != 0 && specials.find(static_cast<char>(b)) != std::string_view::npos);
}

// --- Bytes ------------------------------------------------------------------------------------

TEST(http_head, is_tchar_for_every_byte) {
  int count = 0;
  for (int b = 0; b < 256; ++b) {
    EXPECT_EQ(is_tchar(static_cast<char>(b)), rfc_tchar(b)) << b;
    count += is_tchar(static_cast<char>(b)) ? 1 : 0;
  }
  EXPECT_EQ(count, 26 + 26 + 10 + 15);
  // The separators and the bytes next to the specials are not tchar.
  for (const char c : std::string_view("()<>@,;:\\\"/[]?={} \t\x7f\x80\xff")) {
    EXPECT_FALSE(is_tchar(c)) << static_cast<int>(static_cast<unsigned char>(c));
  }
}

TEST(http_head, is_token_is_one_or_more_tchar) {
  EXPECT_FALSE(is_token(""));
  EXPECT_TRUE(is_token("GET"));
  EXPECT_TRUE(is_token("X-Forwarded-For"));
  EXPECT_TRUE(is_token("!#$%&'*+-.^_`|~09azAZ"));
  for (int b = 0; b < 256; ++b) {
    const std::string s = std::string("ab") + static_cast<char>(b) + "cd";
    EXPECT_EQ(is_token(s), rfc_tchar(b)) << b;
    EXPECT_EQ(is_token(std::string(1, static_cast<char>(b))), rfc_tchar(b)) << b;
  }
  static_assert(is_token("Host") && !is_token("Ho st"));
}

TEST(http_head, is_ctl_but_htab_for_every_byte) {
  for (int b = 0; b < 256; ++b) {
    const bool expected = (b < 0x20 && b != 0x09) || b == 0x7f;
    EXPECT_EQ(is_ctl_but_htab(static_cast<char>(b)), expected) << b;
    EXPECT_EQ(has_ctl_but_htab(std::string("v ") + static_cast<char>(b) + " v"), expected) << b;
  }
  EXPECT_FALSE(has_ctl_but_htab(""));
  EXPECT_FALSE(has_ctl_but_htab("a\tb \x80\xff"));
}

// --- Lines ------------------------------------------------------------------------------------

TEST(http_head, line_content_strips_lf_and_one_cr) {
  EXPECT_EQ(line_content("abc\r\n"), "abc");
  EXPECT_EQ(line_content("abc\n"), "abc");
  EXPECT_EQ(line_content("abc\r"), "abc");
  EXPECT_EQ(line_content("abc\r\r\n"), "abc\r");
  EXPECT_EQ(line_content("abc\n\n"), "abc\n");
  EXPECT_EQ(line_content("\r\n"), "");
  EXPECT_EQ(line_content(""), "");
  EXPECT_EQ(line_content("a\rb"), "a\rb");
}

TEST(http_head, next_line_needs_an_lf) {
  const std::string_view text = "one\r\ntwo\nthree\r\r\nfour";
  auto l = next_line(text, 0);
  ASSERT_TRUE(l);
  EXPECT_EQ(l->content, "one");
  EXPECT_EQ(l->next, 5U);
  l = next_line(text, l->next);
  ASSERT_TRUE(l);
  EXPECT_EQ(l->content, "two");
  l = next_line(text, l->next);
  ASSERT_TRUE(l);
  EXPECT_EQ(l->content, "three\r");
  EXPECT_EQ(text.substr(l->next), "four");
  EXPECT_FALSE(next_line(text, l->next));
  EXPECT_FALSE(next_line("", 0));
  EXPECT_FALSE(next_line("no end\r", 0));
}

TEST(http_head, line_reader_returns_the_last_line_without_lf_too) {
  line_reader r("a\r\nb\n\r\nc\r");
  std::vector<std::string> got;
  std::string_view l;
  while (r.next(l)) {
    got.emplace_back(l);
  }
  EXPECT_EQ(got, (std::vector<std::string>{"a", "b", "", "c"}));
  EXPECT_TRUE(r.rest().empty());
  line_reader partial("x\ny");
  ASSERT_TRUE(partial.next(l));
  EXPECT_EQ(partial.rest(), "y");
  line_reader empty("");
  EXPECT_FALSE(empty.next(l));
}

// --- The end of the head ----------------------------------------------------------------------

TEST(http_head, find_head_end_accepts_crlf_lf_and_mixed_blank_lines) {
  EXPECT_EQ(find_head_end("GET / HTTP/1.1\r\nHost: a\r\n\r\nbody"), 27U);
  EXPECT_EQ(find_head_end("GET / HTTP/1.1\nHost: a\n\nbody"), 24U);
  EXPECT_EQ(find_head_end("GET / HTTP/1.1\nHost: a\n\r\nbody"), 25U);
  EXPECT_EQ(find_head_end("GET / HTTP/1.1\r\n\r\n"), 18U);
  EXPECT_EQ(find_head_end("GET / HTTP/1.1\r\n\n"), 17U);
}

TEST(http_head, find_head_end_needs_a_blank_line) {
  for (const std::string_view no : std::initializer_list<std::string_view>{
           "", "\r", "\n", "\r\n", "GET / HTTP/1.1", "GET / HTTP/1.1\r\n", "GET / HTTP/1.1\r\n\r",
           "a\r\r\n", "a\n\r\r\n", "a\r\n \r\n", "a\r\r", "a\n\t\n",
           std::string_view("a\n\0\n", 4)}) {
    EXPECT_EQ(find_head_end(no), std::string_view::npos) << no;
  }
  // A blank line follows an LF: an empty first line followed by a blank one ends the head.
  EXPECT_EQ(find_head_end("\n\n"), 2U);
  EXPECT_EQ(find_head_end("\r\n\r\n"), 4U);
}

// A head as the callers see it: the end, the request line parts and the field lines (or the
// first field error), as one comparable string.
std::string describe(std::string_view buf) {
  const std::size_t end = find_head_end(buf);
  if (end == std::string_view::npos) {
    return "need more";
  }
  line_reader lines(buf.substr(0, end));
  std::string_view l;
  lines.next(l);
  const request_line rl = split_request_line(l);
  std::string d = std::to_string(end) + "|" + std::string(rl.method) + "|" +
                  std::string(rl.target) + "|" + std::string(rl.version) + "|" +
                  (rl.has_target ? "t" : "-") + (rl.has_version ? "v" : "-");
  while (lines.next(l) && !l.empty()) {
    const field_line f = parse_field_line(l);
    d += "|" + std::to_string(static_cast<int>(f.error)) + ":" + std::string(f.f.name) + "=" +
         std::string(f.f.value);
  }
  return d;
}

const std::array<std::string_view, 8> sample_heads = {
    "GET /index.html?q=1 HTTP/1.1\r\nHost: a.test\r\nAccept: */*\r\n\r\nBODY",
    "POST /x HTTP/1.0\nContent-Length: 3\nTransfer-Encoding: chunked\n\nabc",
    "GET / HTTP/1.1\r\nX: a\r\n \tfolded\r\nY:b\r\n\r\n",
    "PUT /p HTTP/1.1\r\nno colon here\r\nBad Name: v\r\n: empty\r\n\n",
    "GET\r\n\r\n",
    "GET / HTTP/1.1\nA:\n\r\n",
    "OPTIONS * HTTP/1.1\r\nHost:  spaced   \r\nMulti: a, b,c\r\n\r\nGET / HTTP/1.1\r\n\r\n",
    "CONNECT a.test:443 HTTP/1.1\r\nHost: a.test:443\r\nX\r\r\n\r\n",
};

TEST(http_head, every_split_point_gives_the_whole_inputs_answer) {
  for (const std::string_view head : sample_heads) {
    const std::string whole = describe(head);
    ASSERT_NE(whole, "need more") << head;
    // Two pieces, split at every offset; the reader looks again after each piece.
    for (std::size_t k = 0; k <= head.size(); ++k) {
      std::string buf(head.substr(0, k));
      std::string first = describe(buf);
      buf.append(head.substr(k));
      const std::string second = describe(buf);
      EXPECT_TRUE(first == "need more" || first == whole) << k << ": " << head;
      EXPECT_EQ(second, whole) << k << ": " << head;
    }
    // Byte by byte: "need more" until the blank line's last byte, then the same answer.
    std::string buf;
    std::size_t found_at = 0;
    for (std::size_t k = 0; k < head.size(); ++k) {
      buf.push_back(head[k]);
      const std::string d = describe(buf);
      if (d != "need more") {
        EXPECT_EQ(d, whole) << k;
        if (found_at == 0) {
          found_at = k + 1;
        }
      }
    }
    EXPECT_EQ(found_at, find_head_end(head)) << head;
  }
}

TEST(http_head, every_split_point_of_the_lines_gives_the_same_lines) {
  const std::string_view text = "a\r\nbb\n\r\nccc\r\r\n\n";
  std::vector<std::string> whole;
  std::size_t at = 0;
  for (auto l = next_line(text, at); l; l = next_line(text, at)) {
    whole.emplace_back(l->content);
    at = l->next;
  }
  ASSERT_EQ(whole, (std::vector<std::string>{"a", "bb", "", "ccc\r", ""}));
  for (std::size_t k = 0; k <= text.size(); ++k) {
    // A streaming reader: complete lines from the first piece, then the rest once it arrives.
    std::string buf(text.substr(0, k));
    std::vector<std::string> got;
    std::size_t pos = 0;
    for (auto l = next_line(buf, pos); l; l = next_line(buf, pos)) {
      got.emplace_back(l->content);
      pos = l->next;
    }
    buf.append(text.substr(k));
    for (auto l = next_line(buf, pos); l; l = next_line(buf, pos)) {
      got.emplace_back(l->content);
      pos = l->next;
    }
    EXPECT_EQ(got, whole) << k;
  }
}

// --- The request line -------------------------------------------------------------------------

TEST(http_head, split_request_line_at_the_first_two_spaces) {
  request_line r = split_request_line("GET /a?b HTTP/1.1");
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.target, "/a?b");
  EXPECT_EQ(r.version, "HTTP/1.1");
  EXPECT_TRUE(r.has_target);
  EXPECT_TRUE(r.has_version);

  r = split_request_line("GET");
  EXPECT_EQ(r.method, "GET");
  EXPECT_FALSE(r.has_target);
  EXPECT_FALSE(r.has_version);

  r = split_request_line("GET /");
  EXPECT_EQ(r.target, "/");
  EXPECT_TRUE(r.has_target);
  EXPECT_FALSE(r.has_version);

  r = split_request_line("GET  / HTTP/1.1");  // empty target
  EXPECT_EQ(r.target, "");
  EXPECT_EQ(r.version, "/ HTTP/1.1");

  r = split_request_line("GET / HTTP/1.1 ");  // trailing SP stays in the version
  EXPECT_EQ(r.version, "HTTP/1.1 ");

  r = split_request_line(" / HTTP/1.1");  // empty method
  EXPECT_EQ(r.method, "");
  EXPECT_EQ(r.target, "/");

  r = split_request_line("");
  EXPECT_EQ(r.method, "");
  EXPECT_FALSE(r.has_target);
}

TEST(http_head, is_request_target_for_every_byte) {
  for (int b = 0; b < 256; ++b) {
    const std::string t = std::string("/a") + static_cast<char>(b);
    const bool visible = b > 0x20 && b < 0x7f;
    EXPECT_EQ(is_request_target(t, false), visible) << b;
    EXPECT_EQ(is_request_target(t, true), visible || b >= 0x80) << b;
  }
  EXPECT_FALSE(is_request_target("", true));
  EXPECT_FALSE(is_request_target("", false));
  EXPECT_TRUE(is_request_target("*", false));
}

TEST(http_head, parse_http1_version_is_http_1_and_one_digit) {
  for (int b = 0; b < 256; ++b) {
    const std::string v = std::string("HTTP/1.") + static_cast<char>(b);
    const auto got = parse_http1_version(v);
    if (b >= '0' && b <= '9') {
      EXPECT_EQ(got, b - '0') << b;
    } else {
      EXPECT_EQ(got, std::nullopt) << b;
    }
  }
  for (const std::string_view bad : {"", "HTTP/1.", "HTTP/1.10", "HTTP/2.0", "http/1.1", "HTTP/1,1",
                                     " HTTP/1.1", "HTTP/1.1 ", "HTTP/11"}) {
    EXPECT_EQ(parse_http1_version(bad), std::nullopt) << bad;
  }
}

// --- Field lines ------------------------------------------------------------------------------

TEST(http_head, parse_field_line_splits_at_the_first_colon_and_trims_the_value) {
  field_line f = parse_field_line("Host: a.test:8080");
  EXPECT_EQ(f.error, field_error::none);
  EXPECT_EQ(f.f, (field{"Host", "a.test:8080"}));
  f = parse_field_line("X-A:\t v \t");
  EXPECT_EQ(f.f, (field{"X-A", "v"}));
  f = parse_field_line("Empty:");
  EXPECT_EQ(f.error, field_error::none);
  EXPECT_EQ(f.f, (field{"Empty", ""}));
  f = parse_field_line("K: a\rb\x01");  // value bytes are the caller's to judge
  EXPECT_EQ(f.f.value, "a\rb\x01");
}

TEST(http_head, parse_field_line_errors_in_order) {
  EXPECT_EQ(parse_field_line(" Host: a").error, field_error::obs_fold);
  EXPECT_EQ(parse_field_line("\tHost: a").error, field_error::obs_fold);
  EXPECT_EQ(parse_field_line(" no colon").error, field_error::obs_fold);
  EXPECT_EQ(parse_field_line("").error, field_error::no_colon);
  EXPECT_EQ(parse_field_line("no colon").error, field_error::no_colon);
  EXPECT_EQ(parse_field_line(": v").error, field_error::bad_name);
  EXPECT_EQ(parse_field_line("Host : a").error, field_error::bad_name);
  EXPECT_EQ(parse_field_line("Ho\rst: a").error, field_error::bad_name);
  const field_line bad = parse_field_line("a b: c");
  EXPECT_EQ(bad.error, field_error::bad_name);
  EXPECT_EQ(bad.f, field{});
}

TEST(http_head, parse_field_line_name_bytes_for_every_byte) {
  for (int b = 0; b < 256; ++b) {
    const char c = static_cast<char>(b);
    const std::string line = std::string("X") + c + "Y: v";  // outlives the views in f
    const field_line f = parse_field_line(line);
    if (c == ':') {
      EXPECT_EQ(f.error, field_error::none);
      EXPECT_EQ(f.f.name, "X");
    } else if (rfc_tchar(b)) {
      EXPECT_EQ(f.error, field_error::none) << b;
      EXPECT_EQ(f.f.value, "v");
    } else {
      EXPECT_EQ(f.error, field_error::bad_name) << b;
    }
    // As the first byte: SP and HTAB are obs-fold, ':' an empty name.
    const std::string first = std::string(1, c) + "Y: v";
    const field_line g = parse_field_line(first);
    const field_error want = (c == ' ' || c == '\t') ? field_error::obs_fold
                             : rfc_tchar(b)          ? field_error::none
                                                     : field_error::bad_name;
    EXPECT_EQ(g.error, want) << b;
  }
}

// --- Field values -----------------------------------------------------------------------------

TEST(http_head, find_field_is_case_insensitive_and_takes_the_first) {
  const std::vector<field> fields = {{"Host", "a"}, {"X", "1"}, {"HOST", "b"}};
  ASSERT_NE(find_field(fields, "host"), nullptr);
  EXPECT_EQ(find_field(fields, "host")->value, "a");
  EXPECT_EQ(find_field(fields, "x")->value, "1");
  EXPECT_EQ(find_field(fields, "Hos"), nullptr);
  EXPECT_EQ(find_field({}, "Host"), nullptr);
}

TEST(http_head, list_contains_compares_trimmed_elements) {
  EXPECT_TRUE(list_contains("keep-alive, Upgrade", "upgrade"));
  EXPECT_TRUE(list_contains(" close ", "close"));
  EXPECT_TRUE(list_contains(",,websocket,", "websocket"));
  EXPECT_TRUE(list_contains("a,\tWebSocket\t", "websocket"));
  EXPECT_FALSE(list_contains("", "close"));
  EXPECT_FALSE(list_contains("closed", "close"));
  EXPECT_FALSE(list_contains("clo se", "close"));
  EXPECT_FALSE(list_contains("a;close", "close"));
}

TEST(http_head, parse_content_length_takes_equal_decimal_elements) {
  constexpr std::uint64_t max = std::uint64_t{1} << 62;
  EXPECT_EQ(parse_content_length("0", max), 0U);
  EXPECT_EQ(parse_content_length("12", max), 12U);
  EXPECT_EQ(parse_content_length("012", max), 12U);
  EXPECT_EQ(parse_content_length("12, 12", max), 12U);
  EXPECT_EQ(parse_content_length("12,012 ,\t12", max), 12U);
  EXPECT_EQ(parse_content_length("4611686018427387904", max), max);
  EXPECT_EQ(parse_content_length("4611686018427387905", max), std::nullopt);
  EXPECT_EQ(parse_content_length("99999999999999999999999", max), std::nullopt);
  for (const std::string_view bad :
       {"", " ", "12,", ",12", "12, 13", "+1", "-1", "1 2", "0x1", "1e3", "12;", "1.0"}) {
    EXPECT_EQ(parse_content_length(bad, max), std::nullopt) << bad;
  }
  for (int b = 0; b < 256; ++b) {
    const char c = static_cast<char>(b);
    const auto got = parse_content_length(std::string("1") + c, max);
    if (b >= '0' && b <= '9') {
      EXPECT_EQ(got, static_cast<std::uint64_t>(10 + b - '0')) << b;
    } else if (c == ' ' || c == '\t') {
      EXPECT_EQ(got, 1U) << b;  // OWS around an element
    } else {
      EXPECT_EQ(got, std::nullopt) << b;
    }
  }
}

TEST(http_head, transfer_codings_follow_every_line_in_order) {
  transfer_codings te;
  te.add("chunked");
  EXPECT_TRUE(te.chunked);
  EXPECT_FALSE(te.after_chunked);

  te = {};
  te.add("gzip, chunked");
  EXPECT_TRUE(te.chunked);
  te.add(" , ");  // empty elements change nothing
  EXPECT_TRUE(te.chunked);
  EXPECT_FALSE(te.after_chunked);
  te.add("gzip");  // a later line after chunked
  EXPECT_TRUE(te.after_chunked);
  te.add("chunked");  // stays refused
  EXPECT_TRUE(te.after_chunked);

  te = {};
  te.add("chunked, chunked");
  EXPECT_TRUE(te.after_chunked);

  te = {};
  te.add("CHUNKED");
  EXPECT_TRUE(te.chunked);
  te = {};
  te.add("chunked;q=1");
  EXPECT_FALSE(te.chunked);
  te = {};
  te.add("identity");
  EXPECT_FALSE(te.chunked);
  EXPECT_FALSE(te.after_chunked);
  te = {};
  te.add("");
  EXPECT_FALSE(te.chunked);
}

}  // namespace
}  // namespace kiteline::http
