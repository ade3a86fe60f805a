// relay visitor_limit (pure): pagekite.py's --ratelimit_ips: at most N distinct visitors per
// SECS seconds on one tunnel's kite; a visitor is the SHA-1 of its address, User-Agent and
// Accept-Language. The rules of the command line, the choice of the strictest limit, the
// visitor key, and the window itself (time is passed in; memory is bounded by N).
#pragma once

#include "wire/sha1.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace kiteline::relay {

/// N distinct visitors per `seconds` (pagekite.py's ip_limits). n == 0: no limit.
struct ip_limit {
  std::uint32_t n = 0;
  std::uint32_t seconds = 1;
  friend bool operator==(const ip_limit&, const ip_limit&) = default;
};

/// The stricter of two limits: the lower rate n/seconds (pagekite.py UpdateIP_Limits); a
/// missing or zero limit loses to any other.
[[nodiscard]] std::optional<ip_limit> strictest(std::optional<ip_limit> a,
                                                std::optional<ip_limit> b) noexcept;

/// Parses "N/SECS" (N >= 1, SECS >= 1, each at most 10^9). nullopt when malformed.
[[nodiscard]] std::optional<ip_limit> parse_ip_limit(std::string_view text) noexcept;

/// One --ratelimit_ips rule: `kite` ("*" for the default) and its limit.
struct ip_limit_rule {
  std::string kite;  ///< lower-cased domain, or "*"
  ip_limit limit;
};

/// The limit the rules give `domain` (pagekite.py GetDefaultIPsPerSecond): the rule of the
/// domain itself or of its nearest parent with at least two labels ("a.b.example.com", then
/// "b.example.com", then "example.com"); else the "*" rule; else none. The last rule given for
/// a name wins, as in pagekite.py's dictionary.
[[nodiscard]] std::optional<ip_limit> limit_for_kite(const std::vector<ip_limit_rule>& rules,
                                                     std::string_view domain);

using visitor_key = wire::sha1::digest_type;

/// SHA-1 of "ADDRESS[/USER-AGENT...][/ACCEPT-LANGUAGE...]" (pagekite.py RejectRemoteIP joins
/// the address and every value of the two headers with '/'). `head`: an HTTP request head
/// (field lines after the request line, up to the blank line), or "" for non-HTTP visitors.
[[nodiscard]] visitor_key make_visitor_key(std::string_view address, std::string_view head);

/// One window of distinct visitors (pagekite.py's `seen` dictionary): a visitor seen within the
/// last `seconds` is let in again (and its time refreshed); a new one is let in while fewer than
/// `n` visitors were seen within the window. Holds at most `n` visitors. Not thread-safe.
class visitor_window {
 public:
  explicit visitor_window(ip_limit limit) : limit_(limit) {}
  /// A new limit (an authority's or a rule's): the visitors seen so far stay.
  void set_limit(ip_limit limit) noexcept { limit_ = limit; }
  [[nodiscard]] ip_limit limit() const noexcept { return limit_; }
  /// True when the visitor `key` may pass at `now_s` (seconds on any monotonic clock).
  [[nodiscard]] bool admit(const visitor_key& key, std::uint64_t now_s);
  [[nodiscard]] std::size_t size() const noexcept { return seen_.size(); }

 private:
  struct key_hash {
    std::size_t operator()(const visitor_key& k) const noexcept;
  };
  ip_limit limit_;
  std::unordered_map<visitor_key, std::uint64_t, key_hash> seen_;
};

}  // namespace kiteline::relay
