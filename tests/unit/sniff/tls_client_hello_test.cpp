// Unit tests for sniff::extract_sni: captured ClientHellos and synthetic ones.
#include "sniff/tls_client_hello.hpp"

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/vectors.hpp"

namespace kiteline::sniff {
namespace {

using bytes = std::vector<std::uint8_t>;

bytes read_vector(const std::string& name) {
  const std::string s = test::read_vector("nozchunks", name);
  return {s.begin(), s.end()};
}

std::span<const std::byte> as_span(const bytes& b, std::size_t n) {
  return {reinterpret_cast<const std::byte*>(b.data()), n};
}

result<client_hello_info> sni(const bytes& b, const tls_limits& lim = {}) {
  return extract_sni(as_span(b, b.size()), lim);
}

void put16(bytes& b, std::size_t v) {
  b.push_back(static_cast<std::uint8_t>(v >> 8));
  b.push_back(static_cast<std::uint8_t>(v));
}
void put24(bytes& b, std::size_t v) {
  b.push_back(static_cast<std::uint8_t>(v >> 16));
  put16(b, v & 0xffff);
}
void append(bytes& b, const bytes& more) { b.insert(b.end(), more.begin(), more.end()); }
bytes str(const std::string& s) { return bytes(s.begin(), s.end()); }

struct ext {
  std::uint16_t type;
  bytes data;
};

/// server_name extension body holding the given (type, name) entries.
bytes sni_body(const std::vector<std::pair<std::uint8_t, std::string>>& names) {
  bytes list;
  for (const auto& [type, name] : names) {
    list.push_back(type);
    put16(list, name.size());
    append(list, str(name));
  }
  bytes body;
  put16(body, list.size());
  append(body, list);
  return body;
}

/// ClientHello body: version 3.3, random, 32-byte session id, 2 suites, null compression, exts.
bytes hello_body(const std::vector<ext>& exts, bool with_ext_block = true) {
  bytes b{0x03, 0x03};
  b.insert(b.end(), 32, 0xaa);
  b.push_back(32);
  b.insert(b.end(), 32, 0xbb);
  put16(b, 4);
  append(b, {0x13, 0x01, 0x13, 0x02});
  append(b, {0x01, 0x00});
  if (with_ext_block) {
    bytes e;
    for (const auto& x : exts) {
      put16(e, x.type);
      put16(e, x.data.size());
      append(e, x.data);
    }
    put16(b, e.size());
    append(b, e);
  }
  return b;
}

bytes handshake(const bytes& body, std::uint8_t type = 1) {
  bytes h{type};
  put24(h, body.size());
  append(h, body);
  return h;
}

/// Wraps handshake bytes into records of at most `frag` bytes each.
bytes records(const bytes& hs, std::size_t frag = 16384, std::uint8_t minor = 1) {
  bytes out;
  for (std::size_t off = 0; off < hs.size(); off += frag) {
    const std::size_t n = std::min(frag, hs.size() - off);
    append(out, {0x16, 0x03, minor});
    put16(out, n);
    out.insert(out.end(), hs.begin() + static_cast<std::ptrdiff_t>(off),
               hs.begin() + static_cast<std::ptrdiff_t>(off + n));
  }
  return out;
}

bytes hello_with_sni(const std::string& name, std::size_t frag = 16384) {
  return records(handshake(hello_body({{0, sni_body({{0, name}})}, {10, {0, 2, 0, 29}}})), frag);
}

/// Every prefix shorter than `complete_at` is need_more; every longer one equals the full
/// result (success or error).
void expect_prefix_stable(const bytes& in, std::size_t complete_at, const tls_limits& lim = {}) {
  const auto full = sni(in, lim);
  for (std::size_t k = 0; k <= in.size(); ++k) {
    const auto r = extract_sni(as_span(in, k), lim);
    if (k < complete_at) {
      ASSERT_TRUE(r.has_value()) << "prefix " << k << ": " << r.error().message();
      ASSERT_EQ(r->status, sni_status::need_more) << "prefix " << k;
    } else {
      ASSERT_EQ(r.has_value(), full.has_value()) << "prefix " << k;
      if (full.has_value()) {
        ASSERT_EQ(*r, *full) << "prefix " << k;
      } else {
        ASSERT_EQ(r.error(), full.error()) << "prefix " << k;
      }
    }
  }
}

TEST(ExtractSni, CapturedNoBackendVisitor) {
  const bytes in = read_vector("13-no-backend-visitor.tls1.v2fe.bin");
  ASSERT_EQ(in.size(), 317u);
  const auto r = sni(in);
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(r->status, sni_status::found);
  EXPECT_EQ(r->server_name, "nobody.test");
  EXPECT_FALSE(r->has_alpn);  // openssl s_client without -alpn
  EXPECT_EQ(r->hello_end, 317u);
  expect_prefix_stable(in, 317);
}

TEST(ExtractSni, CapturedHttpsSniVisitor) {
  const bytes in = read_vector("14-https-sni-visitor.tls1.v2fe.bin");
  ASSERT_EQ(in.size(), 517u);
  const auto r = sni(in);
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(r->status, sni_status::found);
  EXPECT_EQ(r->server_name, "tls.test");
  EXPECT_TRUE(r->has_alpn);  // curl offers h2, http/1.1
  EXPECT_EQ(r->hello_end, 517u);
  expect_prefix_stable(in, 517);
}

TEST(ExtractSni, CapturedAfterConnectHead) {
  const bytes all = read_vector("11-https-connect-visitor.connect1.v2fe.bin");
  const std::string text(all.begin(), all.end());
  const auto head_end = text.find("\r\n\r\n");
  ASSERT_NE(head_end, std::string::npos);
  const bytes in(all.begin() + static_cast<std::ptrdiff_t>(head_end + 4), all.end());
  const auto r = sni(in);
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(r->status, sni_status::found);
  EXPECT_EQ(r->server_name, "tls.test");
  EXPECT_EQ(r->hello_end, 517u);  // the rest is the client's next flight
  expect_prefix_stable(in, 517);
}

TEST(ExtractSni, CapturedHelloRefragmentedIntoSmallRecords) {
  const bytes in = read_vector("14-https-sni-visitor.tls1.v2fe.bin");
  const bytes hs(in.begin() + 5, in.end());
  for (std::size_t frag : {1u, 2u, 3u, 7u, 64u, 100u, 511u}) {
    const bytes re = records(hs, frag);
    const tls_limits lim{16384, 600};
    const auto r = sni(re, lim);
    ASSERT_TRUE(r.has_value()) << frag << ": " << r.error().message();
    EXPECT_EQ(r->server_name, "tls.test") << frag;
    EXPECT_EQ(r->hello_end, re.size()) << frag;
  }
  expect_prefix_stable(records(hs, 100), records(hs, 100).size());
}

TEST(ExtractSni, NoServerName) {
  const bytes in = records(handshake(hello_body({{10, {0, 2, 0, 29}}, {16, {0, 3, 2, 'h', '2'}}})));
  const auto r = sni(in);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, sni_status::no_sni);
  EXPECT_TRUE(r->server_name.empty());
  EXPECT_TRUE(r->has_alpn);
  expect_prefix_stable(in, in.size());
}

TEST(ExtractSni, NoExtensionBlockAtAll) {
  const bytes in = records(handshake(hello_body({}, false)));
  const auto r = sni(in);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, sni_status::no_sni);
  expect_prefix_stable(in, in.size());
}

