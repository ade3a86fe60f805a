// Decodes every pagekite.py tunnel capture (shared/vectors/pagekite-py) with frame_decoder.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cstdio>
#include <regex>
#include <string>
#include <vector>

#include "core/text.hpp"
#include "unit/wire/vector_reader.hpp"
#include "wire/errc.hpp"

namespace kiteline::wire::test {
namespace {

// Every post-handshake tunnel capture: *.tunnel<n>.{be2fe,fe2be}.bin in nozchunks/ and zchunks/.
// (12-tls-tunnel has only `connect` captures, TLS-encrypted after the CONNECT: not included.)
std::vector<std::string> tunnel_files() {
  std::vector<std::string> out;
  const std::regex re(R"(^\d\d-[a-z-]+\.tunnel\d+\.(be2fe|fe2be)\.bin$)");
  for (const char* set : {"nozchunks", "zchunks"}) {
    for (const auto& e : std::filesystem::directory_iterator(vectors_dir() / set)) {
      const std::string name = e.path().filename().string();
      if (std::regex_match(name, re) && name.rfind("12-tls-tunnel", 0) != 0) {
        out.push_back(std::string(set) + "/" + name);
      }
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string param_name(const testing::TestParamInfo<std::string>& info) {
  std::string s = info.param;
  for (char& c : s) {
    if (std::isalnum(static_cast<unsigned char>(c)) == 0) {
      c = '_';
    }
  }
  return s;
}

class vector_file_test : public testing::TestWithParam<std::string> {};

TEST_P(vector_file_test, decodes_to_a_frame_boundary) {
  const auto v = load_vector(GetParam());
  ASSERT_FALSE(v.bytes.empty()) << v.path;
  ASSERT_LT(v.head_end, v.bytes.size() + 1) << "no handshake head in " << v.path;
  EXPECT_FALSE(v.decoded.error) << v.decoded.error.message();
  EXPECT_TRUE(v.decoded.at_boundary);
  EXPECT_TRUE(v.decoded.views_ok);
  EXPECT_EQ(v.decoded.corrupt_frames, 0U);
}

// Same chunk list whatever the read boundaries.
//
// Split at every position p (files > 256 KiB: every p in the first 64 KiB, then a stride):
// decoding is stateless at frame boundaries except for the shared inflater, so each split is
// checked on the frames around p (one frame either side; from the stream start if a Z frame is
// among them, so the inflater has its history). Whole-stream decodes with irregular pieces,
// 4093-byte reads and byte by byte (first >= 64 KiB of large files) cover state carried across
// frames.
TEST_P(vector_file_test, any_split_gives_the_same_chunks) {
  const auto v = load_vector(GetParam());
  const auto all = v.stream();
  const bool z = is_zchunks_set(v.path);
  const auto& ref = v.decoded.chunks;
  ASSERT_FALSE(v.decoded.error);
  const std::size_t count = ref.size();
  const auto frame_start = [&](std::size_t k) { return k == 0 ? 0 : ref[k - 1].frame_end; };

  // `got` must equal ref[lo..hi] decoded from offset `base`.
  const auto check = [&](const decode_result& got, std::size_t lo, std::size_t hi,
                         std::size_t base, const std::string& how) {
    ASSERT_FALSE(got.error) << how << ": " << got.error.message();
    ASSERT_TRUE(got.at_boundary) << how;
    ASSERT_TRUE(got.views_ok) << how;
    ASSERT_EQ(got.chunks.size(), hi - lo + 1) << how;
    for (std::size_t i = lo; i <= hi; ++i) {
      decoded_chunk want = ref[i];
      if (!want.compressed && want.data_len > 0) {
        want.data_begin -= base;
      }
      ASSERT_EQ(got.chunks[i - lo], want) << how << " chunk " << i;
    }
  };

  constexpr std::size_t large = 256 * 1024;
  constexpr std::size_t dense_prefix = 64 * 1024;
  std::vector<std::size_t> points;
  for (std::size_t p = 1; p < all.size(); ++p) {
    if (all.size() <= large || p < dense_prefix) {
      points.push_back(p);
    } else {
      points.push_back(p);
      p += 2039;  // prime stride: lands at varied offsets within frames
    }
  }
  std::size_t k = 0;
  for (const std::size_t p : points) {
    while (k + 1 < count && ref[k].frame_end <= p) {
      ++k;
    }
    std::size_t lo = k == 0 ? 0 : k - 1;
    const std::size_t hi = std::min(k + 1, count - 1);
    for (std::size_t i = lo; i <= hi; ++i) {
      if (ref[i].compressed) {
        lo = 0;
      }
    }
    const std::size_t base = frame_start(lo);
    const auto buf = all.subspan(base, ref[hi].frame_end - base);
    const std::size_t cut = p - base;
    check(decode_chunks(buf, z, [cut](std::size_t off) { return off == 0 ? cut : SIZE_MAX; }),
          lo, hi, base, "split at " + std::to_string(p));
    if (HasFatalFailure()) {
      return;
    }
  }
  if (count == 0) {
    return;
  }
  check(decode_chunks(all, z, [](std::size_t off) { return (off * 7) % 1499 + 1; }), 0,
        count - 1, 0, "irregular pieces");
  check(decode_chunks(all, z, [](std::size_t) { return 4093; }), 0, count - 1, 0,
        "4093-byte reads");
  // Byte by byte: the whole stream, or its frames up to the first boundary >= 64 KiB.
  std::size_t last = count - 1;
  if (all.size() > large) {
    last = 0;
    while (ref[last].frame_end < dense_prefix) {
      ++last;
    }
  }
  check(decode_chunks(all.first(ref[last].frame_end), z, [](std::size_t) { return 1; }), 0, last,
        0, "byte by byte");
}

INSTANTIATE_TEST_SUITE_P(pagekite_py, vector_file_test, testing::ValuesIn(tunnel_files()),
                         param_name);

TEST(vectors, every_tunnel_capture_decodes) {
  const auto files = tunnel_files();
  std::size_t decoded = 0;
  std::size_t chunks = 0;
  for (const auto& f : files) {
    const auto v = load_vector(f);
    if (!v.decoded.error && v.decoded.at_boundary) {
      ++decoded;
      chunks += v.decoded.chunks.size();
    }
  }
  // nozchunks: 12 scenarios x 2 tunnels x 2 directions; zchunks: 8 scenarios x 2 directions.
  EXPECT_EQ(files.size(), 64U);
  EXPECT_EQ(decoded, files.size());
  std::printf("[ vectors  ] decoded %zu of %zu tunnel capture files, %zu chunks\n", decoded,
              files.size(), chunks);
  RecordProperty("vector_files_decoded", static_cast<int>(decoded));
}

// ---- Per-scenario checks -------------------------------------------------------------------

struct tunnel {
  vector_file be2fe;
  vector_file fe2be;
};

// The tunnel that carries the streams: nozchunks = round two (tunnel2); zchunks = tunnel1.
tunnel load_tunnel(const std::string& set, const std::string& scenario) {
  const std::string base = set + "/" + scenario + (set == "zchunks" ? ".tunnel1" : ".tunnel2");
  tunnel t{load_vector(base + ".be2fe.bin"), load_vector(base + ".fe2be.bin")};
  EXPECT_FALSE(t.be2fe.decoded.error);
  EXPECT_FALSE(t.fe2be.decoded.error);
  EXPECT_TRUE(t.be2fe.decoded.at_boundary);
  EXPECT_TRUE(t.fe2be.decoded.at_boundary);
  return t;
}

bool is_kite_round(const decoded_chunk& c) {
  if (!c.headers.noop) {
    return false;
  }
  return std::any_of(c.headers.extra.begin(), c.headers.extra.end(),
                     [](const auto& f) { return f.first.rfind("X-PageKite", 0) == 0; });
}

// Chunks of one stream (SID), in order, kite-round NOOPs excluded.
std::vector<decoded_chunk> of_sid(const vector_file& v, sid_t sid) {
  std::vector<decoded_chunk> out;
  for (const auto& c : v.decoded.chunks) {
    if (c.headers.sid == sid && !is_kite_round(c)) {
      out.push_back(c);
    }
  }
  return out;
}

std::string stream_data(const vector_file& v, sid_t sid) {
  std::string s;
  for (const auto& c : of_sid(v, sid)) {
    if (!c.headers.noop && !c.headers.eof) {
      s += v.data(c);
    }
  }
  return s;
}

bool starts_with(const std::string& s, std::string_view p) { return s.rfind(p, 0) == 0; }

bool is_plain_data(const decoded_chunk& c) {
  return !c.headers.noop && !c.headers.eof && c.headers.proto.empty();
}

void expect_skb(const decoded_chunk& c, sid_t sid, std::uint64_t kib) {
  EXPECT_TRUE(c.headers.noop);
  EXPECT_EQ(c.headers.sid, sid);
  EXPECT_EQ(c.headers.skb, kib);
  EXPECT_EQ(c.data_len + c.zdata.size(), 0U);
  EXPECT_FALSE(c.compressed);
}

void expect_empty_data(const decoded_chunk& c, sid_t sid) {
  EXPECT_FALSE(c.headers.noop);
  EXPECT_EQ(c.headers.sid, sid);
  EXPECT_FALSE(c.headers.eof);
  EXPECT_EQ(c.data_len + c.zdata.size(), 0U);
}

void expect_eof(const vector_file& v, const decoded_chunk& c, sid_t sid, eof_flags f) {
  EXPECT_FALSE(c.headers.noop);
  EXPECT_EQ(c.headers.sid, sid);
  EXPECT_EQ(c.headers.eof, f);
  EXPECT_EQ(v.data(c), "Bye!");
  EXPECT_FALSE(c.compressed);
}

// Opening chunk of a stream (FE -> BE).
void expect_open(const vector_file& v, const decoded_chunk& c, std::string_view proto,
                 std::string_view host, std::uint32_t port) {
  EXPECT_FALSE(c.headers.noop);
  EXPECT_TRUE(c.headers.sid.has_value());
  EXPECT_EQ(c.headers.proto, proto);
  EXPECT_EQ(c.headers.host, host);
  EXPECT_EQ(c.headers.port, port);
  EXPECT_EQ(c.headers.rip, "127.0.0.1");
  EXPECT_TRUE(c.headers.rport.has_value());
  EXPECT_FALSE(c.headers.rtls);
  EXPECT_TRUE(c.headers.extra.empty());
  (void)v;
}

class scenario_test : public testing::TestWithParam<std::string> {};

TEST_P(scenario_test, s01_handshake_get) {
  const bool z = GetParam() == "zchunks";
  const auto t = load_tunnel(GetParam(), "01-handshake-get");
  const auto& fe = t.fe2be.decoded.chunks;
  const auto& be = t.be2fe.decoded.chunks;
  std::size_t fi = 0;
  std::size_t bi = 0;
  if (z) {
    // Round two of the handshake inside the tunnel: NOOP chunks carrying X-PageKite lines.
    ASSERT_GE(be.size(), 1U);
    EXPECT_TRUE(is_kite_round(be[0]));
    EXPECT_EQ(be[0].headers.extra_value("X-PageKite-Version"), "1.5.2.201011");
    EXPECT_TRUE(be[0].headers.extra_value("X-PageKite").has_value());
    EXPECT_EQ(t.be2fe.data(be[0]), "\r\n!");
    ASSERT_GE(fe.size(), 1U);
    EXPECT_TRUE(is_kite_round(fe[0]));
    EXPECT_TRUE(starts_with(fe[0].headers.extra_value("X-PageKite-OK").value_or(""),
                            "http:foo.test:"));
    EXPECT_EQ(t.fe2be.data(fe[0]), "!");
    fi = bi = 1;
  }
  ASSERT_EQ(fe.size(), fi + 5);
  ASSERT_EQ(be.size(), bi + 5);
  const auto& open = fe[fi];
  expect_open(t.fe2be, open, "http", "foo.test", 27080);
  EXPECT_EQ(open.compressed, z);
  EXPECT_TRUE(starts_with(t.fe2be.data(open), "GET / HTTP/1.1\r\nHost: foo.test\r\n"));
  const sid_t sid = *open.headers.sid;

  expect_skb(be[bi], sid, 0);
  const auto response = t.be2fe.data(be[bi + 1]);
  EXPECT_EQ(be[bi + 1].headers.sid, sid);
  EXPECT_EQ(be[bi + 1].compressed, z);
  EXPECT_TRUE(starts_with(response, "HTTP/1.0 200 OK\r\n"));
  EXPECT_EQ(response.substr(response.size() - 18), "hello from origin\n");
  expect_empty_data(be[bi + 2], sid);
  expect_eof(t.be2fe, be[bi + 3], sid, eof_flags::read);
  expect_eof(t.be2fe, be[bi + 4], sid, eof_flags::both);

  expect_skb(fe[fi + 1], sid, 0);
  expect_empty_data(fe[fi + 2], sid);
  expect_eof(t.fe2be, fe[fi + 3], sid, eof_flags::read);
  expect_eof(t.fe2be, fe[fi + 4], sid, eof_flags::both);
}

TEST_P(scenario_test, s03_idle_keepalive) {
  const auto t = load_tunnel(GetParam(), "03-idle-keepalive");
  std::vector<decoded_chunk> be;
  std::vector<decoded_chunk> fe;
  for (const auto& c : t.be2fe.decoded.chunks) {
    if (!is_kite_round(c)) {
      be.push_back(c);
    }
  }
  for (const auto& c : t.fe2be.decoded.chunks) {
    if (!is_kite_round(c)) {
      fe.push_back(c);
    }
  }
  ASSERT_EQ(be.size(), 1U);
  EXPECT_TRUE(be[0].headers.noop);
  ASSERT_TRUE(be[0].headers.ping.has_value());
  EXPECT_TRUE(std::regex_match(*be[0].headers.ping, std::regex(R"(\d+\.\d{4})")));
  EXPECT_EQ(t.be2fe.data(be[0]), "!");
  if (GetParam() == "nozchunks") {
    ASSERT_EQ(fe.size(), 1U);
    EXPECT_TRUE(fe[0].headers.noop);
    EXPECT_EQ(fe[0].headers.pong, be[0].headers.ping);
    EXPECT_EQ(t.fe2be.data(fe[0]), "!");
  } else {
    // The Debian 1.5.2 relay closed this tunnel on the PING instead of answering (spec §11.4:
    // PING on a tunnel authorised by local secrets): no PONG in this capture.
    EXPECT_TRUE(fe.empty());
  }
}

TEST_P(scenario_test, s04_concurrent) {
  const auto t = load_tunnel(GetParam(), "04-concurrent");
  std::vector<decoded_chunk> opens;
  for (const auto& c : t.fe2be.decoded.chunks) {
    if (!c.headers.proto.empty()) {
      opens.push_back(c);
    }
  }
  ASSERT_EQ(opens.size(), 2U);
  expect_open(t.fe2be, opens[0], "http", "foo.test", 27080);
  expect_open(t.fe2be, opens[1], "http", "foo.test", 27080);
  EXPECT_TRUE(starts_with(t.fe2be.data(opens[0]), "GET /slow?n=30 HTTP/1.1\r\n"));
  EXPECT_TRUE(starts_with(t.fe2be.data(opens[1]), "GET / HTTP/1.1\r\n"));
  const sid_t a = *opens[0].headers.sid;
  const sid_t b = *opens[1].headers.sid;
  ASSERT_NE(a, b);
  for (const sid_t s : {a, b}) {
    for (const vector_file* v : {&t.be2fe, &t.fe2be}) {
      const auto cs = of_sid(*v, s);
      ASSERT_FALSE(cs.empty());
      EXPECT_EQ(cs.back().headers.eof, eof_flags::both) << "sid " << s;
    }
  }
  // B completes (EOF 1WR from the connector) while A is still flowing.
  const auto& be = t.be2fe.decoded.chunks;
  const auto b_done = std::find_if(be.begin(), be.end(), [&](const decoded_chunk& c) {
    return c.headers.sid == b && c.headers.eof == eof_flags::both;
  });
  ASSERT_NE(b_done, be.end());
  EXPECT_TRUE(std::any_of(b_done, be.end(), [&](const decoded_chunk& c) {
    return c.headers.sid == a && is_plain_data(c) && c.data_len + c.zdata.size() > 0;
  }));
  EXPECT_EQ(stream_data(t.be2fe, b).substr(stream_data(t.be2fe, b).size() - 18),
            "hello from origin\n");
  // A: 30 KiB of body; the relay acknowledged every KiB written to its visitor.
  const auto a_data = stream_data(t.be2fe, a);
  const auto head_end = a_data.find("\r\n\r\n");
  ASSERT_NE(head_end, std::string::npos);
  EXPECT_EQ(a_data.size() - head_end - 4, 30U * 1024U);
  std::uint64_t last_skb = 0;
  for (const auto& c : of_sid(t.fe2be, a)) {
    if (c.headers.skb) {
      EXPECT_GE(*c.headers.skb, last_skb);
      last_skb = *c.headers.skb;
    }
  }
  EXPECT_EQ(last_skb, a_data.size() / 1024);
}

std::string md5_hex(const std::string& s) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EXPECT_EQ(EVP_Digest(s.data(), s.size(), md, &len, EVP_md5(), nullptr), 1);
  return to_hex(std::span<const std::uint8_t>(md, len));
}

TEST_P(scenario_test, s05_large_download) {
  const bool z = GetParam() == "zchunks";
  const auto t = load_tunnel(GetParam(), "05-large-download");
  std::vector<decoded_chunk> opens;
  for (const auto& c : t.fe2be.decoded.chunks) {
    if (!c.headers.proto.empty()) {
      opens.push_back(c);
    }
  }
  ASSERT_EQ(opens.size(), 1U);
  expect_open(t.fe2be, opens[0], "http", "foo.test", 27080);
  EXPECT_TRUE(starts_with(t.fe2be.data(opens[0]), "GET /big.bin HTTP/1.1\r\n"));
  const sid_t sid = *opens[0].headers.sid;

  std::string all;
  std::size_t compressed = 0;
  std::size_t data_chunks = 0;
  for (const auto& c : of_sid(t.be2fe, sid)) {
    if (is_plain_data(c)) {
      const auto d = t.be2fe.data(c);
      EXPECT_LE(d.size(), 16256U);
      all += d;
      ++data_chunks;
      compressed += c.compressed ? 1U : 0U;
    }
  }
  EXPECT_GT(data_chunks, 320U);
  // With ZChunks only the first big chunk was compressed (it grew: 3f8aZ3f96).
  EXPECT_EQ(compressed, z ? 1U : 0U);
  const auto head_end = all.find("\r\n\r\n");
  ASSERT_NE(head_end, std::string::npos);
  EXPECT_TRUE(starts_with(all, "HTTP/1.0 200 OK\r\n"));
  const std::string body = all.substr(head_end + 4);
  EXPECT_EQ(body.size(), 5U * 1024U * 1024U);
  EXPECT_EQ(md5_hex(body), "4b6fdb63be110b2828036dd0c9475e12");

  // SKB from the relay: non-decreasing, the last = floor(bytes written to the visitor / 1024).
  std::vector<std::uint64_t> skb;
  for (const auto& c : of_sid(t.fe2be, sid)) {
    if (c.headers.skb) {
      EXPECT_TRUE(c.headers.noop);
      skb.push_back(*c.headers.skb);
    }
  }
  ASSERT_GT(skb.size(), 300U);
  EXPECT_TRUE(std::is_sorted(skb.begin(), skb.end()));
  EXPECT_EQ(skb.back(), all.size() / 1024);
  EXPECT_EQ(skb.back(), 5120U);
  // The connector acknowledged the request once: SKB 0.
  const auto be_acks = of_sid(t.be2fe, sid);
  ASSERT_FALSE(be_acks.empty());
  expect_skb(be_acks.front(), sid, 0);
}

TEST_P(scenario_test, s06_visitor_abort) {
  const auto t = load_tunnel(GetParam(), "06-visitor-abort");
  std::vector<decoded_chunk> opens;
  for (const auto& c : t.fe2be.decoded.chunks) {
    if (!c.headers.proto.empty()) {
      opens.push_back(c);
    }
  }
  ASSERT_EQ(opens.size(), 1U);
  const sid_t sid = *opens[0].headers.sid;
  const auto fe = of_sid(t.fe2be, sid);
  ASSERT_GE(fe.size(), 3U);
  expect_empty_data(fe[fe.size() - 3], sid);
  expect_eof(t.fe2be, fe[fe.size() - 2], sid, eof_flags::read);
  expect_eof(t.fe2be, fe[fe.size() - 1], sid, eof_flags::both);
  const auto be = of_sid(t.be2fe, sid);
  ASSERT_FALSE(be.empty());
  expect_eof(t.be2fe, be.back(), sid, eof_flags::both);
  EXPECT_EQ(std::count_if(be.begin(), be.end(), [](const auto& c) { return c.headers.eof; }), 1);
  // About 20 KiB reached the visitor before it hung up; the tunnel itself stays healthy.
  EXPECT_GT(stream_data(t.be2fe, sid).size(), 10U * 1024U);
}

TEST_P(scenario_test, s07_backend_killed) {
  const auto t = load_tunnel(GetParam(), "07-backend-killed");
  std::vector<decoded_chunk> opens;
  for (const auto& c : t.fe2be.decoded.chunks) {
    if (!c.headers.proto.empty()) {
      opens.push_back(c);
    }
  }
  ASSERT_EQ(opens.size(), 2U);
  const sid_t first = *opens[0].headers.sid;
  const sid_t second = *opens[1].headers.sid;
  EXPECT_TRUE(starts_with(t.fe2be.data(opens[1]), "GET /slow?n=100 HTTP/1.1\r\n"));
  EXPECT_EQ(of_sid(t.be2fe, first).back().headers.eof, eof_flags::both);
  EXPECT_EQ(of_sid(t.fe2be, first).back().headers.eof, eof_flags::both);
  // The connector was killed mid-download: data but no EOF for the second stream.
  EXPECT_TRUE(starts_with(stream_data(t.be2fe, second), "HTTP/1.0 200 OK\r\n"));
  for (const vector_file* v : {&t.be2fe, &t.fe2be}) {
    for (const auto& c : of_sid(*v, second)) {
      EXPECT_FALSE(c.headers.eof);
    }
  }
}

TEST_P(scenario_test, s10_raw_connect) {
  const auto t = load_tunnel(GetParam(), "10-raw-connect");
  std::vector<decoded_chunk> opens;
  for (const auto& c : t.fe2be.decoded.chunks) {
    if (!c.headers.proto.empty()) {
      opens.push_back(c);
    }
  }
  ASSERT_EQ(opens.size(), 1U);
  expect_open(t.fe2be, opens[0], "raw", "ssh.test", 22);
  EXPECT_EQ(opens[0].data_len + opens[0].zdata.size(), 0U);  // no payload in the first chunk
  const sid_t sid = *opens[0].headers.sid;
  const auto sent = stream_data(t.fe2be, sid);
  EXPECT_FALSE(sent.empty());
  // The origin's banner, then the visitor's line echoed back.
  EXPECT_EQ(stream_data(t.be2fe, sid), "SSH-2.0-InteropBanner\r\n" + sent);
  EXPECT_EQ(of_sid(t.be2fe, sid).back().headers.eof, eof_flags::both);
  EXPECT_EQ(of_sid(t.fe2be, sid).back().headers.eof, eof_flags::both);
}

TEST_P(scenario_test, s11_https_connect) {
  const auto t = load_tunnel(GetParam(), "11-https-connect");
  std::vector<decoded_chunk> opens;
  for (const auto& c : t.fe2be.decoded.chunks) {
    if (!c.headers.proto.empty()) {
      opens.push_back(c);
    }
  }
  ASSERT_EQ(opens.size(), 1U);
  expect_open(t.fe2be, opens[0], "https", "tls.test", 443);
  EXPECT_EQ(opens[0].data_len + opens[0].zdata.size(), 0U);
  const sid_t sid = *opens[0].headers.sid;
  const auto up = stream_data(t.fe2be, sid);
  ASSERT_GE(up.size(), 6U);
  EXPECT_EQ(up[0], '\x16');  // ClientHello record, relayed opaque
  EXPECT_EQ(up[5], '\x01');  // handshake type client_hello
  const auto down = stream_data(t.be2fe, sid);
  ASSERT_GE(down.size(), 6U);
  EXPECT_EQ(down[0], '\x16');
  EXPECT_EQ(down[5], '\x02');  // server_hello
  EXPECT_EQ(of_sid(t.be2fe, sid).back().headers.eof, eof_flags::both);
  EXPECT_EQ(of_sid(t.fe2be, sid).back().headers.eof, eof_flags::both);
}

INSTANTIATE_TEST_SUITE_P(sets, scenario_test, testing::Values("nozchunks", "zchunks"));

}  // namespace
}  // namespace kiteline::wire::test
