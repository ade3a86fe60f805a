#include "connector/relay_quota.hpp"

#include "core/text.hpp"

namespace kiteline::connector {

bool valid_ips_per_sec(std::string_view value) noexcept {
  const auto slash = value.find('/');
  if (slash == std::string_view::npos) {
    return false;
  }
  const auto ips = parse_decimal<std::uint32_t>(value.substr(0, slash));
  const auto seconds = parse_decimal<std::uint32_t>(value.substr(slash + 1));
  return ips && seconds && *ips != 0 && *seconds != 0;
}

bool relay_quota::apply_round(const round_outcome& r) {
  bool any = false;
  auto take = [&any](std::optional<std::int64_t>& field, const std::optional<std::int64_t>& v) {
    if (v) {
      field = v;
      any = true;
    }
  };
  take(quota_kb, r.quota_kb);
  take(quota_conns, r.qconns);
  take(quota_days, r.qdays);
  if (!r.ips_per_sec.empty()) {
    any = true;
    if (valid_ips_per_sec(r.ips_per_sec)) {
      ips_per_sec = r.ips_per_sec;
    }
  }
  return any;
}

bool relay_quota::apply_chunk(std::int64_t kb) noexcept {
  const bool changed = quota_kb != kb;
  quota_kb = kb;
  return changed;
}

}  // namespace kiteline::connector