TEST(ExtractSni, SniSplitAcrossTwoRecordsAtEverySplit) {
  const bytes hs = handshake(hello_body({{0, sni_body({{0, "split.example.com"}})}}));
  for (std::size_t cut = 1; cut < hs.size(); ++cut) {
    bytes in = records(bytes(hs.begin(), hs.begin() + static_cast<std::ptrdiff_t>(cut)));
    append(in, records(bytes(hs.begin() + static_cast<std::ptrdiff_t>(cut), hs.end()), 16384, 3));
    const auto r = sni(in);
    ASSERT_TRUE(r.has_value()) << cut << ": " << r.error().message();
    ASSERT_EQ(r->status, sni_status::found) << cut;
    ASSERT_EQ(r->server_name, "split.example.com") << cut;
    ASSERT_EQ(r->hello_end, in.size());
  }
  bytes in = records(bytes(hs.begin(), hs.begin() + 60));
  append(in, records(bytes(hs.begin() + 60, hs.end())));
  expect_prefix_stable(in, in.size());
}

TEST(ExtractSni, FirstHostNameWinsAndIsLowerCased) {
  const bytes in = records(handshake(hello_body(
      {{0, sni_body({{7, "other-type"}, {0, "WWW.Example.COM"}, {0, "second.test"}})}})));
  const auto r = sni(in);
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(r->status, sni_status::found);
  EXPECT_EQ(r->server_name, "www.example.com");
}

