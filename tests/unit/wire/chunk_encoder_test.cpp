// chunk_encoder / zchunk_encoder: exact bytes, control chunks, encode -> decode round trips.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "unit/wire/vector_reader.hpp"
#include "wire/chunk_encoder.hpp"
#include "wire/errc.hpp"
#include "wire/handshake.hpp"
#include "wire/zchunk.hpp"

namespace kiteline::wire::test {
namespace {

std::string head_of(const chunk_headers& h, std::size_t data_len, bool reset = false) {
  std::vector<std::byte> out(chunk_head_size_bound(h));
  const std::size_t n = encode_chunk_head(out, h, data_len, reset);
  EXPECT_GT(n, 0U);
  EXPECT_LE(n, out.size());
  return to_string(std::span<const std::byte>(out).first(n));
}

TEST(chunk_encoder, open_chunk_matches_the_capture_byte_for_byte) {
  const auto v = load_vector("nozchunks/01-handshake-get.tunnel2.fe2be.bin");
  const std::string stream = to_string(v.stream());
  chunk_headers h;
  h.sid = 7;
  h.proto = "http";
  h.host = "foo.test";
  h.port = 27080;
  h.rip = "127.0.0.1";
  h.rport = 37988;
  const std::string request = "GET / HTTP/1.1\r\nHost: foo.test\r\nUser-Agent: curl/7.88.1\r\n"
                              "Accept: */*\r\n\r\n";
  const std::string head = head_of(h, request.size());
  EXPECT_EQ(head,
            "9a\r\nSID: 7\r\nProto: http\r\nHost: foo.test\r\nPort: 27080\r\nRIP: 127.0.0.1\r\n"
            "RPort: 37988\r\n\r\n");
  EXPECT_EQ(stream.substr(0, head.size() + request.size()), head + request);
}

TEST(chunk_encoder, control_chunks_match_the_captures) {
  EXPECT_EQ(make_skb_ack(7, 0).text(), "1b\r\nNOOP: 1\r\nSID: 7\r\nSKB: 0\r\n\r\n");
  EXPECT_EQ(make_eof(7, eof_flags::read).text(), "17\r\nSID: 7\r\nEOF: 1R\r\n\r\nBye!");
  EXPECT_EQ(make_eof(7, eof_flags::both).text(), "18\r\nSID: 7\r\nEOF: 1WR\r\n\r\nBye!");
  EXPECT_EQ(make_eof(7, eof_flags::write).text(), "17\r\nSID: 7\r\nEOF: 1W\r\n\r\nBye!");
  EXPECT_EQ(make_pong("1795343455.6882").text(),
            "23\r\nNOOP: 1\r\nPONG: 1795343455.6882\r\n\r\n!");
  EXPECT_EQ(make_ping("1795343455.6882").text(),
            "23\r\nNOOP: 1\r\nPING: 1795343455.6882\r\n\r\n!");
  EXPECT_EQ(make_zrst().text(), "15\r\nNOOP: 1\r\nZRST: 1\r\n\r\n!");
  EXPECT_EQ(make_zrst(true).text(), "15R\r\nNOOP: 1\r\nZRST: 1\r\n\r\n!");
  EXPECT_EQ(make_skb_ack(4294967295U, 18446744073709551615ULL).text(),
            "37\r\nNOOP: 1\r\nSID: 4294967295\r\nSKB: 18446744073709551615\r\n\r\n");

  // The same bytes as pagekite.py sent in scenarios 01 and 03.
  const auto t01 = to_string(load_vector("nozchunks/01-handshake-get.tunnel2.be2fe.bin").stream());
  EXPECT_EQ(t01.substr(0, 31), make_skb_ack(7, 0).text());
  EXPECT_EQ(t01.substr(t01.size() - 28), make_eof(7, eof_flags::both).text());
  const auto t03 = to_string(load_vector("nozchunks/03-idle-keepalive.tunnel2.fe2be.bin").stream());
  EXPECT_EQ(t03, make_pong("1795343455.6882").text());
}

TEST(chunk_encoder, frames_a_control_payload) {
  EXPECT_EQ(frame_control_payload(""), "0\r\n");
  EXPECT_EQ(frame_control_payload("NOOP: 1\r\n\r\n!"), "c\r\nNOOP: 1\r\n\r\n!");
  const std::string big(0x1abc, 'x');
  EXPECT_EQ(frame_control_payload(big), "1abc\r\n" + big);
  // pagekite.py's Flow B kite round and result chunks, byte for byte (scenario 01, zchunks).
  for (const char* name : {"zchunks/01-handshake-get.tunnel1.be2fe.bin",
                           "zchunks/01-handshake-get.tunnel1.fe2be.bin"}) {
    SCOPED_TRACE(name);
    const std::vector<std::byte> raw = read_file(vectors_dir() / name);
    const std::string bytes = to_string(raw);
    const std::size_t head = handshake_head_end(raw);
    ASSERT_NE(head, std::string::npos);
    const std::size_t eol = bytes.find("\r\n", head);
    const std::size_t size = std::stoul(bytes.substr(head, eol - head), nullptr, 16);
    const std::string chunk = bytes.substr(head, eol + 2 + size - head);
    EXPECT_EQ(frame_control_payload(std::string_view(chunk).substr(eol + 2 - head)), chunk);
  }
}

TEST(chunk_encoder, pong_echoes_at_most_64_chars_and_never_a_line_break) {
  const std::string long_ping(100, '7');
  EXPECT_EQ(make_pong(long_ping).text(),
            "54\r\nNOOP: 1\r\nPONG: " + std::string(64, '7') + "\r\n\r\n!");
  EXPECT_EQ(make_pong("12\n34").text(), "16\r\nNOOP: 1\r\nPONG: 12\r\n\r\n!");
  EXPECT_EQ(make_pong("12\r34").text(), "16\r\nNOOP: 1\r\nPONG: 12\r\n\r\n!");
}

TEST(chunk_encoder, refuses_small_buffers_and_line_breaks) {
  chunk_headers h;
  h.sid = 1;
  h.host = "foo.test";
  const std::string ok = head_of(h, 5);
  std::vector<std::byte> out(ok.size() - 1);
  EXPECT_EQ(encode_chunk_head(out, h, 5), 0U);
  out.resize(ok.size());
  EXPECT_EQ(encode_chunk_head(out, h, 5), ok.size());
  EXPECT_EQ(encode_chunk_head({}, h, 5), 0U);

  std::vector<std::byte> big(256);
  chunk_headers bad = h;
  bad.host = "evil\r\nSID: 9";
  EXPECT_EQ(encode_chunk_head(big, bad, 0), 0U);
  bad = h;
  bad.ping = "a\nb";
  EXPECT_EQ(encode_chunk_head(big, bad, 0), 0U);
  const header_field colon{"A:B", "v"};
  bad = h;
  bad.extra = std::span<const header_field>(&colon, 1);
  EXPECT_EQ(encode_chunk_head(big, bad, 0), 0U);
  const header_field cr{"A", "v\r"};
  bad.extra = std::span<const header_field>(&cr, 1);
  EXPECT_EQ(encode_chunk_head(big, bad, 0), 0U);
  EXPECT_EQ(encode_header_block(big, bad), 0U);
}

TEST(chunk_encoder, never_emits_a_zero_length_frame_or_one_without_separator) {
  const chunk_headers empty;
  // Not "2\r\n\r\n": the payload must contain "\r\n\r\n" or pagekite.py closes the tunnel.
  EXPECT_EQ(head_of(empty, 0), "4\r\n\r\n\r\n");
  EXPECT_EQ(header_block_size(empty), 4U);
  const auto r = decode_whole(as_bytes("4\r\n\r\n\r\n"), false);
  EXPECT_FALSE(r.error);
  ASSERT_EQ(r.chunks.size(), 1U);
  EXPECT_EQ(r.chunks[0].headers, owned_headers{});
}

TEST(chunk_encoder, size_bound_holds) {
  chunk_headers h;
  h.noop = true;
  h.sid = 4294967295U;
  h.skb = 18446744073709551615ULL;
  h.quota = -9223372036854775807LL;
  for (const std::size_t len : {std::size_t{0}, std::size_t{1}, std::size_t{1} << 40, SIZE_MAX / 2}) {
    std::vector<std::byte> out(chunk_head_size_bound(h));
    EXPECT_GT(encode_chunk_head(out, h, len, true), 0U) << len;
  }
}

// ---- round trips ---------------------------------------------------------------------------

struct round_trip_case {
  owned_headers headers;
  std::string data;
};

decode_result decode_string(const std::string& s, bool z) {
  const auto r = decode_whole(as_bytes(s), z);
  const auto bytewise = decode_chunks(as_bytes(s), z, [](std::size_t) { return 1; });
  EXPECT_TRUE(r.chunks == bytewise.chunks);
  EXPECT_EQ(r.error, bytewise.error);
  return r;
}

std::vector<round_trip_case> cases() {
  std::vector<round_trip_case> out;
  owned_headers all;
  all.noop = true;
  all.sid = 131071;
  all.proto = "http";
  all.host = "foo.test";
  all.port = 443;
  all.rip = "::ffff:127.0.0.1";
  all.rport = 65535;
  all.rtls = true;
  all.eof = eof_flags::both;
  all.ping = "1795342288.6446";
  all.pong = "1";
  all.skb = 1234567;
  all.spd = 99;
  all.zrst = true;
  all.quota = -3;
  all.extra = {{"X-PageKite-OK", "http:foo.test:abc"}, {"X-PageKite", "raw-22:a:b::c"},
               {"QConns", "5"}};
  out.push_back({all, ""});
  out.push_back({all, "!"});
  for (const eof_flags f : {eof_flags::read, eof_flags::write, eof_flags::both}) {
    owned_headers e;
    e.sid = 7;
    e.eof = f;
    out.push_back({e, "Bye!"});
  }
  owned_headers data;
  data.sid = 7;
  std::mt19937 rng(42);
  std::string random(16384, '\0');
  for (char& c : random) {
    c = static_cast<char>(rng());
  }
  out.push_back({data, random});
  out.push_back({data, ""});
  out.push_back({data, std::string(16256, 'z') + "\r\n\r\n"});
  owned_headers empty_ping;
  empty_ping.noop = true;
  empty_ping.ping = "";
  out.push_back({empty_ping, "!"});
  return out;
}

TEST(round_trip, plain_frames_for_every_header_field) {
  std::string stream;
  const auto cs = cases();
  for (const auto& c : cs) {
    std::vector<header_field> fields;
    const chunk_headers h = c.headers.view(fields);
    stream += head_of(h, c.data.size()) + c.data;
  }
  const auto r = decode_string(stream, false);
  ASSERT_FALSE(r.error) << r.error.message();
  EXPECT_TRUE(r.at_boundary);
  ASSERT_EQ(r.chunks.size(), cs.size());
  for (std::size_t i = 0; i < cs.size(); ++i) {
    EXPECT_EQ(r.chunks[i].headers, cs[i].headers) << i;
    EXPECT_EQ(r.chunks[i].data(as_bytes(stream)), cs[i].data) << i;
  }
}

std::string z_encode(zchunk_encoder& enc, const owned_headers& oh, const std::string& data) {
  std::vector<header_field> fields;
  const chunk_headers h = oh.view(fields);
  std::vector<std::byte> out(zchunk_encoder::frame_bound(h, data.size()));
  const auto n = enc.encode(out, h, as_bytes(data));
  EXPECT_TRUE(n.has_value());
  EXPECT_GT(n.has_value() ? *n : 0U, 0U);
  return to_string(std::span<const std::byte>(out).first(n.has_value() ? *n : 0));
}

TEST(round_trip, z_frames_share_one_stream) {
  for (const int level : {1, 9}) {
    zchunk_encoder enc(level);
    std::string stream;
    const auto cs = cases();
    for (const auto& c : cs) {
      stream += z_encode(enc, c.headers, c.data);
    }
    // Only the first frame carries the zlib header (78 01 for level 1, 78 da for level 9).
    const auto body = stream.find("\r\n") + 2;
    EXPECT_EQ(static_cast<unsigned char>(stream[body]), 0x78U);
    EXPECT_EQ(static_cast<unsigned char>(stream[body + 1]), level == 1 ? 0x01U : 0xdaU);
    const auto r = decode_string(stream, true);
    ASSERT_FALSE(r.error) << r.error.message();
    EXPECT_EQ(r.corrupt_frames, 0U);
    ASSERT_EQ(r.chunks.size(), cs.size());
    for (std::size_t i = 0; i < cs.size(); ++i) {
      EXPECT_TRUE(r.chunks[i].compressed);
      EXPECT_EQ(r.chunks[i].headers, cs[i].headers) << i;
      EXPECT_EQ(r.chunks[i].zdata, cs[i].data) << i;
    }
    // A fresh decoder cannot start in the middle of the stream: the second frame alone is
    // corrupt (it relies on the first frame's window).
    const std::string second = stream.substr(z_encode(*std::make_unique<zchunk_encoder>(level),
                                                      cs[0].headers, cs[0].data)
                                                 .size());
    EXPECT_GE(decode_string(second, true).corrupt_frames, 1U);
  }
}

TEST(round_trip, mixed_plain_and_z_frames) {
  zchunk_encoder enc(1);
  owned_headers d;
  d.sid = 5;
  const std::string big(5000, 'x');
  // One statement per frame: the shared deflate stream makes their order matter.
  std::string stream = z_encode(enc, d, big);
  stream += make_skb_ack(5, 4).text();
  stream += z_encode(enc, d, big + "y");
  stream += make_eof(5, eof_flags::read).text();
  const auto r = decode_string(stream, true);
  ASSERT_FALSE(r.error);
  ASSERT_EQ(r.chunks.size(), 4U);
  EXPECT_EQ(r.chunks[0].zdata, big);
  EXPECT_EQ(r.chunks[1].headers.skb, 4U);
  EXPECT_EQ(r.chunks[2].zdata, big + "y");
  EXPECT_EQ(r.chunks[3].headers.eof, eof_flags::read);
}

// ZRST cycle: a Z frame is damaged in transit, the receiver reports corrupt_frame and answers
// ZRST; the sender resets and marks its next frame R (compressed or plain), and the receiver
// decodes again from there.
TEST(round_trip, zrst_then_r_flag) {
  for (const bool next_is_plain : {false, true}) {
    zchunk_encoder enc(9);
    owned_headers d;
    d.sid = 5;
    const std::string f1 = z_encode(enc, d, std::string(400, 'a'));
    std::string f2 = z_encode(enc, d, std::string(400, 'b'));
    f2[f2.size() - 6] = static_cast<char>(f2[f2.size() - 6] ^ 0x55);  // damage the deflate data

    frame_decoder dec({}, true);
    const std::string first = f1 + f2;
    auto in = as_bytes(first);
    std::vector<frame_event> ev;
    for (;;) {
      const auto s = dec.feed(in);
      in = in.subspan(s.consumed);
      ev.push_back(s.event);
      if (s.event == frame_event::need_more) {
        break;
      }
    }
    ASSERT_EQ(ev, (std::vector<frame_event>{frame_event::headers, frame_event::data,
                                             frame_event::corrupt_frame, frame_event::need_more}));
    EXPECT_EQ(make_zrst().text(), "15\r\nNOOP: 1\r\nZRST: 1\r\n\r\n!");  // what we would answer

    enc.reset();  // the sender got our ZRST
    EXPECT_TRUE(enc.reset_pending());
    std::string next;
    if (next_is_plain) {
      next = make_skb_ack(5, 0, enc.take_reset_flag()).text();
      EXPECT_EQ(next.substr(0, 5), "1bR\r\n");
      EXPECT_FALSE(enc.take_reset_flag());
      next += z_encode(enc, d, std::string(300, 'c'));  // fresh stream, no R any more
    } else {
      next = z_encode(enc, d, std::string(300, 'c'));
      EXPECT_NE(next.find("R\r\n"), std::string::npos);
      EXPECT_FALSE(enc.reset_pending());
    }
    next += z_encode(enc, d, std::string(300, 'e'));
    in = as_bytes(next);
    std::string got;
    for (;;) {
      const auto s = dec.feed(in);
      in = in.subspan(s.consumed);
      ASSERT_NE(s.event, frame_event::error);
      ASSERT_NE(s.event, frame_event::corrupt_frame);
      if (s.event == frame_event::data) {
        got += to_string(dec.data());
      }
      if (s.event == frame_event::need_more) {
        break;
      }
    }
    EXPECT_EQ(got, std::string(300, 'c') + std::string(300, 'e'));
  }
}

TEST(zchunk_encoder, refuses_a_small_buffer_without_consuming) {
  zchunk_encoder enc(1);
  chunk_headers h;
  h.sid = 1;
  const std::string data(1000, 'k');
  std::vector<std::byte> small(10);
  const auto r = enc.encode(small, h, as_bytes(data));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, 0U);
  owned_headers oh = owned_headers::from(h);
  const auto f = z_encode(enc, oh, data);
  const auto d = decode_string(f, true);
  ASSERT_EQ(d.chunks.size(), 1U);  // still the stream's first frame: decodes on its own
  EXPECT_EQ(d.chunks[0].zdata, data);
}

// Real frames: a text chunk saves far more than a quarter, a random one does not.
TEST(zchunk_policy, judges_real_frames_by_the_quarter_they_save) {
  zchunk_encoder enc(6);
  zchunk_policy policy;
  chunk_headers h;
  h.sid = 7;
  owned_headers oh = owned_headers::from(h);
  std::string text;
  for (int i = 0; i < 40; ++i) {
    text += "<li><a href=\"/file" + std::to_string(i) + ".txt\">file" + std::to_string(i) +
            "</a></li>\n";
  }
  const auto zt = z_encode(enc, oh, text);
  EXPECT_TRUE(policy.worth_it(header_block_size(h) + text.size(), zt.size())) << zt.size();
  std::string noise(1024, '\0');
  std::uint32_t x = 2463534242U;
  for (auto& c : noise) {  // xorshift32: incompressible bytes
    x ^= x << 13U;
    x ^= x >> 17U;
    x ^= x << 5U;
    c = static_cast<char>(x & 0xffU);
  }
  const auto zn = z_encode(enc, oh, noise);
  EXPECT_FALSE(policy.worth_it(header_block_size(h) + noise.size(), zn.size())) << zn.size();
}

TEST(zchunk_policy, exact_quarter_boundary) {
  zchunk_policy p;
  EXPECT_TRUE(p.worth_it(1000, 750));
  EXPECT_FALSE(p.worth_it(1000, 751));
  EXPECT_TRUE(p.worth_it(1000, 0));
  EXPECT_FALSE(p.worth_it(1000, 5000));
}

TEST(zchunk_policy, goes_cold_after_misses_then_probes_one_stream_in_sixteen) {
  zchunk_policy p;
  for (unsigned i = 0; i < zchunk_policy::cold_after; ++i) {
    EXPECT_FALSE(p.cold());
    EXPECT_TRUE(p.start_stream());
    EXPECT_FALSE(p.worth_it(1300, 1100));
  }
  EXPECT_TRUE(p.cold());
  int tried = 0;
  for (unsigned i = 0; i < 10 * zchunk_policy::probe_every; ++i) {
    tried += p.start_stream() ? 1 : 0;
  }
  EXPECT_EQ(tried, 10);
  // A probe that saves turns compression back on for every new stream.
  EXPECT_TRUE(p.worth_it(1300, 200));
  EXPECT_FALSE(p.cold());
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(p.start_stream());
  }
  // One miss after a hit does not go cold yet.
  EXPECT_FALSE(p.worth_it(1300, 1290));
  EXPECT_TRUE(p.start_stream());
}

}  // namespace
}  // namespace kiteline::wire::test
