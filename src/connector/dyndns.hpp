// connector dyndns (pure): pagekite.py's --dyndns updates (spec §9.6; pk.py CreateTunnels):
// which update each kite needs from the relays holding its tunnel now, the URL template's
// expansion, the request, the reply check and the back-off. connector/dyndns_updater does the
// I/O.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kiteline::connector {

/// The values of one update's template variables (%(user)s and %(pass)s come from the setting).
struct dyndns_values {
  std::string domain;  ///< %(domain)s
  std::string ips;     ///< %(ips)s: comma-separated; %(ip)s is the first
  std::string sign;    ///< %(sign)s: SALT8 || SHA1HEX(secret || domain:ips || SALT8), 48 chars
  std::string user;    ///< %(user)s
  std::string pass;    ///< %(pass)s
};

/// RFC 3986 percent-encoding of every byte but the unreserved ones (ALPHA DIGIT - . _ ~).
[[nodiscard]] std::string dyndns_percent_encode(std::string_view text);
/// Undoes %XX escapes (a '%' not followed by two hex digits stays as it is).
[[nodiscard]] std::string dyndns_percent_decode(std::string_view text);

/// Expands a template (config::dyndns_template_error accepted it): %% becomes %, %(NAME)s its
/// value. pagekite.py substitutes the values as they are; so does this, except %(user)s and
/// %(pass)s, which are percent-encoded so that a credential with '@', ':' or '/' still leaves
/// a URL whose userinfo decodes back to it. An unknown %(NAME)s expands to nothing.
[[nodiscard]] std::string dyndns_expand(std::string_view url_template, const dyndns_values& v);

/// One kite of the connector as the updates see it.
struct dyndns_kite {
  std::string id;  ///< "proto[-port]:domain", service::id()
  std::string domain;
  std::string secret;
};

/// One relay with a live tunnel.
struct dyndns_relay {
  std::string ip;                  ///< the address the connector is connected to ("" = none)
  bool preferred = true;           ///< false: retiring or draining
  std::vector<std::string> kites;  ///< ids of the kites live on it
};

/// One update to make: payload = domain ":" ips, the signed text and the state's key.
struct dyndns_update {
  std::string domain;
  std::string ips;
  std::string secret;
  [[nodiscard]] std::string payload() const { return domain + ":" + ips; }
  friend bool operator==(const dyndns_update&, const dyndns_update&) = default;
};

/// pagekite.py's plan: for every domain (in the order of `kites`; the first kite's secret),
/// the IPs of the relays holding a tunnel for one of its kites, per kite the preferred relays
/// if any hold it, else all, the union in relay order without repeats. Domains no relay holds
/// get no update.
[[nodiscard]] std::vector<dyndns_update> dyndns_plan(const std::vector<dyndns_kite>& kites,
                                                     const std::vector<dyndns_relay>& relays);

/// 56 s × 2^min(5, failures) (pk.py: postponed after the n-th failed round in a row).
[[nodiscard]] std::chrono::milliseconds dyndns_backoff(unsigned failures,
                                                       std::chrono::milliseconds base);

/// What was sent and when the next round may run. Single-threaded.
class dyndns_state {
 public:
  using clock = std::chrono::steady_clock;
  explicit dyndns_state(std::chrono::milliseconds backoff_base = std::chrono::seconds(56))
      : base_(backoff_base) {}

  /// The updates of `plan` to send now: none while backing off; else those whose payload has
  /// not succeeded yet (succeeded payloads no longer planned are forgotten).
  [[nodiscard]] std::vector<dyndns_update> due(const std::vector<dyndns_update>& plan,
                                               clock::time_point now);
  void succeeded(const dyndns_update& u);
  /// A round ended; `failed`: some update failed (back off), else the back-off resets.
  void round_done(bool failed, clock::time_point now);
  /// When the state backs off: the time the next round may run.
  [[nodiscard]] std::optional<clock::time_point> retry_at() const;
  [[nodiscard]] unsigned failures() const noexcept { return failures_; }

 private:
  std::chrono::milliseconds base_;
  std::vector<std::string> sent_;  ///< payloads that succeeded
  unsigned failures_ = 0;
  clock::time_point retry_at_{};
};

/// An update URL split for the request.
struct dyndns_url {
  bool https = false;
  std::string host;  ///< without brackets
  std::uint16_t port = 80;
  std::string target;  ///< path and query, "/" at least
  std::string user;    ///< percent-decoded userinfo; Basic auth when non-empty
  std::string pass;
  std::string host_header;  ///< host[:port] as in the URL
};
/// Splits an expanded http:// or https:// URL; nullopt when it is not one (bad port, no host,
/// control bytes or spaces).
[[nodiscard]] std::optional<dyndns_url> parse_dyndns_url(std::string_view url);
/// The HTTP/1.0 GET request for it (Connection: close; Authorization: Basic when a user is set).
[[nodiscard]] std::string format_dyndns_request(const dyndns_url& url);

/// The update service's reply, read until the service closes (or `dyndns_reply_limit` bytes).
struct dyndns_reply {
  bool complete = false;  ///< the head was read and the body is whole (or the bytes ended)
  int status = 0;         ///< HTTP status code, 0 when the status line is bad
  std::string body;
  std::string error;  ///< why the bytes are not a usable reply ("" = none)
};
inline constexpr std::size_t dyndns_reply_limit = 16 * 1024;
/// Reads a reply from the bytes received so far; `eof`: the service closed. Incomplete (and
/// no error) while more bytes may complete it. A body is delimited by Content-Length or by
/// the end of the bytes; Transfer-Encoding is refused (the request is HTTP/1.0).
[[nodiscard]] dyndns_reply parse_dyndns_reply(std::string_view bytes, bool eof);
/// Success as pagekite.py sees it: a 2xx reply whose body starts with "good" or "nochg".
[[nodiscard]] bool dyndns_reply_ok(const dyndns_reply& r) noexcept;
/// The reply for the log: "HTTP <status>: <first body line>" with control bytes and bytes
/// >= 0x80 shown as '?', at most 200 characters of body; or the error.
[[nodiscard]] std::string dyndns_reply_summary(const dyndns_reply& r);

}  // namespace kiteline::connector