TEST(ExtractSni, LongestValidName) {
  const std::string label(63, 'a');
  const std::string name = label + "." + label + "." + label + "." + std::string(63, 'b');
  ASSERT_EQ(name.size(), 255u);
  const auto r = sni(hello_with_sni(name));
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(r->server_name, name);
}

TEST(ExtractSni, InvalidNamesAreBadServerName) {
  for (const std::string& name :
       std::vector<std::string>{"", "a..b", ".a", "a.", "a b", "a/b", "caf\xc3\xa9.test",
                                std::string(64, 'a') + ".test", std::string(256, 'a')}) {
    const auto r = sni(hello_with_sni(name));
    ASSERT_FALSE(r.has_value()) << name;
    EXPECT_EQ(r.error(), errc::bad_server_name) << name;
  }
}

TEST(ExtractSni, HugeExtensionLengthIsMalformed) {
  bytes body = hello_body({{0, sni_body({{0, "x.test"}})}});
  // Overwrite the server_name extension length (right after its 2-byte type) with 0xffff.
  const std::size_t ext_start = 2 + 32 + 1 + 32 + 2 + 4 + 2 + 2;
  body[ext_start + 2] = 0xff;
  body[ext_start + 3] = 0xff;
  const bytes in = records(handshake(body));
  const auto r = sni(in);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error(), errc::malformed_client_hello);
  // Decided from the length field alone: the prefix through it already gives the error.
  const auto early = extract_sni(as_span(in, 5 + 4 + ext_start + 4));
  ASSERT_FALSE(early.has_value());
  EXPECT_EQ(early.error(), errc::malformed_client_hello);
  expect_prefix_stable(in, 5 + 4 + ext_start + 4);
}

TEST(ExtractSni, MalformedStructures) {
  const bytes good = hello_body({{0, sni_body({{0, "x.test"}})}});
  auto with = [&](std::size_t at, std::uint8_t v) {
    bytes b = good;
    b[at] = v;
    return records(handshake(b));
  };
  const std::size_t sid_at = 34;
  const std::size_t cs_at = 34 + 1 + 32;
  const std::size_t ext_total_at = cs_at + 2 + 4 + 2;
  EXPECT_EQ(sni(with(0, 0x02)).error(), errc::malformed_client_hello);           // version 2.x
  EXPECT_EQ(sni(with(sid_at, 33)).error(), errc::malformed_client_hello);        // session id > 32
  EXPECT_EQ(sni(with(cs_at + 1, 3)).error(), errc::malformed_client_hello);      // odd suites
  EXPECT_EQ(sni(with(cs_at + 1, 0)).error(), errc::malformed_client_hello);      // no suites
  EXPECT_EQ(sni(with(cs_at + 2 + 4, 0)).error(), errc::malformed_client_hello);  // no comp.
  EXPECT_EQ(sni(with(ext_total_at + 1, 1)).error(), errc::malformed_client_hello);  // total
  // server_name list length disagreeing with the extension length.
  bytes b = good;
  b[ext_total_at + 2 + 4 + 1] ^= 1;
  EXPECT_EQ(sni(records(handshake(b))).error(), errc::malformed_client_hello);
  // Empty server_name extension.
  EXPECT_EQ(sni(records(handshake(hello_body({{0, {}}})))).error(), errc::malformed_client_hello);
  // Two server_name extensions.
  EXPECT_EQ(sni(records(handshake(
                    hello_body({{0, sni_body({{0, "a.test"}})}, {0, sni_body({{0, "b.test"}})}}))))
                .error(),
            errc::malformed_client_hello);
  // Handshake length shorter than the body: the ClientHello runs out inside the extensions.
  bytes short_len = handshake(good);
  short_len[3] = static_cast<std::uint8_t>(short_len[3] - 3);
  short_len.resize(short_len.size() - 3);
  EXPECT_EQ(sni(records(short_len)).error(), errc::malformed_client_hello);
}

