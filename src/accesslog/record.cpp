#include "accesslog/record.hpp"

#include <array>
#include <cstdio>
#include <ctime>

namespace kiteline::accesslog {

namespace {

constexpr std::string_view hex_digits = "0123456789abcdef";

void append_hex_byte(std::string& out, unsigned char c) {
  out += hex_digits[c >> 4];
  out += hex_digits[c & 0xf];
}

bool plain_text_value(std::string_view v) {
  if (v.empty() || v == "-") {
    return false;
  }
  for (const char ch : v) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c >= 0x7f || c == '"' || c == ';' || c == '\\') {
      return false;
    }
  }
  return true;
}

/// Length of the well-formed UTF-8 sequence at the start of `s` (2-4), or 0 (RFC 3629 table:
/// no overlong forms, no surrogates, nothing above U+10FFFF).
std::size_t utf8_sequence(std::string_view s) {
  const auto b = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  const auto cont = [&](std::size_t i, unsigned char lo = 0x80, unsigned char hi = 0xbf) {
    return i < s.size() && b(i) >= lo && b(i) <= hi;
  };
  const unsigned char c = b(0);
  if (c >= 0xc2 && c <= 0xdf) {
    return cont(1) ? 2 : 0;
  }
  if (c >= 0xe0 && c <= 0xef) {
    const unsigned char lo = c == 0xe0 ? 0xa0 : 0x80;
    const unsigned char hi = c == 0xed ? 0x9f : 0xbf;
    return cont(1, lo, hi) && cont(2) ? 3 : 0;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    const unsigned char lo = c == 0xf0 ? 0x90 : 0x80;
    const unsigned char hi = c == 0xf4 ? 0x8f : 0xbf;
    return cont(1, lo, hi) && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}

void text_field(std::string& out, std::string_view key, std::string_view value) {
  out += "; ";
  out += key;
  out += '=';
  append_text_value(out, value);
}

void text_number(std::string& out, std::string_view key, std::uint64_t n, bool zero_is_none) {
  out += "; ";
  out += key;
  out += '=';
  if (zero_is_none && n == 0) {
    out += '-';
  } else {
    out += std::to_string(n);
  }
}

void json_field(std::string& out, std::string_view key, std::string_view value) {
  out += ",\"";
  out += key;
  out += "\":";
  if (value.empty()) {
    out += "null";
  } else {
    append_json_string(out, value);
  }
}

void json_number(std::string& out, std::string_view key, std::uint64_t n, bool zero_is_none) {
  out += ",\"";
  out += key;
  out += "\":";
  out += (zero_is_none && n == 0) ? std::string("null") : std::to_string(n);
}

/// Milliseconds with three decimals ("12.345") from microseconds.
std::string millis(std::chrono::microseconds d) {
  const auto us = d.count() < 0 ? 0 : static_cast<std::uint64_t>(d.count());
  std::string frac = std::to_string(us % 1000);
  return std::to_string(us / 1000) + "." + std::string(3 - frac.size(), '0') + frac;
}

}  // namespace

void append_text_value(std::string& out, std::string_view v) {
  if (v.empty()) {
    out += '-';
    return;
  }
  if (plain_text_value(v)) {
    out += v;
    return;
  }
  out += '"';
  for (const char ch : v) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20 || c >= 0x7f) {
      out += "\\x";
      append_hex_byte(out, c);
    } else {
      out += ch;
    }
  }
  out += '"';
}

void append_json_string(std::string& out, std::string_view v) {
  out += '"';
  std::size_t i = 0;
  while (i < v.size()) {
    const auto c = static_cast<unsigned char>(v[i]);
    if (c >= 0x80) {
      const std::size_t n = utf8_sequence(v.substr(i));
      if (n == 0) {
        out += "\\ufffd";
        ++i;
      } else {
        out.append(v.substr(i, n));
        i += n;
      }
      continue;
    }
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += "\\u00";
          append_hex_byte(out, c);
        } else {
          out += static_cast<char>(c);
        }
    }
    ++i;
  }
  out += '"';
}

