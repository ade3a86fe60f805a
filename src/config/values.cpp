#include "config/values.hpp"

namespace kiteline::config {

std::optional<std::uint64_t> parse_unsigned(std::string_view text, std::uint64_t max) noexcept {
  // core's parse_decimal, plus this parser's own cap of 20 characters (as before: leading zeros
  // are allowed, but "000...1" longer than 20 characters is refused).
  if (text.size() > 20) {
    return std::nullopt;
  }
  return parse_decimal(text, max);
}

std::optional<std::uint16_t> parse_port(std::string_view text) noexcept {
  const auto v = parse_unsigned(text, 65535);
  if (!v || *v == 0) {
    return std::nullopt;
  }
  return static_cast<std::uint16_t>(*v);
}

std::vector<std::string> split(std::string_view text, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    const auto pos = text.find(sep, start);
    if (pos == std::string_view::npos) {
      out.emplace_back(text.substr(start));
      return out;
    }
    out.emplace_back(text.substr(start, pos - start));
    start = pos + 1;
  }
}

std::vector<std::string> split_outside_brackets(std::string_view text, char sep) {
  std::vector<std::string> out(1);
  bool in_brackets = false;
  for (char c : text) {
    if (c == '[') {
      in_brackets = true;
    } else if (c == ']') {
      in_brackets = false;
    }
    if (c == sep && !in_brackets) {
      out.emplace_back();
    } else {
      out.back() += c;
    }
  }
  return out;
}

bool is_valid_name(std::string_view name, bool allow_wildcard) noexcept {
  if (name.empty() || name.size() > 253) {
    return false;
  }
  if (allow_wildcard && name.starts_with("*.")) {
    name.remove_prefix(2);
    if (name.empty()) {
      return false;
    }
  }
  std::size_t label = 0;
  for (char c : name) {
    if (c == '.') {
      if (label == 0) {
        return false;
      }
      label = 0;
      continue;
    }
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!ok || ++label > 63) {
      return false;
    }
  }
  return label != 0;
}

std::optional<host_port> parse_host_port(std::string_view text, std::uint16_t default_port) {
  host_port out;
  out.port = default_port;
  if (text.starts_with('[')) {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close == 1) {
      return std::nullopt;
    }
    out.host = std::string(text.substr(1, close - 1));
    const std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (!rest.starts_with(':')) {
        return std::nullopt;
      }
      const auto port = parse_port(rest.substr(1));
      if (!port) {
        return std::nullopt;
      }
      out.port = *port;
    }
    return out;
  }
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    if (text.empty()) {
      return std::nullopt;
    }
    out.host = std::string(text);
    return out;
  }
  const std::string_view host = text.substr(0, colon);
  const auto port = parse_port(text.substr(colon + 1));
  if (host.empty() || host.ends_with(':') || !port) {
    return std::nullopt;
  }
  out.host = std::string(host);
  out.port = *port;
  return out;
}

std::string versioned_relay_name(std::string_view domain, std::string_view version) {
  std::string digits;
  std::size_t dots = 0;
  for (char c : version) {
    if (c == '.' && ++dots == 3) {
      break;
    }
    if (c >= '0' && c <= '9') {
      digits += c;
    }
  }
  return "fe4_" + digits + "." + std::string(domain);
}

}  // namespace kiteline::config
