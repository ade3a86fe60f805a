// External auth apps (--authdomain=/path/app, spec 8.3), the pure half: the app's capability
// words, the request it gets, the reader that collects its output, and the decoding of its
// JSON answers into the same auth_grant as a DNS authority's (relay/auth_answer). PURE: no
// Asio, processes or clock (relay/auth_app runs the app).
#pragma once

#include "relay/auth_answer.hpp"
#include "wire/handshake.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kiteline::relay {

/// True when an --authdomain value names an auth app rather than a DNS suffix (it holds a
/// `/`, as pagekite.py decides).
[[nodiscard]] bool is_auth_app(std::string_view suffix) noexcept;

/// What `APP --capabilities` printed: whitespace-separated words, any case. Unknown words are
/// ignored.
struct auth_app_caps {
  bool server = false;   ///< SERVER: keep one `APP --server` running, one request per line
  bool auth = false;     ///< AUTH: `--auth DOMAIN` answers the kite's secret and quotas
  bool zk_auth = false;  ///< ZK-AUTH: `--zk-auth QNAME` answers like a DNS authority

  friend bool operator==(const auth_app_caps&, const auth_app_caps&) = default;
};
[[nodiscard]] auth_app_caps parse_auth_app_caps(std::string_view out) noexcept;

/// How the relay asks an app about a kite. ZK-AUTH wins when the app offers both (pagekite.py).
enum class auth_app_mode : std::uint8_t { auth, zk_auth };

/// The two command-line words of one request: {"--auth", DOMAIN} (the kite's name with each
/// `*` as `_any_`, as pagekite.py passes it) or {"--zk-auth", QNAME} (auth_query_name with the
/// app's path as the suffix, byte for byte pagekite.py's name).
struct auth_app_request {
  std::string flag;  ///< "--auth" or "--zk-auth"
  std::string arg;
};
[[nodiscard]] auth_app_request make_auth_app_request(auth_app_mode mode, const wire::kite_request& k,
                                                     std::string_view app);
/// A SERVER app's request line: flag, one space, argument, "\n" (what pagekite.py writes).
[[nodiscard]] std::string auth_app_request_line(const auth_app_request& r);

/// Collects what an app writes on its stdout, fed in pieces as they are read. A SERVER app's
/// answer is its next line (blank lines are skipped; "\r\n" and "\n" both end a line); a
/// one-shot app's is everything up to its exit. More than `limit` bytes held is an error
/// (the answer is not taken and the app is treated as broken).
class auth_app_output {
 public:
  explicit auth_app_output(std::size_t limit = 64 * 1024) : limit_(limit) {}

  /// Adds bytes read from the app. False (and nothing kept) once more than `limit` bytes
  /// are held.
  bool feed(std::string_view bytes);
  /// The next complete, non-blank line without its line end, removed from what is held; nullopt
  /// while no complete one has arrived.
  [[nodiscard]] std::optional<std::string> take_line();
  /// Everything held (a one-shot app's whole output, once it has exited).
  [[nodiscard]] std::string_view all() const noexcept { return held_; }
  /// True when what is held holds something but blanks (a SERVER app said more than asked).
  [[nodiscard]] bool holds_text() const noexcept;
  /// True once feed() refused bytes.
  [[nodiscard]] bool overflowed() const noexcept { return overflowed_; }
  void clear() noexcept {
    held_.clear();
    overflowed_ = false;
  }

 private:
  std::size_t limit_;
  std::string held_;
  bool overflowed_ = false;
};

/// An --auth answer: a JSON object with `secret` (required unless it refuses), optional
/// `quota_kb` (0 or null: no quota left; negative: no quota), `quota_days`, `quota_conns`,
/// `ips_per_sec-ips` with `ips_per_sec-secs`, and `reason` (or pagekite.py's older `error`).
/// `grant` is what the app said before the signature is checked: granted with the limits,
/// refused (a non-empty reason refuses, whatever else the answer holds; quota 0 is "quota"),
/// or failed (not JSON, not an object, a field of the wrong type, no secret). A reason that is
/// not one word of [A-Za-z0-9._-] (at most 64) is refused as "unauthorized": it would be
/// written into the handshake's X-PageKite-Invalid-Why.
struct auth_app_answer {
  std::string secret;  ///< "" when the app gave none
  auth_grant grant;
};
[[nodiscard]] auth_app_answer decode_auth_app_answer(std::string_view json);

/// The kite's grant from an --auth answer: the relay checks the kite's signature with the
/// app's secret itself (wire::verify_kite_signature, as for a --domain secret); a signature
/// that does not verify is refused "signature" (as pagekite.py) before any reason or quota
/// is told. Without a secret: the app's refusal, else failed.
[[nodiscard]] auth_grant judge_auth_app_answer(const auth_app_answer& a,
                                               const wire::kite_request& k);

/// A --zk-auth answer: {"hostname": NAME, "alias": ALIAS, "ips": ["a.b.c.d", ...]}, read as the
/// DNS answer it stands for (decode_auth_answer): the first of `ips` is the A record; a
/// non-empty `alias` (a string or a list) means a CNAME was followed, and then `hostname` is
/// the canonical name carrying ERR[-IPC-SECS].X.DAYS.CONNS. Anything else is failed.
[[nodiscard]] auth_grant decode_zk_auth_app_answer(std::string_view json);

}  // namespace kiteline::relay
