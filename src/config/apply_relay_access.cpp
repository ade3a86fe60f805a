// The relay's access options: --client_acl, --tunnel_acl, --accept_acl_file, --ratelimit_ips and
// --overload, --overload_file, --overload_cpu, --overload_mem (pagekite.py's semantics; see
// docs/operations.md "Access control, rate limits and overload").
#include "config/apply_option.hpp"
#include "config/values.hpp"
#include "core/address_pattern.hpp"
#include "core/text.hpp"

#include <algorithm>
#include <charconv>
#include <fstream>

namespace kiteline::config {
namespace {

std::optional<double> parse_fraction(std::string_view v) {
  double d = 0;
  const auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), d);
  if (ec != std::errc{} || p != v.data() + v.size() || !(d >= 0) || d > 1e6) {
    return std::nullopt;
  }
  return d;
}

void apply_acl(std::vector<acl_rule_config>& rules, const raw_option& o, const std::string& v,
               const apply_context& ctx) {
  const auto colon = v.find(':');
  const std::string policy = to_lower(v.substr(0, colon));
  if (colon == std::string::npos || (policy != "allow" && policy != "deny")) {
    ctx.error(o, "expected allow:REGEX or deny:REGEX (REGEX may be `localhost` or `any`)");
    return;
  }
  const std::string pattern = v.substr(colon + 1);
  std::string why;
  if (pattern != "localhost" && pattern != "any" && !address_pattern::compile(pattern, why)) {
    ctx.error(o, "`" + pattern + "`: " + why);
    return;
  }
  rules.push_back(acl_rule_config{policy == "allow", pattern, o.origin});
}

}  // namespace

bool apply_relay_access(relay_config& cfg, const raw_option& o, const apply_context& ctx) {
  const std::string& n = o.name;
  const std::string v = value_of(o);
  relay_access_config& a = cfg.access;
  if (n == "client_acl") {
    apply_acl(a.client_acl, o, v, ctx);
  } else if (n == "tunnel_acl") {
    apply_acl(a.tunnel_acl, o, v, ctx);
  } else if (n == "accept_acl_file") {
    std::ifstream in(v);
    if (v.empty() || !in) {
      ctx.error(o, "cannot read `" + v + "`");
    } else {
      a.accept_acl_file = v;
    }
  } else if (n == "ratelimit_ips") {
    const auto parts = split(v, ':');
    const auto limit = split(parts.back(), '/');
    const auto count = limit.size() == 2
                           ? parse_decimal<std::uint32_t>(trim_ows(limit[0]), 1000000000U)
                           : std::nullopt;
    const auto secs = limit.size() == 2
                          ? parse_decimal<std::uint32_t>(trim_ows(limit[1]), 1000000000U)
                          : std::nullopt;
    if (parts.size() > 2 || !count || !secs || *count == 0 || *secs == 0 ||
        (parts.size() == 2 && trim_ows(parts[0]).empty())) {
      ctx.error(o, "expected [KITE:]N/SECONDS (N and SECONDS at least 1)");
    } else {
      const std::string kite = parts.size() == 2 ? to_lower(trim_ows(parts[0])) : "*";
      a.ratelimit_ips.push_back(ratelimit_config{kite, *count, *secs});
    }
  } else if (n == "overload") {
    const auto base = parse_decimal<std::uint64_t>(v, 1000000000ULL);
    if (!base) {
      ctx.error(o, "expected a number of connections (0 = off)");
    } else {
      a.overload = *base;
    }
  } else if (n == "overload_file") {
    if (v.empty()) {
      ctx.error(o, "needs a file name");
    } else {
      a.overload_file = v;
    }
  } else if (n == "overload_cpu" || n == "overload_mem") {
    const auto f = parse_fraction(v);
    if (!f) {
      ctx.error(o, "expected a number, 0 or more (0 = not used)");
    } else if (n == "overload_cpu") {
      a.overload_cpu = *f;
    } else {
      a.overload_mem = std::min(*f, 1.5);  // pagekite.py clamps it to 0..1.5
    }
  } else {
    return false;
  }
  return true;
}

}  // namespace kiteline::config
