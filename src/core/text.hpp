// core/text: the ONE place for ASCII text helpers (case, whitespace, hex, base64, HTML escape);
// pure and header-only, so every module, the tests and the fuzzers share the same bytes rules.
#pragma once

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace kiteline {

// --- Letter case ------------------------------------------------------------------------------
// Only the 52 ASCII letters have a case. Every other byte, including bytes >= 0x80 and the
// punctuation that differs from a letter-like byte only in bit 0x20 ('[' / '{', '-' / CR,
// '_' / DEL), is left alone and compares only with itself.

/// True for 'A'..'Z'.
[[nodiscard]] constexpr bool is_ascii_upper(char c) noexcept { return c >= 'A' && c <= 'Z'; }

/// True for 'a'..'z'.
[[nodiscard]] constexpr bool is_ascii_lower(char c) noexcept { return c >= 'a' && c <= 'z'; }

/// Lower-cases one ASCII letter; every other byte is returned unchanged.
[[nodiscard]] constexpr char ascii_lower(char c) noexcept {
  return is_ascii_upper(c) ? static_cast<char>(c - 'A' + 'a') : c;
}

/// Upper-cases one ASCII letter; every other byte is returned unchanged.
[[nodiscard]] constexpr char ascii_upper(char c) noexcept {
  return is_ascii_lower(c) ? static_cast<char>(c - 'a' + 'A') : c;
}

/// ASCII case-insensitive equality (header names, tokens, host names): equal sizes and every
/// byte pair equal after ascii_lower.
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

/// True if `s` starts with `prefix`, compared as ascii_iequals does.
[[nodiscard]] constexpr bool ascii_istarts_with(std::string_view s,
                                                std::string_view prefix) noexcept {
  return s.size() >= prefix.size() && ascii_iequals(s.substr(0, prefix.size()), prefix);
}

/// A lower-cased copy (ASCII letters only; every other byte unchanged).
[[nodiscard]] inline std::string to_lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    c = ascii_lower(c);
  }
  return out;
}

/// An upper-cased copy (ASCII letters only; every other byte unchanged).
[[nodiscard]] inline std::string to_upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    c = ascii_upper(c);
  }
  return out;
}

// --- Whitespace -------------------------------------------------------------------------------

/// HTTP's optional whitespace (RFC 9110 §5.6.3): space or horizontal tab.
[[nodiscard]] constexpr bool is_ows(char c) noexcept { return c == ' ' || c == '\t'; }

/// `s` without the spaces and tabs it starts or ends with. The view points into `s`.
[[nodiscard]] constexpr std::string_view trim_ows(std::string_view s) noexcept {
  while (!s.empty() && is_ows(s.front())) {
    s.remove_prefix(1);
  }
  while (!s.empty() && is_ows(s.back())) {
    s.remove_suffix(1);
  }
  return s;
}

/// Space, tab, CR or LF: what PageKite head parsing strips around names and values
/// (pagekite.py trims both).
[[nodiscard]] constexpr bool is_ows_or_eol(char c) noexcept {
  return is_ows(c) || c == '\r' || c == '\n';
}

/// `s` without the spaces, tabs, CRs and LFs it starts or ends with. The view points into `s`.
[[nodiscard]] constexpr std::string_view trim_ows_and_eol(std::string_view s) noexcept {
  while (!s.empty() && is_ows_or_eol(s.front())) {
    s.remove_prefix(1);
  }
  while (!s.empty() && is_ows_or_eol(s.back())) {
    s.remove_suffix(1);
  }
  return s;
}

/// C's isspace in the "C" locale and regex `\s` on ASCII: space, \t, \n, \v, \f, \r.
[[nodiscard]] constexpr bool is_ascii_space(char c) noexcept {
  return c == ' ' || (c >= '\t' && c <= '\r');
}

/// `s` without the is_ascii_space bytes it starts or ends with. The view points into `s`.
[[nodiscard]] constexpr std::string_view trim_ascii_space(std::string_view s) noexcept {
  while (!s.empty() && is_ascii_space(s.front())) {
    s.remove_prefix(1);
  }
  while (!s.empty() && is_ascii_space(s.back())) {
    s.remove_suffix(1);
  }
  return s;
}

