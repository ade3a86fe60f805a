// Small ASCII text helpers shared by the codec and the I/O code (pure, header-only).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace kiteline {

/// Lower-cases one ASCII letter; every other byte is returned unchanged.
[[nodiscard]] constexpr char ascii_lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

/// ASCII case-insensitive equality (header names, tokens).
[[nodiscard]] constexpr bool ascii_iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) {
      return false;
    }
  }
  return true;
}

/// A lower-cased copy (ASCII letters only; every other byte unchanged).
[[nodiscard]] inline std::string to_lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    c = ascii_lower(c);
  }
  return out;
}

/// HTTP's optional whitespace (RFC 9110 §5.6.3): space or horizontal tab.
[[nodiscard]] constexpr bool is_ows(char c) noexcept { return c == ' ' || c == '\t'; }

/// `s` without the spaces and tabs it starts or ends with.
[[nodiscard]] constexpr std::string_view trim_ows(std::string_view s) noexcept {
  while (!s.empty() && is_ows(s.front())) {
    s.remove_prefix(1);
  }
  while (!s.empty() && is_ows(s.back())) {
    s.remove_suffix(1);
  }
  return s;
}

/// Value of one hex digit (either case), or -1.
[[nodiscard]] constexpr int hex_digit_value(char c) noexcept {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

/// `n` in lower-case hex digits without leading zeros ("0" for zero), as printf's "%x" writes
/// it: PageKite's chunk size lines.
[[nodiscard]] inline std::string hex_number(std::uint64_t n) {
  constexpr std::string_view digits = "0123456789abcdef";
  char buf[16];
  std::size_t at = sizeof buf;
  do {
    buf[--at] = digits[n & 0xFU];
    n >>= 4U;
  } while (n != 0);
  return {buf + at, sizeof buf - at};
}

/// Escapes & < > " ' for HTML text and attribute values (error pages, listings).
[[nodiscard]] inline std::string html_escape(std::string_view s) {
  std::string r;
  r.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': r += "&amp;"; break;
      case '<': r += "&lt;"; break;
      case '>': r += "&gt;"; break;
      case '"': r += "&quot;"; break;
      case '\'': r += "&#39;"; break;
      default: r.push_back(c);
    }
  }
  return r;
}

/// The bytes of `s`: a view, valid as long as the characters it views.
[[nodiscard]] inline std::span<const std::byte> as_bytes(std::string_view s) noexcept {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

/// The bytes `b` read as text: a view, valid as long as the bytes it views.
[[nodiscard]] inline std::string_view as_text(std::span<const std::byte> b) noexcept {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

}  // namespace kiteline
