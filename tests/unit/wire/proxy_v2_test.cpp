#include "wire/proxy_v2.hpp"

#include <cstring>

#include <gtest/gtest.h>

namespace kiteline::wire {
namespace {

proxy_header v4_header() {
  proxy_header h;
  h.src = {127, 0, 0, 99};
  h.dst = {127, 0, 0, 13};
  h.src_port = 40000;
  h.dst_port = 8080;
  fleet_mark m;
  m.hops = 1;
  m.unix_time = 0x0102030405060708ULL;
  for (std::size_t i = 0; i < m.mac.size(); ++i) {
    m.mac[i] = static_cast<std::uint8_t>(0xA0 + i);
  }
  h.tlvs.push_back(make_fleet_tlv(m));
  h.tlvs.push_back(proxy_tlv{0x04, {}});  // PP2_TYPE_NOOP, empty
  return h;
}

proxy_header v6_header() {
  proxy_header h;
  h.ipv6 = true;
  for (std::size_t i = 0; i < 16; ++i) {
    h.src[i] = static_cast<std::uint8_t>(i);
    h.dst[i] = static_cast<std::uint8_t>(0xF0 + i);
  }
  h.src_port = 1;
  h.dst_port = 65535;
  return h;
}

std::span<const std::byte> prefix(const std::vector<std::byte>& b, std::size_t n) {
  return std::span<const std::byte>(b.data(), n);
}

TEST(ProxyV2, Ipv4LayoutIsTheSpecs) {
  proxy_header h;
  h.src = {10, 1, 2, 3};
  h.dst = {10, 4, 5, 6};
  h.src_port = 0x1234;
  h.dst_port = 0x0050;
  const auto b = encode_proxy_v2(h);
  ASSERT_EQ(b.size(), 28U);
  EXPECT_EQ(std::memcmp(b.data(), proxy_v2_signature.data(), 12), 0);
  EXPECT_EQ(b[12], std::byte{0x21});
  EXPECT_EQ(b[13], std::byte{0x11});
  EXPECT_EQ(b[14], std::byte{0});
  EXPECT_EQ(b[15], std::byte{12});
  EXPECT_EQ(b[16], std::byte{10});
  EXPECT_EQ(b[20], std::byte{10});
  EXPECT_EQ(b[24], std::byte{0x12});
  EXPECT_EQ(b[25], std::byte{0x34});
  EXPECT_EQ(b[27], std::byte{0x50});
}

TEST(ProxyV2, RoundTripAtEverySplitPoint) {
  for (const auto& h : {v4_header(), v6_header()}) {
    auto b = encode_proxy_v2(h);
    const std::size_t header_len = b.size();
    const char payload[] = "GET / HTTP/1.1\r\n";
    for (const char c : std::string_view(payload)) {
      b.push_back(static_cast<std::byte>(c));
    }
    for (std::size_t n = 0; n < header_len; ++n) {
      const auto d = decode_proxy_v2(prefix(b, n));
      EXPECT_EQ(d.status, proxy_status::need_more) << "split at " << n;
    }
    for (std::size_t n = header_len; n <= b.size(); ++n) {
      const auto d = decode_proxy_v2(prefix(b, n));
      ASSERT_EQ(d.status, proxy_status::done) << "split at " << n;
      EXPECT_EQ(d.length, header_len);
      EXPECT_EQ(d.header, h);
    }
  }
}

TEST(ProxyV2, FleetMarkRoundTripsAndItsMacOffsetIsFound) {
  const auto h = v4_header();
  const auto b = encode_proxy_v2(h);
  const auto d = decode_proxy_v2(b);
  ASSERT_EQ(d.status, proxy_status::done);
  const auto m = find_fleet_mark(d.header);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->hops, 1);
  EXPECT_EQ(m->unix_time, 0x0102030405060708ULL);
  ASSERT_EQ(d.fleet_mac_offset, 16U + 12U + 3U + 10U);
  EXPECT_EQ(b[d.fleet_mac_offset], std::byte{0xA0});
  EXPECT_EQ(b[d.fleet_mac_offset + 31], std::byte{0xA0 + 31});
  EXPECT_FALSE(find_fleet_mark(v6_header()));
}

TEST(ProxyV2, PlainHttpIsInvalidAtTheFirstByte) {
  const std::string_view req = "GET / HTTP/1.1\r\n";
  const auto d = decode_proxy_v2(std::as_bytes(std::span(req.data(), 1)));
  EXPECT_EQ(d.status, proxy_status::invalid);
}

TEST(ProxyV2, VersionOneTextIsInvalid) {
  const std::string_view req = "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n";
  EXPECT_EQ(decode_proxy_v2(std::as_bytes(std::span(req.data(), req.size()))).status,
            proxy_status::invalid);
}

TEST(ProxyV2, WrongCommandOrFamilyIsInvalid) {
  auto b = encode_proxy_v2(v4_header());
  auto local = b;
  local[12] = std::byte{0x20};  // LOCAL
  EXPECT_EQ(decode_proxy_v2(prefix(local, 13)).status, proxy_status::invalid);
  auto udp = b;
  udp[13] = std::byte{0x12};  // UDP over IPv4
  EXPECT_EQ(decode_proxy_v2(prefix(udp, 14)).status, proxy_status::invalid);
  auto unix_family = b;
  unix_family[13] = std::byte{0x31};
  EXPECT_EQ(decode_proxy_v2(unix_family).status, proxy_status::invalid);
}

TEST(ProxyV2, LengthBeyondTheBoundIsInvalidBeforeTheBodyArrives) {
  auto b = encode_proxy_v2(v4_header());
  b[14] = std::byte{0x02};  // 512 + ... bytes announced
  EXPECT_EQ(decode_proxy_v2(prefix(b, 16)).status, proxy_status::invalid);
  EXPECT_EQ(decode_proxy_v2(prefix(encode_proxy_v2(v4_header()), 16), 40).status,
            proxy_status::invalid);
}

TEST(ProxyV2, AddressBlockTooShortIsInvalid) {
  auto b = encode_proxy_v2(v6_header());
  b[15] = std::byte{12};  // an IPv6 header announcing IPv4's size
  EXPECT_EQ(decode_proxy_v2(prefix(b, 16)).status, proxy_status::invalid);
}

TEST(ProxyV2, TruncatedTlvIsInvalid) {
  auto b = encode_proxy_v2(v4_header());
  // The NOOP TLV at the end claims 5 bytes that are not there; the total stays the same.
  b[b.size() - 2] = std::byte{0};
  b[b.size() - 1] = std::byte{5};
  EXPECT_EQ(decode_proxy_v2(b).status, proxy_status::invalid);
  // Two bytes of a TLV header left over.
  auto c = encode_proxy_v2(v4_header());
  c[15] = static_cast<std::byte>(static_cast<std::uint8_t>(c[15]) - 1);
  c.pop_back();
  EXPECT_EQ(decode_proxy_v2(c).status, proxy_status::invalid);
}

TEST(ProxyV2, FleetTlvOfTheWrongSizeHasNoMacOffset) {
  proxy_header h = v6_header();
  h.tlvs.push_back(proxy_tlv{fleet_tlv_type, {1, 1, 0}});
  const auto d = decode_proxy_v2(encode_proxy_v2(h));
  ASSERT_EQ(d.status, proxy_status::done);
  EXPECT_EQ(d.fleet_mac_offset, 0U);
  EXPECT_FALSE(find_fleet_mark(d.header));
}

}  // namespace
}  // namespace kiteline::wire