// --- Hex --------------------------------------------------------------------------------------

/// Value of one hex digit ('0'-'9', 'a'-'f', 'A'-'F'), or -1 for any other byte.
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

/// True for a hex digit of either case.
[[nodiscard]] constexpr bool is_hex_digit(char c) noexcept { return hex_digit_value(c) >= 0; }

/// True for '0'-'9' and 'a'-'f' only (the form kiteline and pagekite.py emit).
[[nodiscard]] constexpr bool is_lower_hex_digit(char c) noexcept {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/// True if every byte of `s` is a hex digit of either case (also for an empty `s`).
[[nodiscard]] constexpr bool is_hex(std::string_view s) noexcept {
  for (const char c : s) {
    if (!is_hex_digit(c)) {
      return false;
    }
  }
  return true;
}

/// True if every byte of `s` is a lower-case hex digit (also for an empty `s`).
[[nodiscard]] constexpr bool is_lower_hex(std::string_view s) noexcept {
  for (const char c : s) {
    if (!is_lower_hex_digit(c)) {
      return false;
    }
  }
  return true;
}

/// The lower-case hex digit for `v` & 15.
[[nodiscard]] constexpr char hex_digit(unsigned v) noexcept {
  return "0123456789abcdef"[v & 0x0FU];
}

/// Lower-case hex of arbitrary bytes, two digits a byte ("" for no bytes).
[[nodiscard]] inline std::string to_hex(std::span<const std::uint8_t> bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const std::uint8_t b : bytes) {
    out.push_back(hex_digit(b >> 4U));
    out.push_back(hex_digit(b));
  }
  return out;
}

/// `v` in lower-case hex without leading zeros, as printf's "%x" ("0" for 0).
[[nodiscard]] inline std::string to_hex_number(std::uint64_t v) {
  std::array<char, 16> buf{};
  std::size_t n = 0;
  do {
    buf[buf.size() - 1 - n] = hex_digit(static_cast<unsigned>(v & 0x0FU));
    v >>= 4U;
    ++n;
  } while (v != 0);
  return {buf.data() + buf.size() - n, n};
}

/// The number written by 1..16 hex digits of either case (leading zeros allowed); nullopt for
/// an empty `s`, more than 16 digits, or any other byte (no sign, no "0x", no blanks).
[[nodiscard]] constexpr std::optional<std::uint64_t> parse_hex_number(std::string_view s) noexcept {
  if (s.empty() || s.size() > 16) {
    return std::nullopt;
  }
  std::uint64_t v = 0;
  for (const char c : s) {
    const int d = hex_digit_value(c);
    if (d < 0) {
      return std::nullopt;
    }
    v = (v << 4U) | static_cast<std::uint64_t>(d);
  }
  return v;
}

/// Decodes `hex` (an even number of hex digits of either case, nothing else) into the front of
/// `out`, and returns how many bytes it wrote. nullopt, with `out` possibly partly written, for
/// an odd length, a non-hex byte, or more bytes than `out` holds; callers holding secrets wipe
/// `out` then. Writes nothing past the returned count.
[[nodiscard]] constexpr std::optional<std::size_t> decode_hex_into(
    std::string_view hex, std::span<std::byte> out) noexcept {
  if (hex.size() % 2 != 0 || hex.size() / 2 > out.size()) {
    return std::nullopt;
  }
  for (std::size_t i = 0; i < hex.size() / 2; ++i) {
    const int hi = hex_digit_value(hex[2 * i]);
    const int lo = hex_digit_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      return std::nullopt;
    }
    out[i] = static_cast<std::byte>(hi * 16 + lo);
  }
  return hex.size() / 2;
}

/// The bytes written by `hex` (see decode_hex_into), or nullopt when it is malformed.
[[nodiscard]] inline std::optional<std::string> decode_hex(std::string_view hex) {
  std::string out(hex.size() / 2, '\0');
  if (!decode_hex_into(hex, std::as_writable_bytes(std::span<char>(out)))) {
    return std::nullopt;
  }
  return out;
}

// --- Decimal ----------------------------------------------------------------------------------

/// True for '0'..'9'.
[[nodiscard]] constexpr bool is_ascii_digit(char c) noexcept { return c >= '0' && c <= '9'; }

