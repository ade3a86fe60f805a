// Host-name helpers shared by the SNI, Host-header and CONNECT-target parsers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kiteline::sniff {

/// Longest host name accepted anywhere in the sniffers (DNS limit).
inline constexpr std::size_t max_host_name_length = 255;

/// True if `name` (already lower-case) is a host name as kiteline routes them: 1..255 chars of
/// [a-z0-9.-_], labels of 1..63 chars, so no leading/trailing dot and no "..". IPv4 literals
/// pass; IPv6 literals do not (they are handled by parse_authority).
[[nodiscard]] bool is_valid_host_name(std::string_view name) noexcept;

/// A parsed `host[:port]`.
struct authority {
  std::string host;        ///< lower-case; IPv6 literals keep their brackets ("[::1]")
  std::uint16_t port = 0;  ///< 0 when no port was given
  bool has_port = false;
};

/// Parses `host[:port]` (reg-name, IPv4 literal or bracketed IPv6 literal). The host is
/// lower-cased and validated with is_valid_host_name (or, for "[...]", hex digits, ':' and '.');
/// a port must be 1..5 digits with value 1..65535. Returns nullopt on any violation. When
/// `strip_embedded_ip` is set, a leading "0x<8 or 32 hex digits>--" is removed from a reg-name
/// (spec §6.3) and the rest must still be a valid, non-empty name.
[[nodiscard]] std::optional<authority> parse_authority(std::string_view text,
                                                       bool strip_embedded_ip);

}  // namespace kiteline::sniff
