#include "fleet/peer_mark.hpp"

#include <algorithm>
#include <array>
#include <cstring>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace kiteline::fleet {
namespace {

std::array<std::uint8_t, wire::fleet_mac_bytes> hmac(std::string_view key,
                                                     std::span<const std::byte> data) {
  std::array<std::uint8_t, wire::fleet_mac_bytes> out{};
  unsigned int len = 0;
  ::HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
         reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(), &len);
  return out;
}

}  // namespace

std::vector<std::byte> sign_peer_header(wire::proxy_header h, std::uint64_t unix_time,
                                        std::string_view key) {
  wire::fleet_mark m;
  m.hops = 1;
  m.unix_time = unix_time;
  h.tlvs.push_back(wire::make_fleet_tlv(m));
  auto bytes = wire::encode_proxy_v2(h);
  const auto mac = hmac(key, bytes);  // over the header with the MAC zeroed
  std::transform(mac.begin(), mac.end(), bytes.end() - wire::fleet_mac_bytes,
                 [](std::uint8_t b) { return static_cast<std::byte>(b); });
  return bytes;
}

std::string_view describe(peer_verdict v) noexcept {
  switch (v) {
    case peer_verdict::ok:
      return "ok";
    case peer_verdict::no_mark:
      return "no fleet TLV";
    case peer_verdict::bad_mac:
      return "bad MAC";
    case peer_verdict::stale_time:
      return "time out of range";
    case peer_verdict::bad_hops:
      return "hop count not 1";
    case peer_verdict::replayed:
      return "header replayed";
  }
  return "?";
}

peer_verdict verify_peer_header(std::span<const std::byte> in, const wire::proxy_decoded& d,
                                std::string_view key, std::uint64_t now) {
  const auto mark = wire::find_fleet_mark(d.header);
  if (d.status != wire::proxy_status::done || !mark || d.fleet_mac_offset == 0 ||
      in.size() < d.length) {
    return peer_verdict::no_mark;
  }
  std::vector<std::byte> zeroed(in.begin(), in.begin() + static_cast<std::ptrdiff_t>(d.length));
  std::fill_n(zeroed.begin() + static_cast<std::ptrdiff_t>(d.fleet_mac_offset),
              wire::fleet_mac_bytes, std::byte{0});
  const auto want = hmac(key, zeroed);
  if (CRYPTO_memcmp(want.data(), in.data() + d.fleet_mac_offset, want.size()) != 0) {
    return peer_verdict::bad_mac;
  }
  const auto skew = static_cast<std::int64_t>(mark->unix_time) - static_cast<std::int64_t>(now);
  if (skew > peer_clock_skew_seconds || skew < -peer_clock_skew_seconds) {
    return peer_verdict::stale_time;
  }
  if (mark->hops != 1) {
    return peer_verdict::bad_hops;
  }
  return peer_verdict::ok;
}

std::size_t replay_guard::key_hash::operator()(const key& k) const noexcept {
  std::size_t h = 0;
  std::memcpy(&h, k.data(), sizeof h);  // MAC bytes: already uniform
  return h;
}

bool replay_guard::first_use(std::span<const std::byte> mac, std::uint64_t now) {
  key k{};
  std::memcpy(k.data(), mac.data(), std::min(mac.size(), k.size()));
  const std::uint64_t window = 2 * static_cast<std::uint64_t>(peer_clock_skew_seconds) + 1;
  const std::lock_guard lock(mu_);
  while (!order_.empty() &&
         (order_.front().first + window < now || order_.size() >= capacity_)) {
    seen_.erase(order_.front().second);
    order_.pop_front();
  }
  if (!seen_.insert(k).second) {
    return false;
  }
  order_.emplace_back(now, k);
  return true;
}

std::size_t replay_guard::size() const {
  const std::lock_guard lock(mu_);
  return seen_.size();
}

peer_verdict verify_peer_header(std::span<const std::byte> in, const wire::proxy_decoded& d,
                                std::string_view key, std::uint64_t now, replay_guard& guard) {
  const auto verdict = verify_peer_header(in, d, key, now);
  if (verdict != peer_verdict::ok) {
    return verdict;
  }
  return guard.first_use(in.subspan(d.fleet_mac_offset, wire::fleet_mac_bytes), now)
             ? peer_verdict::ok
             : peer_verdict::replayed;
}

}  // namespace kiteline::fleet
