// DNS-delegated kite authentication, the pure half (spec 8.2, 4.4): which --authdomain rule a
// kite uses, the name the relay asks about, how the authority's answer (addresses and canonical
// name) reads as a grant or a refusal, and the handshake's limit fields of a round. PURE: no
// Asio, c-ares or clock (relay/authority does the lookups).
#pragma once

#include "config/relay_config.hpp"
#include "relay/visitor_limit.hpp"
#include "wire/handshake.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace kiteline::relay {

/// The authority's word on one kite.
struct auth_grant {
  enum class kind : std::uint8_t {
    granted,  ///< accepted, with the limits below
    refused,  ///< the authority said no (`reason` is the X-PageKite-Invalid-Why reason)
    failed,   ///< no usable answer (lookup error, timeout, queue full, malformed answer)
  };
  kind outcome = kind::failed;
  std::string reason;                  ///< refused: "unauthorized", "quota", or the CNAME's label
  std::string detail;                  ///< for the log: what was answered, or what went wrong
  std::optional<std::int64_t> quota_kb;  ///< granted: the transfer quota (> 0)
  std::optional<std::int64_t> qdays;     ///< from CNAME extras (non-zero)
  std::optional<std::int64_t> qconns;    ///< from CNAME extras (non-zero)
  std::optional<ip_limit> ips_per_sec;   ///< from CNAME extras: IPs per seconds (both > 0)

  friend bool operator==(const auth_grant&, const auth_grant&) = default;
};

/// A tunnel's limits from its authority (relay/tunnel_acceptor keeps one per tunnel). The
/// quota is counted in visitor bytes, both directions, since the last answer (documented in
/// docs/operations.md: pagekite.py only relays the authority's figure).
struct tunnel_limits {
  std::optional<std::int64_t> quota_kb;  ///< remaining at the last answer; nullopt = no quota
  std::uint64_t counted_from = 0;        ///< visitor bytes at the last answer
  std::optional<std::int64_t> qconns;    ///< streams at once (enforced by the visitor path)
  std::optional<std::int64_t> qdays;     ///< days left (shown only)
  std::optional<ip_limit> ips_per_sec;   ///< the authority's visitor limit (access_control)
  std::vector<wire::kite_request> auth_kites;  ///< kite lines the authority granted (re-checks)

  /// May one more stream open on the tunnel with `open` streams (QConns)?
  [[nodiscard]] bool admits_stream(std::size_t open) const noexcept {
    return !qconns || *qconns <= 0 || static_cast<std::int64_t>(open) < *qconns;
  }
  /// The quota left (kB, never below 0) once `visitor_bytes` (a running total) were relayed.
  [[nodiscard]] std::optional<std::int64_t> quota_left_kb(std::uint64_t visitor_bytes) const noexcept {
    if (!quota_kb) {
      return std::nullopt;
    }
    const auto used_kb = static_cast<std::int64_t>((visitor_bytes - counted_from) / 1024);
    return used_kb >= *quota_kb ? 0 : *quota_kb - used_kb;
  }
};

/// The suffix of the --authdomain rule for `domain` (lower case): the rule with the longest
/// KITEDOMAIN that `domain` ends with ("." + KITEDOMAIN), else the default rule (no KITEDOMAIN);
/// nullopt when neither exists. The view points into `rules`.
[[nodiscard]] std::optional<std::string_view> pick_auth_suffix(
    std::span<const config::authdomain_rule> rules, std::string_view domain) noexcept;

/// BSALT.FSALT.SIGNATURE.PROTO[-PORT].DOMAIN.SUFFIX. with each `*` of DOMAIN as `_any_`.
[[nodiscard]] std::string auth_query_name(const wire::kite_request& k, std::string_view suffix);

/// Decodes the authority's answer as pagekite.py does (spec 8.2), failing closed where it would
/// fail open: `first_a` is the first A record, `canonical` the name the answer ended at (after
/// CNAMEs) and `via_cname` whether a CNAME was followed (then `canonical` must be
/// ERR[-IPC-SECS].X.DAYS.CONNS.REST, DAYS/CONNS/IPC/SECS hex, else the answer is `failed`).
/// 255.255.255.0 ("user unknown", accepted by pagekite.py) is refused "unauthorized";
/// 255.255.255.1 is refused with the CNAME's label or "unauthorized"; other 255.255.255.x with
/// the label or "quota"; 0.0.0.0 is refused "quota"; any other address grants quota a.b.c.d kB.
[[nodiscard]] auth_grant decode_auth_answer(std::array<std::uint8_t, 4> first_a,
                                            std::string_view canonical, bool via_cname);

/// Adds a round's limit fields to `resp` from the grants of its accepted kites, as pagekite.py:
/// the smallest non-zero QConns and QDays, the strictest IPsPerSec (relay/visitor_limit's
/// strictest(): fewest IPs per second, the first of equals), the smallest positive Quota.
/// Absent fields stay absent. Returns the IPsPerSec chosen, for the tunnel's own limit.
std::optional<ip_limit> add_round_limits(wire::handshake_response& resp,
                                         std::span<const auth_grant> accepted);

}  // namespace kiteline::relay
