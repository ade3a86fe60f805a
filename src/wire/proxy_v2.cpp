#include "wire/proxy_v2.hpp"

#include <algorithm>

namespace kiteline::wire {
namespace {

constexpr std::uint8_t version_proxy = 0x21;  // version 2, PROXY
constexpr std::uint8_t tcp_over_ipv4 = 0x11;
constexpr std::uint8_t tcp_over_ipv6 = 0x21;
constexpr std::size_t fixed_bytes = 16;

std::uint8_t at(std::span<const std::byte> in, std::size_t i) {
  return static_cast<std::uint8_t>(in[i]);
}

void put(std::vector<std::byte>& out, std::uint8_t b) { out.push_back(static_cast<std::byte>(b)); }

void put16(std::vector<std::byte>& out, std::uint16_t v) {
  put(out, static_cast<std::uint8_t>(v >> 8));
  put(out, static_cast<std::uint8_t>(v & 0xFF));
}

}  // namespace

std::vector<std::byte> encode_proxy_v2(const proxy_header& h) {
  const std::size_t addr = h.ipv6 ? 16 : 4;
  std::size_t rest = 2 * addr + 4;
  for (const auto& t : h.tlvs) {
    rest += 3 + t.value.size();
  }
  std::vector<std::byte> out;
  out.reserve(fixed_bytes + rest);
  for (std::uint8_t b : proxy_v2_signature) {
    put(out, b);
  }
  put(out, version_proxy);
  put(out, h.ipv6 ? tcp_over_ipv6 : tcp_over_ipv4);
  put16(out, static_cast<std::uint16_t>(rest));
  for (std::size_t i = 0; i < addr; ++i) {
    put(out, h.src[i]);
  }
  for (std::size_t i = 0; i < addr; ++i) {
    put(out, h.dst[i]);
  }
  put16(out, h.src_port);
  put16(out, h.dst_port);
  for (const auto& t : h.tlvs) {
    put(out, t.type);
    put16(out, static_cast<std::uint16_t>(t.value.size()));
    for (std::uint8_t b : t.value) {
      put(out, b);
    }
  }
  return out;
}

proxy_decoded decode_proxy_v2(std::span<const std::byte> in, std::size_t max_bytes) {
  proxy_decoded d;
  const auto invalid = [&d] {
    d.status = proxy_status::invalid;
    d.length = 0;
    d.header = {};
    d.fleet_mac_offset = 0;
    return d;
  };
  const std::size_t sig = std::min(in.size(), proxy_v2_signature.size());
  for (std::size_t i = 0; i < sig; ++i) {
    if (at(in, i) != proxy_v2_signature[i]) {
      return invalid();
    }
  }
  if (in.size() > 12 && at(in, 12) != version_proxy) {
    return invalid();
  }
  if (in.size() > 13 && at(in, 13) != tcp_over_ipv4 && at(in, 13) != tcp_over_ipv6) {
    return invalid();
  }
  if (in.size() < fixed_bytes) {
    return d;
  }
  const bool v6 = at(in, 13) == tcp_over_ipv6;
  const std::size_t addr = v6 ? 16 : 4;
  const std::size_t rest = (std::size_t{at(in, 14)} << 8) | at(in, 15);
  const std::size_t total = fixed_bytes + rest;
  if (rest < 2 * addr + 4 || total > max_bytes) {
    return invalid();
  }
  if (in.size() < total) {
    return d;
  }
  proxy_header& h = d.header;
  h.ipv6 = v6;
  std::size_t p = fixed_bytes;
  for (std::size_t i = 0; i < addr; ++i) {
    h.src[i] = at(in, p + i);
    h.dst[i] = at(in, p + addr + i);
  }
  p += 2 * addr;
  h.src_port = static_cast<std::uint16_t>((at(in, p) << 8) | at(in, p + 1));
  h.dst_port = static_cast<std::uint16_t>((at(in, p + 2) << 8) | at(in, p + 3));
  p += 4;
  while (p < total) {
    if (total - p < 3) {
      return invalid();
    }
    proxy_tlv t;
    t.type = at(in, p);
    const std::size_t len = (std::size_t{at(in, p + 1)} << 8) | at(in, p + 2);
    p += 3;
    if (total - p < len) {
      return invalid();
    }
    if (t.type == fleet_tlv_type && d.fleet_mac_offset == 0 && len == fleet_tlv_bytes) {
      d.fleet_mac_offset = p + fleet_tlv_bytes - fleet_mac_bytes;
    }
    t.value.resize(len);
    for (std::size_t i = 0; i < len; ++i) {
      t.value[i] = at(in, p + i);
    }
    p += len;
    h.tlvs.push_back(std::move(t));
  }
  d.status = proxy_status::done;
  d.length = total;
  return d;
}

proxy_tlv make_fleet_tlv(const fleet_mark& m) {
  proxy_tlv t;
  t.type = fleet_tlv_type;
  t.value.reserve(fleet_tlv_bytes);
  t.value.push_back(fleet_tlv_version);
  t.value.push_back(m.hops);
  for (int shift = 56; shift >= 0; shift -= 8) {
    t.value.push_back(static_cast<std::uint8_t>((m.unix_time >> shift) & 0xFF));
  }
  t.value.insert(t.value.end(), m.mac.begin(), m.mac.end());
  return t;
}

std::optional<fleet_mark> find_fleet_mark(const proxy_header& h) {
  const auto it = std::find_if(h.tlvs.begin(), h.tlvs.end(),
                               [](const proxy_tlv& t) { return t.type == fleet_tlv_type; });
  if (it == h.tlvs.end() || it->value.size() != fleet_tlv_bytes ||
      it->value[0] != fleet_tlv_version) {
    return std::nullopt;
  }
  fleet_mark m;
  m.hops = it->value[1];
  for (std::size_t i = 0; i < 8; ++i) {
    m.unix_time = (m.unix_time << 8) | it->value[2 + i];
  }
  std::copy(it->value.begin() + 10, it->value.end(), m.mac.begin());
  return m;
}

}  // namespace kiteline::wire
