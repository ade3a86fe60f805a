#include "connector/service_map.hpp"

#include <algorithm>
#include <array>

#include "wire/head.hpp"

namespace kiteline::connector {
namespace {

bool matches(const config::service& s, std::string_view proto, std::optional<std::uint32_t> port,
             std::string_view name) {
  if (!s.enabled || !ascii_iequals(s.proto, proto) || !ascii_iequals(s.kite_name, name)) {
    return false;
  }
  if (port) {
    return s.public_port && *s.public_port == *port;
  }
  return !s.public_port;
}

// "c[-port]:name" exact, then wildcard parents "*.b.c", "*.c".
const config::service* lookup(std::span<const config::service> services, std::string_view proto,
                              std::optional<std::uint32_t> port, std::string_view host) {
  for (const auto& s : services) {
    if (matches(s, proto, port, host)) {
      return &s;
    }
  }
  std::string_view rest = host;
  for (auto dot = rest.find('.'); dot != std::string_view::npos; dot = rest.find('.')) {
    rest = rest.substr(dot + 1);
    if (rest.empty()) {
      break;
    }
    const std::string wildcard = "*." + std::string(rest);
    for (const auto& s : services) {
      if (matches(s, proto, port, wildcard)) {
        return &s;
      }
    }
  }
  return nullptr;
}

bool is_ipv4(std::string_view s) noexcept {
  int dots = 0;
  int digits = 0;
  for (char c : s) {
    if (c == '.') {
      if (digits == 0) {
        return false;
      }
      ++dots;
      digits = 0;
    } else if (c >= '0' && c <= '9') {
      if (++digits > 3) {
        return false;
      }
    } else {
      return false;
    }
  }
  return dots == 3 && digits > 0;
}

bool is_ipv6(std::string_view s) noexcept {
  if (s.find(':') == std::string_view::npos) {
    return false;
  }
  for (char c : s) {
    const bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if (!hex && c != ':' && c != '.') {
      return false;
    }
  }
  return s.size() <= 45;
}

std::string_view strip_mapped(std::string_view rip) noexcept {
  constexpr std::string_view mapped = "::ffff:";
  if (ascii_istarts_with(rip, mapped) && is_ipv4(rip.substr(mapped.size()))) {
    return rip.substr(mapped.size());
  }
  return rip;
}

}  // namespace

bool is_http_proto(std::string_view proto) noexcept {
  return proto == "http" || proto == "http2" || proto == "http3" || proto == "websocket";
}

const config::service* choose_service(std::span<const config::service> services,
                                      std::string_view proto, std::string_view host,
                                      std::optional<std::uint32_t> port) {
  std::vector<std::string_view> candidates;
  if (proto == "http" || ascii_istarts_with(proto, "probe")) {
    candidates = {"http", "http2", "http3"};
  } else if (proto == "websocket") {
    candidates = {"websocket", "http", "http2", "http3"};
  } else {
    candidates = {proto};
  }
  for (auto c : candidates) {
    if (port) {
      if (const auto* s = lookup(services, c, port, host)) {
        return s;
      }
    }
    if (const auto* s = lookup(services, c, std::nullopt, host)) {
      return s;
    }
    if (const auto* s = lookup(services, c, std::nullopt, "unknown")) {
      return s;
    }
  }
  return nullptr;
}

bool ip_allowed(std::span<const std::string> allow, std::string_view rip) noexcept {
  if (allow.empty()) {
    return true;
  }
  const std::string_view ip = strip_mapped(rip);
  for (const auto& a : allow) {
    if (ascii_iequals(a, ip)) {
      return true;
    }
    // Three octets: a /24 prefix.
    if (!a.empty() && ip.size() > a.size() && ascii_istarts_with(ip, a) && ip[a.size()] == '.' &&
        std::count(a.begin(), a.end(), '.') == 2) {
      return true;
    }
  }
  return false;
}

std::string proxy_v1_line(std::string_view rip, std::uint32_t rport, std::uint32_t port) {
  const std::string_view ip = strip_mapped(rip);
  std::string out;
  if (is_ipv4(ip)) {
    out = "PROXY TCP4 " + std::string(ip) + " 0.0.0.0 ";
  } else if (is_ipv6(ip)) {
    out = "PROXY TCP6 " + std::string(ip) + " :: ";
  } else {
    return {};
  }
  out += std::to_string(rport) + " " + std::to_string(port) + "\r\n";
  return out;
}

}  // namespace kiteline::connector
