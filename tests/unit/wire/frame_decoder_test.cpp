// frame_decoder: parsing, streaming of data views, limits and every error path.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/text.hpp"
#include "unit/wire/vector_reader.hpp"
#include "wire/errc.hpp"
#include "wire/frame_decoder.hpp"
#include "wire/zchunk.hpp"

namespace kiteline::wire::test {
namespace {

std::string hex(std::size_t n) { return to_hex_number(n); }

// A plain frame around `payload`.
std::string frame(const std::string& payload) { return hex(payload.size()) + "\r\n" + payload; }

// Decodes `in` whole, byte by byte and split at every position; all must agree (headers, data,
// error). Returns the whole-input result.
decode_result decode_all_ways(const std::string& in, bool z = false, const frame_limits& lim = {}) {
  const auto buf = as_bytes(in);
  const auto whole = decode_whole(buf, z, lim);
  const auto same = [&](const decode_result& r, const std::string& how) {
    EXPECT_EQ(r.error, whole.error) << how;
    EXPECT_EQ(r.corrupt_frames, whole.corrupt_frames) << how;
    EXPECT_EQ(r.at_boundary, whole.at_boundary) << how;
    EXPECT_TRUE(r.chunks == whole.chunks) << how;
    EXPECT_TRUE(r.views_ok) << how;
  };
  same(decode_chunks(buf, z, [](std::size_t) { return 1; }, lim), "byte by byte");
  // Every split point; a prime stride for big inputs (the 16 KiB header-cap case).
  const std::size_t step = in.size() <= 4096 ? 1 : 97;
  for (std::size_t p = 1; p < in.size(); p += step) {
    same(decode_chunks(buf, z, [p](std::size_t off) { return off == 0 ? p : SIZE_MAX; }, lim),
         "split at " + std::to_string(p));
  }
  EXPECT_TRUE(whole.views_ok);
  return whole;
}

std::error_code error_of(const std::string& in, bool z = false, const frame_limits& lim = {}) {
  return decode_all_ways(in, z, lim).error;
}

TEST(frame_decoder, parses_a_captured_skb_ack) {
  const auto r = decode_all_ways("1b\r\nNOOP: 1\r\nSID: 7\r\nSKB: 0\r\n\r\n");
  ASSERT_FALSE(r.error);
  EXPECT_TRUE(r.at_boundary);
  ASSERT_EQ(r.chunks.size(), 1U);
  const auto& h = r.chunks[0].headers;
  EXPECT_TRUE(h.noop);
  EXPECT_EQ(h.sid, 7U);
  EXPECT_EQ(h.skb, 0U);
  EXPECT_TRUE(h.extra.empty());
  EXPECT_EQ(r.chunks[0].data_len, 0U);
  EXPECT_EQ(r.chunks[0].data_events, 0U);
}

TEST(frame_decoder, parses_every_known_header) {
  const std::string payload =
      "NOOP: 1\r\nSID: 12345678\r\nProto: http\r\nHost: foo.test\r\nPort: 27080\r\n"
      "RIP: ::ffff:127.0.0.1\r\nRPort: 41136\r\nRTLS: 1\r\nEOF: 1WR\r\nPING: 1795342288.6446\r\n"
      "PONG: x y\r\nSKB: 18446744073709551615\r\nSPD: 1000\r\nZRST: 1\r\nQuota: -5\r\n"
      "X-PageKite-OK: http:foo.test:abc\r\nQDays: 3\r\n\r\nhello";
  const auto r = decode_all_ways(frame(payload));
  ASSERT_FALSE(r.error) << r.error.message();
  ASSERT_EQ(r.chunks.size(), 1U);
  const auto& h = r.chunks[0].headers;
  EXPECT_TRUE(h.noop);
  EXPECT_EQ(h.sid, 12345678U);
  EXPECT_EQ(h.proto, "http");
  EXPECT_EQ(h.host, "foo.test");
  EXPECT_EQ(h.port, 27080U);
  EXPECT_EQ(h.rip, "::ffff:127.0.0.1");
  EXPECT_EQ(h.rport, 41136U);
  EXPECT_TRUE(h.rtls);
  EXPECT_EQ(h.eof, eof_flags::both);
  EXPECT_EQ(h.ping, "1795342288.6446");
  EXPECT_EQ(h.pong, "x y");
  EXPECT_EQ(h.skb, 18446744073709551615ULL);
  EXPECT_EQ(h.spd, 1000U);
  EXPECT_TRUE(h.zrst);
  EXPECT_EQ(h.quota, -5);
  ASSERT_EQ(h.extra.size(), 2U);
  EXPECT_EQ(h.extra[0], (std::pair<std::string, std::string>("X-PageKite-OK", "http:foo.test:abc")));
  EXPECT_EQ(h.extra[1], (std::pair<std::string, std::string>("QDays", "3")));
  EXPECT_EQ(r.chunks[0].data(as_bytes(frame(payload))), "hello");
}

TEST(frame_decoder, is_lenient_where_pagekite_is) {
  // Upper-case hex, case-insensitive names, values and names trimmed of blanks.
  const std::string payload = "sid:\t 42 \t\r\n  proto :http\r\nhOsT:  foo.test\r\neof: 1r\r\n\r\n";
  const std::string upper = hex(payload.size());
  const std::string up = to_upper(upper);
  const auto r = decode_all_ways("00" + up + "\r\n" + payload);
  ASSERT_FALSE(r.error) << r.error.message();
  ASSERT_EQ(r.chunks.size(), 1U);
  const auto& h = r.chunks[0].headers;
  EXPECT_EQ(h.sid, 42U);
  EXPECT_EQ(h.proto, "http");
  EXPECT_EQ(h.host, "foo.test");
  EXPECT_EQ(h.eof, eof_flags::read);
}

TEST(frame_decoder, eof_letters) {
  const auto eof_of = [](const std::string& v) {
    const auto r = decode_all_ways(frame("SID: 1\r\nEOF: " + v + "\r\n\r\n"));
    EXPECT_FALSE(r.error) << v;
    return r.chunks.empty() ? std::nullopt : r.chunks[0].headers.eof;
  };
  EXPECT_EQ(eof_of("1"), eof_flags::both);
  EXPECT_EQ(eof_of("1R"), eof_flags::read);
  EXPECT_EQ(eof_of("1r"), eof_flags::read);
  EXPECT_EQ(eof_of("1W"), eof_flags::write);
  EXPECT_EQ(eof_of("1WR"), eof_flags::both);
  EXPECT_EQ(eof_of("1rw"), eof_flags::both);
}

TEST(frame_decoder, streams_plain_data_as_views_into_each_read) {
  const std::string body(16384, 'x');
  const std::string in = frame("SID: 7\r\n\r\n" + body) + frame("SID: 7\r\nEOF: 1R\r\n\r\nBye!");
  const auto buf = as_bytes(in);
  frame_decoder dec({}, false);
  // Three reads: the size line + headers + 100 data bytes, 10000 bytes, the rest.
  const std::size_t head = 6 + 10;  // "400a\r\n" + "SID: 7\r\n\r\n"
  const std::size_t cuts[] = {head + 100, head + 10100, in.size()};
  std::size_t start = 0;
  std::vector<std::span<const std::byte>> pieces;
  std::vector<frame_event> events;
  for (const std::size_t end : cuts) {
    auto read = buf.subspan(start, end - start);
    for (;;) {
      const auto s = dec.feed(read);
      events.push_back(s.event);
      if (s.event == frame_event::data) {
        pieces.push_back(dec.data());
        // A view into this read's bytes, not a copy.
        EXPECT_GE(dec.data().data(), read.data());
        EXPECT_LE(dec.data().data() + dec.data().size(), read.data() + read.size());
      }
      read = read.subspan(s.consumed);
      if (s.event == frame_event::need_more) {
        EXPECT_TRUE(read.empty());
        break;
      }
    }
    start = end;
  }
  ASSERT_EQ(pieces.size(), 4U);  // 100 + 10000 + 6284 + "Bye!"
  EXPECT_EQ(pieces[0].size(), 100U);
  EXPECT_EQ(pieces[1].size(), 10000U);
  EXPECT_EQ(pieces[2].size(), 6284U);
  EXPECT_EQ(to_string(pieces[3]), "Bye!");
  const std::vector<frame_event> want = {
      frame_event::headers, frame_event::data,    frame_event::need_more, frame_event::data,
      frame_event::need_more, frame_event::data,  frame_event::headers,   frame_event::data,
      frame_event::need_more};
  EXPECT_EQ(events, want);
  EXPECT_TRUE(dec.at_frame_boundary());
}

TEST(frame_decoder, chunk_without_data_completes_on_headers) {
  frame_decoder dec({}, false);
  const std::string in = frame("SID: 9\r\n\r\n");
  auto s = dec.feed(as_bytes(in));
  EXPECT_EQ(s.event, frame_event::headers);
  EXPECT_EQ(s.consumed, in.size());
  EXPECT_TRUE(dec.chunk_complete());
  EXPECT_EQ(dec.data_remaining(), 0U);
  s = dec.feed({});
  EXPECT_EQ(s.event, frame_event::need_more);
  EXPECT_EQ(s.consumed, 0U);
}

TEST(frame_decoder, headers_survive_until_the_next_but_one_headers_event) {
  frame_decoder dec({}, false);
  const std::string first = frame("SID: 1\r\nHost: one.test\r\n\r\nab");
  std::string second = frame("SID: 2\r\nHost: two.test\r\n\r\n");
  ASSERT_EQ(dec.feed(as_bytes(first)).event, frame_event::headers);
  const chunk_headers h1 = dec.headers();
  // The first chunk's data, then half of the next chunk's header block: h1 must still read.
  ASSERT_EQ(dec.feed(as_bytes(first).subspan(first.size() - 2)).event, frame_event::data);
  const auto half = as_bytes(second).first(second.size() / 2);
  EXPECT_EQ(dec.feed(half).event, frame_event::need_more);
  second.replace(0, second.size() / 2, second.size() / 2, '#');  // the caller reuses its buffer
  EXPECT_EQ(h1.host, "one.test");
  EXPECT_EQ(h1.sid, 1U);
  const std::string rest = frame("SID: 2\r\nHost: two.test\r\n\r\n").substr(second.size() / 2);
  ASSERT_EQ(dec.feed(as_bytes(rest)).event, frame_event::headers);
  EXPECT_EQ(dec.headers().host, "two.test");
  EXPECT_EQ(h1.host, "one.test");
}

// ---- errors --------------------------------------------------------------------------------

TEST(frame_decoder_errors, bad_hex_length) {
  for (const char* in : {"xyz\r\n", "1g\r\n", "\r\n", "Z5\r\n", "5Z\r\n", "5R5\r\n", "5\n",
                         "5\rx", " 5\r\n", "0x5\r\n", "5r\r\n", "5ZR\r\n", "-5\r\n"}) {
    EXPECT_EQ(error_of(in, true), errc::bad_hex_length) << in;
  }
}

TEST(frame_decoder_errors, length_too_large_without_overflow) {
  EXPECT_EQ(error_of("ffffffffffffffffffff\r\n"), errc::length_too_large);
  EXPECT_EQ(error_of("10000000000000000\r\n"), errc::length_too_large);  // 2^64
  EXPECT_EQ(error_of("100001\r\n"), errc::length_too_large);             // 1 MiB + 1
  EXPECT_EQ(error_of("10Z100001\r\n", true), errc::length_too_large);
  EXPECT_EQ(error_of("100001Z10\r\n", true), errc::length_too_large);
  frame_limits lim;
  lim.max_frame_size = 16;
  EXPECT_EQ(error_of("11\r\n", false, lim), errc::length_too_large);
  // 1 MiB exactly is allowed (and not allocated up front: need_more after the size line).
  const auto r = decode_whole(as_bytes("100000\r\n"), false);
  EXPECT_FALSE(r.error);
}

TEST(frame_decoder_errors, size_line_too_long) {
  EXPECT_EQ(error_of(std::string(41, '0') + "1\r\n"), errc::size_line_too_long);
  frame_limits lim;
  lim.max_size_line = 4;
  EXPECT_EQ(error_of("0001Z\r\n", true, lim), errc::size_line_too_long);
  EXPECT_FALSE(decode_whole(as_bytes("000a\r\nSID: 1\r\n\r\n"), false, lim).error);
}

TEST(frame_decoder_errors, zero_length_frame) {
  EXPECT_EQ(error_of("0\r\n"), errc::zero_length_frame);
  EXPECT_EQ(error_of("000\r\n"), errc::zero_length_frame);
  EXPECT_EQ(error_of("5Z0\r\n", true), errc::zero_length_frame);
  EXPECT_EQ(error_of("0Z5\r\nxxxxx", true), errc::zero_length_frame);
}

TEST(frame_decoder_errors, missing_blank_line) {
  EXPECT_EQ(error_of(frame("SID: 7")), errc::missing_blank_line);
  EXPECT_EQ(error_of(frame("SID: 7\r\n")), errc::missing_blank_line);
  EXPECT_EQ(error_of(frame("SID: 7\r\n\r")), errc::missing_blank_line);
  EXPECT_EQ(error_of(frame("\n\n")), errc::missing_blank_line);
  EXPECT_EQ(error_of(frame("SID: 7\n\ndata")), errc::missing_blank_line);  // bare LF unsupported
  EXPECT_EQ(error_of("3\r\n\r\n\r\n"), errc::missing_blank_line);  // SIZE cuts the blank line
}

TEST(frame_decoder_errors, header_block_too_large) {
  frame_limits lim;
  lim.max_header_bytes = 32;
  const std::string ok = "SID: 1\r\nHost: " + std::string(14, 'h') + "\r\n\r\n";  // 32 bytes
  ASSERT_EQ(ok.size(), 32U);
  EXPECT_FALSE(error_of(frame(ok + "data"), false, lim));
  const std::string big = "SID: 1\r\nHost: " + std::string(15, 'h') + "\r\n\r\n";
  EXPECT_EQ(error_of(frame(big + "data"), false, lim), errc::header_block_too_large);
  EXPECT_EQ(error_of(frame(std::string(100, 'a')), false, lim), errc::header_block_too_large);
  // Default cap: 16 KiB.
  EXPECT_EQ(error_of(frame("X-Big: " + std::string(16384, 'v') + "\r\n\r\n")),
            errc::header_block_too_large);
}

TEST(frame_decoder_errors, too_many_headers) {
  frame_limits lim;
  lim.max_header_lines = 3;
  EXPECT_FALSE(error_of(frame("A: 1\r\nB: 2\r\nC: 3\r\n\r\n"), false, lim));
  EXPECT_EQ(error_of(frame("A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n"), false, lim),
            errc::too_many_headers);
  std::string many;
  for (int i = 0; i < 257; ++i) {
    many += "X-PageKite: a\r\n";
  }
  EXPECT_EQ(error_of(frame(many + "\r\n")), errc::too_many_headers);
}

TEST(frame_decoder_errors, header_line_without_colon) {
  EXPECT_EQ(error_of(frame("SID 7\r\n\r\n")), errc::bad_header_line);
  EXPECT_EQ(error_of(frame("SID: 7\r\ngarbage\r\n\r\n")), errc::bad_header_line);
  EXPECT_EQ(error_of(frame("\r\nSID: 7\r\n\r\n")), errc::bad_header_line);  // empty first line
}

TEST(frame_decoder_errors, bad_sid) {
  for (const char* v : {"123456789", "x1", "", "-1", "1 2", "0x10", "+5", "1.0"}) {
    EXPECT_EQ(error_of(frame(std::string("SID: ") + v + "\r\n\r\n")), errc::bad_sid) << v;
  }
  frame_limits lim;
  lim.max_sid_digits = 12;
  EXPECT_EQ(error_of(frame("SID: 4294967296\r\n\r\n"), false, lim), errc::bad_sid);  // > 2^32-1
  EXPECT_FALSE(error_of(frame("SID: 4294967295\r\n\r\n"), false, lim));
  EXPECT_FALSE(error_of(frame("SID: 00000007\r\n\r\n")));
}

TEST(frame_decoder_errors, bad_number) {
  for (const char* line : {"Port: 65x", "Port: ", "RPort: 4294967296", "SKB: ",
                           "SKB: 18446744073709551616", "SKB: -1", "SPD: 1e3", "Quota: --1",
                           "Quota: -", "Quota: 9223372036854775808", "Port: 0x50"}) {
    EXPECT_EQ(error_of(frame(std::string("SID: 1\r\n") + line + "\r\n\r\n")), errc::bad_number)
        << line;
  }
}

TEST(frame_decoder_errors, bad_eof) {
  for (const char* v : {"2R", "1X", "", "R", "0", "1 R", "11"}) {
    EXPECT_EQ(error_of(frame(std::string("SID: 1\r\nEOF: ") + v + "\r\n\r\n")), errc::bad_eof)
        << v;
  }
}

TEST(frame_decoder_errors, z_frame_when_not_negotiated) {
  EXPECT_EQ(error_of("5Z5\r\nxxxxx"), errc::compressed_not_enabled);
  EXPECT_EQ(error_of("5Z5R\r\nxxxxx"), errc::compressed_not_enabled);
}

TEST(frame_decoder_errors, errors_are_sticky_and_consume_everything) {
  frame_decoder dec({}, false);
  const std::string bad = "zz\r\n";
  const auto s = dec.feed(as_bytes(bad));
  EXPECT_EQ(s.event, frame_event::error);
  EXPECT_EQ(s.error, errc::bad_hex_length);
  EXPECT_EQ(s.consumed, 1U);
  EXPECT_TRUE(dec.fatal());
  const std::string more = frame("SID: 1\r\n\r\n");
  const auto again = dec.feed(as_bytes(more));
  EXPECT_EQ(again.event, frame_event::error);
  EXPECT_EQ(again.error, errc::bad_hex_length);
  EXPECT_EQ(again.consumed, more.size());
}

// ---- ZChunks -------------------------------------------------------------------------------

std::string z_frame(zchunk_encoder& enc, const chunk_headers& h, const std::string& data) {
  std::vector<std::byte> out(zchunk_encoder::frame_bound(h, data.size()));
  const auto n = enc.encode(out, h, as_bytes(data));
  EXPECT_TRUE(n.has_value());
  return to_string(std::span<const std::byte>(out).first(n.has_value() ? *n : 0));
}

TEST(frame_decoder_z, garbage_is_a_corrupt_frame_and_an_r_frame_recovers) {
  chunk_headers h;
  h.sid = 3;
  zchunk_encoder first(9);
  const std::string good1 = z_frame(first, h, std::string(300, 'a'));
  const std::string good2 = z_frame(first, h, std::string(300, 'b'));  // needs good1's history
  zchunk_encoder fresh(9);
  fresh.reset();  // marks its first frame "R"
  const std::string with_r = z_frame(fresh, h, std::string(200, 'c'));
  ASSERT_NE(with_r.find("R\r\n"), std::string::npos);

  const std::string in = "20Z5\r\nhello" +            // garbage: corrupt, not fatal
                         frame("SID: 3\r\n\r\nplain") +  // plain frames still work
                         good2 +                        // inflater unusable: corrupt again
                         with_r;                        // R: fresh inflater, decodes
  const auto r = decode_all_ways(in, true);
  ASSERT_FALSE(r.error) << r.error.message();
  EXPECT_EQ(r.corrupt_frames, 2U);
  ASSERT_EQ(r.chunks.size(), 2U);
  EXPECT_EQ(r.chunks[0].data(as_bytes(in)), "plain");
  EXPECT_TRUE(r.chunks[1].compressed);
  EXPECT_EQ(r.chunks[1].zdata, std::string(200, 'c'));
  EXPECT_TRUE(r.at_boundary);
  (void)good1;
}

TEST(frame_decoder_z, corrupt_frame_event_details) {
  frame_decoder dec({}, true);
  const std::string in = "20Z5\r\nhello";
  const auto s = dec.feed(as_bytes(in));
  EXPECT_EQ(s.event, frame_event::corrupt_frame);
  EXPECT_EQ(s.error, errc::zlib_error);
  EXPECT_EQ(s.consumed, in.size());
  EXPECT_FALSE(dec.fatal());
  EXPECT_TRUE(dec.at_frame_boundary());
}

TEST(frame_decoder_z, size_must_match_exactly) {
  chunk_headers h;
  h.sid = 3;
  for (const int delta : {-1, +1}) {
    zchunk_encoder enc(1);
    std::string f = z_frame(enc, h, std::string(500, 'q'));
    const auto z = f.find('Z');
    const std::size_t size = std::stoul(f.substr(0, z), nullptr, 16);
    f = hex(static_cast<std::size_t>(static_cast<long>(size) + delta)) + f.substr(z);
    const auto r = decode_all_ways(f, true);
    EXPECT_FALSE(r.error);
    EXPECT_EQ(r.corrupt_frames, 1U) << delta;
    EXPECT_TRUE(r.chunks.empty());
  }
}

TEST(frame_decoder_z, malformed_headers_inside_a_z_frame_are_fatal) {
  chunk_headers h;
  const header_field bad{"SID", "x"};
  h.extra = std::span<const header_field>(&bad, 1);
  zchunk_encoder enc(1);
  EXPECT_EQ(error_of(z_frame(enc, h, "data"), true), errc::bad_sid);
  zchunk_encoder enc2(1);
  chunk_headers ok;
  ok.sid = 1;
  frame_limits lim;
  lim.max_header_bytes = 8;
  EXPECT_EQ(error_of(z_frame(enc2, ok, std::string(100, 'd')), true, lim),
            errc::header_block_too_large);
}

}  // namespace
}  // namespace kiteline::wire::test
