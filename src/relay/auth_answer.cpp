#include "relay/auth_answer.hpp"

#include "core/text.hpp"

#include <algorithm>
#include <vector>

namespace kiteline::relay {
namespace {

/// 1-15 hex digits (pagekite.py's int(x, 16), bounded to fit an int64).
std::optional<std::int64_t> parse_hex(std::string_view s) noexcept {
  if (s.empty() || s.size() > 15) {
    return std::nullopt;
  }
  std::int64_t v = 0;
  for (char c : s) {
    int d = 0;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      d = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      d = c - 'A' + 10;
    } else {
      return std::nullopt;
    }
    v = v * 16 + d;
  }
  return v;
}

std::vector<std::string_view> split_view(std::string_view s, char sep, std::size_t max_parts) {
  std::vector<std::string_view> out;
  while (out.size() + 1 < max_parts) {
    const auto p = s.find(sep);
    if (p == std::string_view::npos) {
      break;
    }
    out.push_back(s.substr(0, p));
    s.remove_prefix(p + 1);
  }
  out.push_back(s);
  return out;
}

std::optional<std::int64_t> non_zero(std::int64_t v) {
  return v != 0 ? std::optional<std::int64_t>(v) : std::nullopt;
}

}  // namespace

std::optional<std::string_view> pick_auth_suffix(std::span<const config::authdomain_rule> rules,
                                                 std::string_view domain) noexcept {
  const config::authdomain_rule* best = nullptr;
  const config::authdomain_rule* fallback = nullptr;
  for (const auto& r : rules) {
    if (r.kite_domain.empty()) {
      fallback = fallback != nullptr ? fallback : &r;
      continue;
    }
    const std::string_view kd = r.kite_domain;
    const bool covers = domain.size() > kd.size() && domain.ends_with(kd) &&
                        domain[domain.size() - kd.size() - 1] == '.';
    if (covers && (best == nullptr || kd.size() > best->kite_domain.size())) {
      best = &r;
    }
  }
  if (best == nullptr) {
    best = fallback;
  }
  if (best == nullptr) {
    return std::nullopt;
  }
  return std::string_view(best->suffix);
}

std::string auth_query_name(const wire::kite_request& k, std::string_view suffix) {
  std::string domain;
  domain.reserve(k.domain.size() + 8);
  for (char c : k.domain) {
    if (c == '*') {
      domain += "_any_";
    } else {
      domain += c;
    }
  }
  std::string q = k.bsalt + "." + k.fsalt + "." + k.signature + "." + k.proto + "." + domain +
                  "." + std::string(suffix);
  if (!q.ends_with('.')) {
    q += '.';
  }
  return q;
}

auth_grant decode_auth_answer(std::array<std::uint8_t, 4> first_a, std::string_view canonical,
                              bool via_cname) {
  auth_grant g;
  const std::string addr = std::to_string(first_a[0]) + "." + std::to_string(first_a[1]) + "." +
                           std::to_string(first_a[2]) + "." + std::to_string(first_a[3]);
  std::string error;
  if (via_cname) {
    const auto labels = split_view(canonical, '.', 5);
    if (labels.size() < 5) {
      g.outcome = auth_grant::kind::failed;
      g.detail = "CNAME " + std::string(canonical) + " has fewer than 5 labels";
      return g;
    }
    const auto days = parse_hex(labels[2]);
    const auto conns = parse_hex(labels[3]);
    if (!days || !conns) {
      g.outcome = auth_grant::kind::failed;
      g.detail = "CNAME " + std::string(canonical) + ": DAYS and CONNS must be hex";
      return g;
    }
    g.qdays = non_zero(*days);
    g.qconns = non_zero(*conns);
    const auto err_parts = split_view(labels[0], '-', 4);
    error = std::string(err_parts[0]);
    if (err_parts.size() >= 3) {
      // Ignored when not hex, as pagekite.py does (it keeps the label's first part).
      const auto ipc = parse_hex(err_parts[1]);
      const auto secs = parse_hex(err_parts[2]);
      if (ipc && secs && *ipc > 0 && *secs > 0 && *ipc <= 0xffffffff && *secs <= 0xffffffff) {
        g.ips_per_sec = ip_limit{static_cast<std::uint32_t>(*ipc),
                                 static_cast<std::uint32_t>(*secs)};
      }
    }
  }
  if (first_a[0] == 255 && first_a[1] == 255 && first_a[2] == 255) {
    g.outcome = auth_grant::kind::refused;
    if (first_a[3] == 0) {
      // pagekite.py returns quota -1 here, which it treats as accepted: refuse instead.
      g.reason = "unauthorized";
      g.detail = "authority answered " + addr + " (user unknown)";
      return g;
    }
    if (!error.empty()) {
      g.reason = error;
    } else {
      g.reason = first_a[3] == 1 ? "unauthorized" : "quota";
    }
    g.detail = "authority answered " + addr + (error.empty() ? "" : " (" + error + ")");
    return g;
  }
  const std::int64_t quota = (static_cast<std::int64_t>(first_a[0]) << 24) |
                             (static_cast<std::int64_t>(first_a[1]) << 16) |
                             (static_cast<std::int64_t>(first_a[2]) << 8) | first_a[3];
  if (quota == 0) {
    g.outcome = auth_grant::kind::refused;
    g.reason = "quota";
    g.detail = "authority answered 0.0.0.0 (no quota left)";
    return g;
  }
  g.outcome = auth_grant::kind::granted;
  g.quota_kb = quota;
  g.detail = "authority answered " + addr + " (quota " + std::to_string(quota) + " kB)";
  return g;
}

std::optional<ip_limit> add_round_limits(wire::handshake_response& resp,
                                         std::span<const auth_grant> accepted) {
  for (const auto& g : accepted) {
    if (g.qconns && *g.qconns != 0 && (!resp.qconns || *g.qconns < *resp.qconns)) {
      resp.qconns = g.qconns;
    }
    if (g.qdays && *g.qdays != 0 && (!resp.qdays || *g.qdays < *resp.qdays)) {
      resp.qdays = g.qdays;
    }
    if (g.quota_kb && *g.quota_kb > 0 && (!resp.quota || *g.quota_kb < *resp.quota)) {
      resp.quota = g.quota_kb;
    }
  }
  std::optional<ip_limit> chosen;
  for (const auto& g : accepted) {
    chosen = strictest(chosen, g.ips_per_sec);
  }
  if (chosen) {
    resp.ips_per_sec = std::to_string(chosen->n) + "/" + std::to_string(chosen->seconds);
  }
  return chosen;
}

}  // namespace kiteline::relay
