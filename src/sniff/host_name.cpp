#include "sniff/host_name.hpp"

#include "core/text.hpp"

namespace kiteline::sniff {
namespace {

constexpr std::size_t max_label_length = 63;

/// "0x<8 or 32 hex>--" prefix length, or 0.
std::size_t embedded_ip_prefix(std::string_view name) noexcept {
  if (name.size() < 2 || name[0] != '0' || name[1] != 'x') {
    return 0;
  }
  for (std::size_t digits : {std::size_t{8}, std::size_t{32}}) {
    if (name.size() >= 2 + digits + 2 && is_hex(name.substr(2, digits)) &&
        name.substr(2 + digits, 2) == "--") {
      return 2 + digits + 2;
    }
  }
  return 0;
}

/// 1..5 decimal digits (leading zeros allowed within the five), value 1..65535.
std::optional<std::uint16_t> parse_port(std::string_view digits) noexcept {
  if (digits.size() > 5) {
    return std::nullopt;
  }
  const auto v = parse_decimal<std::uint16_t>(digits);
  if (!v || *v == 0) {
    return std::nullopt;
  }
  return v;
}

}  // namespace

bool is_valid_host_name(std::string_view name) noexcept {
  if (name.empty() || name.size() > max_host_name_length) {
    return false;
  }
  std::size_t label = 0;
  for (char c : name) {
    if (c == '.') {
      if (label == 0) {
        return false;  // leading dot or ".."
      }
      label = 0;
      continue;
    }
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!ok || ++label > max_label_length) {
      return false;
    }
  }
  return label != 0;  // no trailing dot
}

std::optional<authority> parse_authority(std::string_view text, bool strip_embedded_ip) {
  authority a;
  std::string_view host_part;
  std::string_view rest;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close == 1 || close + 1 > max_host_name_length) {
      return std::nullopt;
    }
    for (char c : text.substr(1, close - 1)) {
      if (!is_hex_digit(c) && c != ':' && c != '.') {
        return std::nullopt;
      }
    }
    host_part = text.substr(0, close + 1);
    rest = text.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') {
      return std::nullopt;
    }
    a.host = to_lower(host_part);
  } else {
    const auto colon = text.find(':');
    host_part = text.substr(0, colon);
    rest = colon == std::string_view::npos ? std::string_view{} : text.substr(colon);
    if (host_part.size() > max_host_name_length) {
      return std::nullopt;
    }
    a.host = to_lower(host_part);
    if (!is_valid_host_name(a.host)) {
      return std::nullopt;
    }
    if (strip_embedded_ip) {
      const std::size_t skip = embedded_ip_prefix(a.host);
      if (skip != 0) {
        a.host.erase(0, skip);
        if (!is_valid_host_name(a.host)) {
          return std::nullopt;
        }
      }
    }
  }
  if (!rest.empty()) {  // ":port"; a second ':' makes the digits check fail
    const auto port = parse_port(rest.substr(1));
    if (!port) {
      return std::nullopt;
    }
    a.port = *port;
    a.has_port = true;
  }
  return a;
}

}  // namespace kiteline::sniff
