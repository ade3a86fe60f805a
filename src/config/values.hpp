// config values: small checked parsers for option values (ports, numbers, names, HOST:PORT).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/text.hpp"

namespace kiteline::config {

/// Decimal TCP port 1..65535; no sign, no blanks, no leading `+`.
std::optional<std::uint16_t> parse_port(std::string_view text) noexcept;

/// Decimal unsigned number <= max; no sign, no blanks; at most 20 characters (leading zeros
/// allowed within them). core's parse_decimal with this parser's length cap.
std::optional<std::uint64_t> parse_unsigned(std::string_view text, std::uint64_t max) noexcept;

/// Splits at every `sep`; empty fields are kept ("a,,b" -> {"a", "", "b"}; "" -> {""}).
std::vector<std::string> split(std::string_view text, char sep);

/// Splits at `sep` like split(), except inside [brackets] (IPv6 literals): "a:[::1]:80" gives
/// {"a", "[::1]", "80"}.
std::vector<std::string> split_outside_brackets(std::string_view text, char sep);

/// A DNS-ish name: labels of [a-z0-9_-] (1..63 chars) joined by dots, 1..253 chars in all,
/// lower-case expected. With allow_wildcard, the first label may be exactly `*` ("*.x").
bool is_valid_name(std::string_view name, bool allow_wildcard) noexcept;

/// HOST and port of "HOST", "HOST:PORT", "[V6]", "[V6]:PORT" or "V6:PORT" (pagekite.py splits
/// at the last colon; a bare IPv6 literal without a port therefore needs brackets).
struct host_port {
  std::string host;
  std::uint16_t port = 0;
};

/// Parses the forms above; the port defaults to `default_port`. nullopt on a bad port, an
/// empty host or an unbracketed IPv6 literal without a port.
std::optional<host_port> parse_host_port(std::string_view text, std::uint16_t default_port);

/// The pagekite.py release kiteline is compatible with (Debian 12's package): it decides the
/// versioned relay-pool names of --defaults and --whitelabel (spec §9.3).
inline constexpr std::string_view pagekite_compatible_version = "1.5.2.201011";

/// pk.py APPVER_DNS: "fe4_" + the digits of the first three numbers of `version` + "." +
/// `domain`, e.g. ("example.net", "1.5.2.201011") -> "fe4_152.example.net".
std::string versioned_relay_name(std::string_view domain,
                                 std::string_view version = pagekite_compatible_version);

}  // namespace kiteline::config