TEST(ExtractSni, RecordLayerErrorsAtTheFirstOffendingByte) {
  EXPECT_EQ(sni({0x17}).error(), errc::not_handshake);
  EXPECT_EQ(sni({0x16, 0x02}).error(), errc::bad_record_version);
  EXPECT_EQ(sni({0x16, 0x03, 0x05}).error(), errc::bad_record_version);
  EXPECT_EQ(sni({0x16, 0x03, 0x01, 0x00, 0x00}).error(), errc::bad_record_length);
  EXPECT_EQ(sni({0x16, 0x03, 0x01, 0x40, 0x01}).error(), errc::bad_record_length);
  EXPECT_EQ(sni({0x16, 0x03, 0x01, 0x00, 0x04, 0x02}).error(), errc::not_client_hello);
  const auto ok = sni({0x16, 0x03, 0x01, 0x40, 0x00, 0x01});
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(ok->status, sni_status::need_more);
}

TEST(ExtractSni, NonHandshakeRecordInsideHelloIsMalformed) {
  const bytes hs = handshake(hello_body({{0, sni_body({{0, "x.test"}})}}));
  bytes in = records(bytes(hs.begin(), hs.begin() + 20));
  append(in, {0x17, 0x03, 0x03, 0x00, 0x01, 0x00});
  EXPECT_EQ(sni(in).error(), errc::malformed_client_hello);
}

TEST(ExtractSni, CapsOnSizeAndRecordCount) {
  // Length field over the cap: refused right after the 4-byte handshake header.
  const bytes header{0x16, 0x03, 0x01, 0x40, 0x00, 0x01, 0x00, 0x40, 0x01};
  EXPECT_EQ(sni(header).error(), errc::client_hello_too_large);
  EXPECT_EQ(sni({0x16, 0x03, 0x01, 0x40, 0x00, 0x01, 0xff, 0xff, 0xff}).error(),
            errc::client_hello_too_large);
  const bytes in = hello_with_sni("x.test");
  const std::size_t body = in.size() - 9;
  EXPECT_TRUE(sni(in, tls_limits{body, 1}).has_value());
  EXPECT_EQ(sni(in, tls_limits{body - 1, 1}).error(), errc::client_hello_too_large);
  // Fragmented into 10-byte records: needs ceil((body+4)/10) records.
  const bytes frag = hello_with_sni("x.test", 10);
  const std::size_t needed = (body + 4 + 9) / 10;
  EXPECT_TRUE(sni(frag, tls_limits{16384, needed}).has_value());
  EXPECT_EQ(sni(frag, tls_limits{16384, needed - 1}).error(), errc::client_hello_too_large);
}

TEST(ExtractSni, SslV2StyleHello) {
  const auto one = sni({0x80});
  ASSERT_TRUE(one.has_value());
  EXPECT_EQ(one->status, sni_status::need_more);
  const auto two = sni({0x80, 0x2e});
  ASSERT_TRUE(two.has_value());
  EXPECT_EQ(two->status, sni_status::no_sni);
  EXPECT_TRUE(two->sslv2);
}

TEST(ExtractSni, EmptyInputNeedsMore) {
  const auto r = sni({});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, sni_status::need_more);
}

TEST(ExtractSni, TruncatedSyntheticHellosAtEveryByte) {
  expect_prefix_stable(hello_with_sni("a.b.c"), hello_with_sni("a.b.c").size());
  const bytes frag = hello_with_sni("frag.test", 13);
  expect_prefix_stable(frag, frag.size());
  const bytes bad = hello_with_sni("bad..name");
  // bad_server_name shows once the name bytes are in; before that need_more.
  const auto name_end = std::string(bad.begin(), bad.end()).find("bad..name") + 9;
  expect_prefix_stable(bad, name_end);
}

TEST(SniffErrc, CategoryAndMessages) {
  const std::error_code ec = errc::bad_server_name;
  EXPECT_STREQ(ec.category().name(), "kiteline.sniff");
  EXPECT_EQ(ec.message(), "invalid TLS server name");
  for (int v = 1; v <= 20; ++v) {
    EXPECT_NE(std::error_code(v, sniff_category()).message(), "unknown kiteline.sniff error") << v;
  }
  EXPECT_EQ(std::error_code(99, sniff_category()).message(), "unknown kiteline.sniff error");
}

}  // namespace
}  // namespace kiteline::sniff
