#include "relay/visitor_limit.hpp"

#include "core/text.hpp"
#include "http/head.hpp"

#include <cstring>

namespace kiteline::relay {

std::optional<ip_limit> strictest(std::optional<ip_limit> a, std::optional<ip_limit> b) noexcept {
  if (!a || a->n == 0) {
    return (b && b->n != 0) ? b : std::nullopt;
  }
  if (!b || b->n == 0) {
    return a;
  }
  // a.n / a.seconds < b.n / b.seconds, without division.
  const auto lhs = static_cast<std::uint64_t>(a->n) * b->seconds;
  const auto rhs = static_cast<std::uint64_t>(b->n) * a->seconds;
  return lhs <= rhs ? a : b;
}

std::optional<ip_limit> parse_ip_limit(std::string_view text) noexcept {
  const auto slash = text.find('/');
  if (slash == std::string_view::npos) {
    return std::nullopt;
  }
  const auto n = parse_decimal<std::uint32_t>(trim_ows(text.substr(0, slash)), 1000000000U);
  const auto s = parse_decimal<std::uint32_t>(trim_ows(text.substr(slash + 1)), 1000000000U);
  if (!n || !s || *n == 0 || *s == 0) {
    return std::nullopt;
  }
  return ip_limit{*n, *s};
}

std::optional<ip_limit> limit_for_kite(const std::vector<ip_limit_rule>& rules,
                                       std::string_view domain) {
  auto find = [&](std::string_view name) -> std::optional<ip_limit> {
    std::optional<ip_limit> out;
    for (const auto& r : rules) {
      if (r.kite == name) {
        out = r.limit;
      }
    }
    return out;
  };
  std::string_view d = domain;
  while (d.find('.') != std::string_view::npos) {
    if (auto l = find(d)) {
      return l;
    }
    d = d.substr(d.find('.') + 1);
  }
  return find("*");
}

visitor_key make_visitor_key(std::string_view address, std::string_view head) {
  std::vector<std::string_view> agents;
  std::vector<std::string_view> languages;
  std::size_t pos = head.find('\n');  // skip the request line
  while (pos != std::string_view::npos && pos + 1 < head.size()) {
    const std::size_t next = head.find('\n', pos + 1);
    std::string_view line = head.substr(
        pos + 1, next == std::string_view::npos ? std::string_view::npos : next - pos - 1);
    pos = next;
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    if (line.empty()) {
      break;
    }
    const http::field_line fl = http::parse_field_line(line);
    if (fl.error != http::field_error::none) {
      continue;
    }
    if (ascii_iequals(fl.f.name, "User-Agent")) {
      agents.push_back(fl.f.value);
    } else if (ascii_iequals(fl.f.name, "Accept-Language")) {
      languages.push_back(fl.f.value);
    }
  }
  wire::sha1 h;
  h.update(address);
  for (const auto* list : {&agents, &languages}) {
    for (auto v : *list) {
      h.update("/");
      h.update(v);
    }
  }
  return h.digest();
}

std::size_t visitor_window::key_hash::operator()(const visitor_key& k) const noexcept {
  std::size_t v = 0;
  std::memcpy(&v, k.data(), sizeof v);  // a SHA-1 digest: any bytes of it are well mixed
  return v;
}

bool visitor_window::admit(const visitor_key& key, std::uint64_t now_s) {
  if (limit_.n == 0) {
    return true;
  }
  if (auto it = seen_.find(key); it != seen_.end()) {
    it->second = now_s;
    return true;
  }
  // Forget the visitors last seen before the window (pagekite.py: seen < now - delta).
  for (auto it = seen_.begin(); it != seen_.end();) {
    if (it->second + limit_.seconds < now_s) {
      it = seen_.erase(it);
    } else {
      ++it;
    }
  }
  if (seen_.size() >= limit_.n) {
    return false;
  }
  seen_.emplace(key, now_s);
  return true;
}

}  // namespace kiteline::relay
