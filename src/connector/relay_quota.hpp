// connector::relay_quota (pure): the limits a relay's authority puts on this connector's tunnel,
// as the connector shows them (console, log): X-PageKite-Quota / QConns / QDays / IPsPerSec of
// each kite round (spec 4.4), and the Quota of the relay's later NOOP chunks (its re-checks,
// spec 5.9 and 8.4). Field names follow pagekite.py's auth-app JSON (quota_kb, quota_days,
// quota_conns) and its log (ips_per_sec).
#pragma once

#include "connector/handshake.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kiteline::connector {

/// True for a well-formed X-PageKite-IPsPerSec value: "IPS/SECONDS" (at most IPS distinct
/// visitors per SECONDS), decimal, each 1 to 2^32-1, nothing else (no sign, no blanks).
[[nodiscard]] bool valid_ips_per_sec(std::string_view value) noexcept;

/// What the relay told this tunnel. A field is absent until the relay sends it.
struct relay_quota {
  std::optional<std::int64_t> quota_kb;     ///< X-PageKite-Quota, then each Quota: chunk
  std::optional<std::int64_t> quota_conns;  ///< X-PageKite-QConns
  std::optional<std::int64_t> quota_days;   ///< X-PageKite-QDays
  std::string ips_per_sec;  ///< X-PageKite-IPsPerSec when valid_ips_per_sec(); "" = none

  [[nodiscard]] bool empty() const noexcept {
    return !quota_kb && !quota_conns && !quota_days && ips_per_sec.empty();
  }
  /// Takes the limit fields of a kite round; a field the round lacks keeps its value (as
  /// pagekite.py keeps its tunnel's). True when the round carried any of them.
  bool apply_round(const round_outcome& r);
  /// Takes a Quota: chunk's value. True when quota_kb changed.
  bool apply_chunk(std::int64_t quota_kb) noexcept;

  friend bool operator==(const relay_quota&, const relay_quota&) = default;
};

}  // namespace kiteline::connector
