#include "fleet/peer_mark.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace kiteline::fleet {
namespace {

constexpr std::uint64_t now = 1'800'000'000;

wire::proxy_header visitor() {
  wire::proxy_header h;
  h.src = {127, 0, 0, 99};
  h.dst = {127, 0, 0, 13};
  h.src_port = 51000;
  h.dst_port = 9000;
  return h;
}

peer_verdict check(const std::vector<std::byte>& b, std::string_view key, std::uint64_t at) {
  const auto d = wire::decode_proxy_v2(b);
  EXPECT_EQ(d.status, wire::proxy_status::done);
  return verify_peer_header(b, d, key, at);
}

TEST(FleetPeerMark, SignedHeaderVerifies) {
  const auto b = sign_peer_header(visitor(), now, "fleet-secret");
  EXPECT_EQ(check(b, "fleet-secret", now), peer_verdict::ok);
  EXPECT_EQ(check(b, "fleet-secret", now + 30), peer_verdict::ok);
  EXPECT_EQ(check(b, "fleet-secret", now - 30), peer_verdict::ok);
  const auto d = wire::decode_proxy_v2(b);
  EXPECT_EQ(d.header.src_port, 51000);
  EXPECT_EQ(wire::find_fleet_mark(d.header)->hops, 1);
}

TEST(FleetPeerMark, WrongKeyIsRefused) {
  const auto b = sign_peer_header(visitor(), now, "fleet-secret");
  EXPECT_EQ(check(b, "other-secret", now), peer_verdict::bad_mac);
}

TEST(FleetPeerMark, AnyChangedByteIsRefused) {
  const auto b = sign_peer_header(visitor(), now, "k");
  for (std::size_t i = 16; i < b.size(); ++i) {
    auto c = b;
    c[i] ^= std::byte{0x01};
    const auto d = wire::decode_proxy_v2(c);
    if (d.status != wire::proxy_status::done) {
      continue;  // a length or TLV byte: no header at all
    }
    EXPECT_NE(verify_peer_header(c, d, "k", now), peer_verdict::ok) << "byte " << i;
  }
}

TEST(FleetPeerMark, TimeOutsideThirtySecondsIsRefused) {
  const auto b = sign_peer_header(visitor(), now, "k");
  EXPECT_EQ(check(b, "k", now + 31), peer_verdict::stale_time);
  EXPECT_EQ(check(b, "k", now - 31), peer_verdict::stale_time);
}

TEST(FleetPeerMark, HopCountOtherThanOneIsRefusedEvenWithAValidMac) {
  wire::proxy_header h = visitor();
  wire::fleet_mark m;
  m.hops = 2;
  m.unix_time = now;
  h.tlvs.push_back(wire::make_fleet_tlv(m));
  auto b = wire::encode_proxy_v2(h);  // MAC zeroed: sign it as a peer would, with hops = 2
  unsigned char mac[32];
  unsigned int len = 0;
  ::HMAC(EVP_sha256(), "k", 1, reinterpret_cast<const unsigned char*>(b.data()), b.size(), mac,
         &len);
  for (std::size_t i = 0; i < 32; ++i) {
    b[b.size() - 32 + i] = static_cast<std::byte>(mac[i]);
  }
  const auto d = wire::decode_proxy_v2(b);
  ASSERT_EQ(d.status, wire::proxy_status::done);
  EXPECT_EQ(verify_peer_header(b, d, "k", now), peer_verdict::bad_hops);
}

TEST(FleetPeerMark, NoMarkIsRefused) {
  const auto b = wire::encode_proxy_v2(visitor());
  EXPECT_EQ(check(b, "k", now), peer_verdict::no_mark);
}

TEST(FleetPeerMark, ReplayedHeaderIsRefusedWithinTheWindowOnly) {
  replay_guard guard;
  const auto a = sign_peer_header(visitor(), now, "fleet-secret");
  auto other = visitor();
  other.src_port = 51001;
  const auto b = sign_peer_header(other, now, "fleet-secret");
  const auto da = wire::decode_proxy_v2(a);
  const auto db = wire::decode_proxy_v2(b);
  EXPECT_EQ(verify_peer_header(a, da, "fleet-secret", now, guard), peer_verdict::ok);
  EXPECT_EQ(verify_peer_header(b, db, "fleet-secret", now, guard), peer_verdict::ok);
  EXPECT_EQ(verify_peer_header(a, da, "fleet-secret", now + 5, guard), peer_verdict::replayed);
  // A forged header is refused for its MAC and never enters the guard.
  auto forged = a;
  forged[20] ^= std::byte{1};
  EXPECT_EQ(verify_peer_header(forged, wire::decode_proxy_v2(forged), "fleet-secret", now, guard),
            peer_verdict::bad_mac);
  EXPECT_EQ(guard.size(), 2u);
  // Past the window the header is stale anyway; the guard has let it go.
  EXPECT_EQ(verify_peer_header(a, da, "fleet-secret", now + 31, guard), peer_verdict::stale_time);
  EXPECT_TRUE(guard.first_use(std::span(a).subspan(da.fleet_mac_offset, wire::fleet_mac_bytes),
                              now + 62));
}

TEST(FleetPeerMark, ReplayGuardForgetsTheOldestWhenFull) {
  replay_guard guard(2);
  std::array<std::byte, 32> m1{}, m2{}, m3{};
  m1[0] = std::byte{1};
  m2[0] = std::byte{2};
  m3[0] = std::byte{3};
  EXPECT_TRUE(guard.first_use(m1, now));
  EXPECT_TRUE(guard.first_use(m2, now));
  EXPECT_FALSE(guard.first_use(m2, now));
  EXPECT_TRUE(guard.first_use(m3, now));  // m1 goes
  EXPECT_EQ(guard.size(), 2u);
  EXPECT_TRUE(guard.first_use(m1, now));
}

}  // namespace
}  // namespace kiteline::fleet