std::string format_time(std::chrono::system_clock::time_point t) {
  const auto since = t.time_since_epoch();
  const std::time_t secs =
      static_cast<std::time_t>(std::chrono::floor<std::chrono::seconds>(since).count());
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      since - std::chrono::floor<std::chrono::seconds>(since))
                      .count();
  std::tm tm{};
  ::localtime_r(&secs, &tm);
  long off = tm.tm_gmtoff / 60;  // minutes east of UTC
  const char sign = off < 0 ? '-' : '+';
  off = off < 0 ? -off : off;
  std::array<char, 64> buf{};
  const int n =
      std::snprintf(buf.data(), buf.size(), "%04d-%02d-%02dT%02d:%02d:%02d.%03d%c%02ld:%02ld",
                    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                    static_cast<int>(ms), sign, off / 60, off % 60);
  return std::string(buf.data(), n > 0 ? static_cast<std::size_t>(n) : 0);
}

std::string format_text(const record& r) {
  std::string out;
  out.reserve(256 + r.path.size());
  const auto secs = std::chrono::floor<std::chrono::seconds>(r.time.time_since_epoch()).count();
  std::array<char, 24> ts{};
  const int n = std::snprintf(ts.data(), ts.size(), "%llx", static_cast<unsigned long long>(secs));
  out += "ts=";
  out.append(ts.data(), n > 0 ? static_cast<std::size_t>(n) : 0);
  out += "; t=";
  out += format_time(r.time);
  text_field(out, "role", r.role);
  text_field(out, "rip", r.remote_ip);
  text_number(out, "rport", r.remote_port, true);
  text_field(out, "kite", r.kite);
  text_field(out, "proto", r.proto);
  text_number(out, "port", r.port, true);
  text_field(out, "method", r.method);
  text_field(out, "path", r.path);
  text_number(out, "status", static_cast<std::uint64_t>(r.status < 0 ? 0 : r.status), true);
  text_number(out, "bytes_in", r.bytes_in, false);
  text_number(out, "bytes_out", r.bytes_out, false);
  out += "; ms=";
  out += millis(r.duration);
  text_field(out, "tunnel", r.tunnel);
  if (!r.note.empty()) {
    text_field(out, "note", r.note);
  }
  return out;
}

std::string format_json(const record& r) {
  std::string out;
  out.reserve(320 + r.path.size());
  out += "{\"time\":";
  append_json_string(out, format_time(r.time));
  json_field(out, "role", r.role);
  json_field(out, "remote_ip", r.remote_ip);
  json_number(out, "remote_port", r.remote_port, true);
  json_field(out, "kite", r.kite);
  json_field(out, "proto", r.proto);
  json_number(out, "port", r.port, true);
  json_field(out, "method", r.method);
  json_field(out, "path", r.path);
  json_number(out, "status", static_cast<std::uint64_t>(r.status < 0 ? 0 : r.status), true);
  json_number(out, "bytes_in", r.bytes_in, false);
  json_number(out, "bytes_out", r.bytes_out, false);
  out += ",\"duration_ms\":";
  out += millis(r.duration);
  json_field(out, "tunnel", r.tunnel);
  json_field(out, "note", r.note);
  out += '}';
  return out;
}

std::string format_line(format f, const record& r) {
  return f == format::json ? format_json(r) : format_text(r);
}

std::optional<request_line> parse_request_line(std::string_view head) {
  // method SP target SP version: the method is a token, the target runs to the next space or
  // line end (or the end of what was seen).
  std::size_t m = 0;
  while (m < head.size() && m < 32) {
    const auto c = static_cast<unsigned char>(head[m]);
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '-' || c == '_')) {
      break;
    }
    ++m;
  }
  if (m == 0 || m >= head.size() || head[m] != ' ') {
    return std::nullopt;
  }
  const std::size_t start = m + 1;
  std::size_t end = start;
  while (end < head.size() && head[end] != ' ' && head[end] != '\r' && head[end] != '\n') {
    ++end;
  }
  if (end == start) {
    return std::nullopt;
  }
  return request_line{std::string(head.substr(0, m)), std::string(head.substr(start, end - start))};
}

int parse_status_line(std::string_view head) {
  // "HTTP/1.x NNN"
  if (head.size() < 12 || head.substr(0, 7) != "HTTP/1." || head[8] != ' ') {
    return 0;
  }
  int code = 0;
  for (std::size_t i = 9; i < 12; ++i) {
    if (head[i] < '0' || head[i] > '9') {
      return 0;
    }
    code = code * 10 + (head[i] - '0');
  }
  return (head.size() == 12 || head[12] == ' ' || head[12] == '\r') ? code : 0;
}

}  // namespace kiteline::accesslog
