// wire::proxy_v2: PROXY protocol version 2 headers (HAProxy's proxy-protocol.txt §2.2), the
// preamble one relay of a fleet sends another when it forwards a visitor (issue 24): the
// visitor's addresses, and kiteline's TLV (a hop count, the time and an HMAC, see fleet/
// peer_mark). Only what the peer port needs: the PROXY command, TCP over IPv4 and IPv6, TLVs.
// The decoder takes the bytes read so far (it is cheap to call again as more arrive), bounded.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace kiteline::wire {

/// The 12 bytes every version 2 header starts with.
inline constexpr std::array<std::uint8_t, 12> proxy_v2_signature{
    0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
/// Headers larger than this are refused (ours are 70 or 94 bytes).
inline constexpr std::size_t proxy_v2_max_bytes = 512;
/// kiteline's TLV (the custom range 0xE0-0xEF): version, hops, unix time, HMAC-SHA256.
inline constexpr std::uint8_t fleet_tlv_type = 0xE7;
inline constexpr std::uint8_t fleet_tlv_version = 1;
inline constexpr std::size_t fleet_mac_bytes = 32;
inline constexpr std::size_t fleet_tlv_bytes = 1 + 1 + 8 + fleet_mac_bytes;

struct proxy_tlv {
  std::uint8_t type = 0;
  std::vector<std::uint8_t> value;
  friend bool operator==(const proxy_tlv&, const proxy_tlv&) = default;
};

/// A PROXY (not LOCAL) header for one TCP connection. IPv4 addresses use the first 4 bytes.
struct proxy_header {
  bool ipv6 = false;
  std::array<std::uint8_t, 16> src{};
  std::array<std::uint8_t, 16> dst{};
  std::uint16_t src_port = 0;
  std::uint16_t dst_port = 0;
  std::vector<proxy_tlv> tlvs;
  friend bool operator==(const proxy_header&, const proxy_header&) = default;
};

/// The value of kiteline's TLV.
struct fleet_mark {
  std::uint8_t hops = 1;
  std::uint64_t unix_time = 0;
  std::array<std::uint8_t, fleet_mac_bytes> mac{};
  friend bool operator==(const fleet_mark&, const fleet_mark&) = default;
};

/// The header's bytes. Its size fits in 16 bits for any sane TLV list (callers keep it small).
[[nodiscard]] std::vector<std::byte> encode_proxy_v2(const proxy_header& h);

enum class proxy_status : std::uint8_t {
  need_more,  ///< a valid prefix: read more
  done,       ///< a header of `length` bytes, decoded into `header`
  invalid,    ///< not a version 2 PROXY header for TCP, or larger than the bound
};

struct proxy_decoded {
  proxy_status status = proxy_status::need_more;
  std::size_t length = 0;  ///< bytes of the header (done only); the payload follows them
  proxy_header header;     ///< done only
  /// Offset in the input of the first TLV of type fleet_tlv_type's MAC bytes (0: no such TLV,
  /// or its value has the wrong size): the bytes the MAC is computed with zeroed.
  std::size_t fleet_mac_offset = 0;
};

/// Decodes the header at the start of `in` (the bytes read so far): need_more until it is
/// complete, invalid as soon as the bytes cannot begin one (wrong signature, version, command,
/// family, a truncated TLV) or it would exceed `max_bytes`.
[[nodiscard]] proxy_decoded decode_proxy_v2(std::span<const std::byte> in,
                                            std::size_t max_bytes = proxy_v2_max_bytes);

/// kiteline's TLV value for `m` (fleet_tlv_bytes long).
[[nodiscard]] proxy_tlv make_fleet_tlv(const fleet_mark& m);
/// The first TLV of kiteline's type in `h`, if it is well formed (right size and version).
[[nodiscard]] std::optional<fleet_mark> find_fleet_mark(const proxy_header& h);

}  // namespace kiteline::wire