/// The number written by the decimal digits `s`, if it is at most `max`: one or more of
/// '0'-'9' and nothing else (no sign, no blanks, no "0x"), leading zeros allowed, any length
/// (a value is refused as soon as it passes `max`, so nothing overflows). nullopt for an empty
/// `s`, any other byte, or a value over `max`. The ONE decimal parser: callers with tighter
/// rules (a digit count cap, no zero) check them around it.
template <std::unsigned_integral T>
[[nodiscard]] constexpr std::optional<T> parse_decimal(
    std::string_view s, T max = std::numeric_limits<T>::max()) noexcept {
  if (s.empty()) {
    return std::nullopt;
  }
  T v = 0;
  for (const char c : s) {
    if (!is_ascii_digit(c)) {
      return std::nullopt;
    }
    const auto d = static_cast<T>(c - '0');
    if (d > max || v > (max - d) / 10U) {  // v * 10 + d would pass max
      return std::nullopt;
    }
    v = static_cast<T>(v * 10U + d);
  }
  return v;
}

// --- Base64 (RFC 4648 §4: standard alphabet, '=' padding) -------------------------------------

/// The standard base64 value of one byte ('A'-'Z', 'a'-'z', '0'-'9', '+', '/'), or -1.
[[nodiscard]] constexpr int base64_digit_value(char c) noexcept {
  if (c >= 'A' && c <= 'Z') {
    return c - 'A';
  }
  if (c >= 'a' && c <= 'z') {
    return c - 'a' + 26;
  }
  if (c >= '0' && c <= '9') {
    return c - '0' + 52;
  }
  if (c == '+') {
    return 62;
  }
  if (c == '/') {
    return 63;
  }
  return -1;
}

/// Standard padded base64 of `bytes` ("" for no bytes; 4 characters per 3 bytes or part).
[[nodiscard]] inline std::string base64_encode(std::string_view bytes) {
  constexpr std::string_view alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t v = (std::uint32_t{static_cast<unsigned char>(bytes[i])} << 16U) |
                            (std::uint32_t{static_cast<unsigned char>(bytes[i + 1])} << 8U) |
                            std::uint32_t{static_cast<unsigned char>(bytes[i + 2])};
    out.push_back(alphabet[(v >> 18U) & 63U]);
    out.push_back(alphabet[(v >> 12U) & 63U]);
    out.push_back(alphabet[(v >> 6U) & 63U]);
    out.push_back(alphabet[v & 63U]);
  }
  const std::size_t left = bytes.size() - i;
  if (left != 0) {
    std::uint32_t v = std::uint32_t{static_cast<unsigned char>(bytes[i])} << 16U;
    if (left == 2) {
      v |= std::uint32_t{static_cast<unsigned char>(bytes[i + 1])} << 8U;
    }
    out.push_back(alphabet[(v >> 18U) & 63U]);
    out.push_back(alphabet[(v >> 12U) & 63U]);
    out.push_back(left == 2 ? alphabet[(v >> 6U) & 63U] : '=');
    out.push_back('=');
  }
  return out;
}

/// Decodes standard padded base64: the length must be a multiple of 4, '=' may only fill the
/// last one or two places, and no other byte outside the alphabet is allowed (no blanks, no line
/// breaks, no URL-safe alphabet). Like Python's base64.b64decode, unused low bits of the last
/// digit are ignored. nullopt on any violation.
[[nodiscard]] inline std::optional<std::string> base64_decode(std::string_view s) {
  if (s.size() % 4 != 0) {
    return std::nullopt;
  }
  std::string out;
  out.reserve(s.size() / 4 * 3);
  std::uint32_t acc = 0;
  int bits = 0;
  std::size_t pad = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '=') {
      if (i + 2 < s.size()) {
        return std::nullopt;
      }
      ++pad;
      continue;
    }
    const int v = base64_digit_value(c);
    if (pad != 0 || v < 0) {
      return std::nullopt;
    }
    acc = (acc << 6U) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> static_cast<unsigned>(bits)) & 0xFFU));
    }
  }
  return out;
}

// --- HTML -------------------------------------------------------------------------------------

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
