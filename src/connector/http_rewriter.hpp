// Streaming HTTP/1.x request rewriter for one stream (visitor -> origin): header injection and
// the request firewall (§7.3) and +password checks (§7.2), following the request framing so that
// bodies are never touched.
#pragma once

#include "connector/http_firewall.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kiteline::connector {

/// What the connector knows about one HTTP stream (its chunk headers) and its kite's flags.
/// Designated-initializer friendly; new members are only ever appended.
struct rewrite_options {
  std::string rip;         ///< the stream's RIP chunk header, injected verbatim as X-Forwarded-For
  bool rtls = false;       ///< RTLS present: X-Forwarded-Proto: https (else http)
  std::uint32_t port = 0;  ///< the stream's Port chunk header, injected as X-PageKite-Port
  /// +rewritehost[=NAME]: the new Host value. The caller resolves "" (bare +rewritehost) to the
  /// origin's host:port before passing it. The original Host line becomes X-Old-Host.
  std::optional<std::string> rewrite_host;
  /// +password/USER=PASS pairs; empty = no authentication.
  std::vector<std::pair<std::string, std::string>> passwords;
  /// +rawheaders: add and rename nothing (the +password check, the firewall and the framing
  /// checks still apply).
  bool raw_headers = false;
  /// Shown in the error pages ("... for <b>kite_name</b> ..."), HTML-escaped. May be empty.
  std::string kite_name;
  /// X-PageKite-UUID of the error pages (pagekite.py style); omitted when empty.
  std::string uuid;
  /// Head cap: a request head (request line to blank line, inclusive), or a chunked body's
  /// trailer section, longer than this ends the stream with verdict `head_too_large`.
  std::size_t max_head = 64 * 1024;
  /// --insecure, +insecure, or the stream passed an +ip check: no request firewall. (A stream
  /// with +password is never firewalled either: its first request passes the check or is
  /// refused, as in pagekite.py, where a passed +ip/+password check marks the stream trusted.)
  bool insecure = false;
};

/// The outcome of feeding bytes. Every verdict but `pass` is final: send error_reply() to the
/// visitor and close the stream; nothing more is ever emitted for the origin.
enum class rewrite_verdict {
  pass,            ///< keep going: forward `out` to the origin
  unauthorized,    ///< +password check failed: 401 page
  blocked,         ///< the request firewall refused the request: pagekite.py's 500 page
  bad_request,     ///< a request head or body framing kiteline cannot parse: 400 page
  head_too_large,  ///< a request head or trailer section over max_head: 431 page
};

/// Rewrites the visitor->origin byte stream of ONE HTTP stream. Pure (no I/O, no logging, no
/// clock); not thread-safe; use from the stream's executor only.
///
/// Every request of the stream (pipelined and keep-alive requests included) goes through it:
/// - it buffers a request head until its blank line (at most `max_head` bytes), checks it, and
///   emits it with `X-Forwarded-For: RIP`, `X-Forwarded-Proto: http|https`,
///   `X-PageKite-Port: PORT` (and `Host: NAME` for +rewritehost) inserted right after the
///   request line, in that order, with the request line's line ending (CRLF or bare LF).
///   Existing X-Forwarded-For/-Proto/-Port and X-PageKite-For/-Proto/-Port lines (and Host with
///   +rewritehost) get an `X-Old-` prefix so visitors cannot spoof them. Every other byte of the
///   head is kept as it was;
/// - the request firewall (pagekite.py's default rules, see http_firewall.hpp; off with
///   `insecure` or +password) refuses a GET/POST/PUT/PATCH/DELETE of a blocked path: verdict
///   `blocked`, nothing of that request is emitted;
/// - it passes the body through untouched, framed by Content-Length or chunked transfer coding
///   (chunk sizes, extensions and trailers are checked, never changed; a chunk-size line or a
///   trailer line is emitted once it is complete and checked). A request with neither has no
///   body (RFC 9112 §6.3);
/// - empty lines before a request line are passed on (RFC 9112 §2.2 lets servers skip them).
///
/// It ends the stream (verdict `bad_request`, 400) on anything it cannot parse, instead of
/// passing bytes it did not understand: a bad request line, an HTTP major version other than
/// 1, obs-fold, a bad header name or a line without a colon, NUL/CR inside a line, a bad or
/// conflicting Content-Length, Transfer-Encoding together with Content-Length, a final transfer
/// coding that is not chunked, a bad chunk-size line (bad syntax, over 16 hex digits or over
/// 4 KiB), bad data after a chunk, or a bad trailer line. A head (or trailer section) over
/// `max_head` gives `head_too_large` (431, as the built-in web server answers). Bytes of earlier
/// requests were already emitted; nothing of the refused request or anything after it is.
///
/// It stops rewriting and passes everything through verbatim for the rest of the stream only
/// after a request carrying `Upgrade:` or with method CONNECT: whether the origin switches
/// protocols is only visible in the other direction, so the rewriter must assume it did.
///
/// +password: the FIRST request head must carry `Authorization: Basic base64(USER:PASS)` for one
/// configured pair (scheme case-insensitive, the password may contain ':'); until that head is
/// complete nothing is emitted. Missing, wrong, undecodable, oversized or malformed → verdict
/// `unauthorized`, nothing at all is passed on. Later requests on the same stream are not
/// checked again (as pagekite.py).
///
/// Differences from pagekite.py's filters.py (deliberate): it works on framing, not on any chunk
/// that contains something like a request line, so bodies are never rewritten or firewalled and
/// request lines split across chunks are still found; the firewall applies to every request of
/// the stream (pagekite.py refuses only in the stream's first chunk and forwards a later match
/// with a PAGEKITE_REJECT_ prefix); it does not add `Connection: close` to POST/PUT.
class http_rewriter {
 public:
  /// CR, LF and NUL are removed from `rip`, `rewrite_host`, `kite_name` and `uuid` (header
  /// injection).
  explicit http_rewriter(rewrite_options opts);

  /// Consumes all of `in` and appends what the origin must receive to `out` (which may stay
  /// unchanged while a head is incomplete). Any split of the same bytes into feed() calls gives
  /// the same concatenated output and the same final verdict.
  rewrite_verdict feed(std::span<const std::byte> in, std::vector<std::byte>& out);

  /// The reply for the visitor after a verdict other than `pass` (for a +password kite, the
  /// 401 page until then), in pagekite.py's error-page format: status line, X-PageKite-UUID
  /// (when `uuid` is set), Content-Type, no-cache headers, Connection: close, no
  /// Content-Length, a small HTML body naming the kite.
  /// - unauthorized: `HTTP/1.1 401 Unauthorized` with `WWW-Authenticate: Basic realm=PageKite`;
  /// - blocked: `HTTP/1.1 500 Unavailable` and the "(be) ... is unavailable" page, as
  ///   pagekite.py;
  /// - bad_request: `HTTP/1.1 400 Bad Request`; head_too_large: `HTTP/1.1 431 Request Header
  ///   Fields Too Large` (the body says what was wrong).
  /// Valid for the lifetime of this object; it changes only when feed() ends the stream.
  [[nodiscard]] std::string_view error_reply() const { return reply_; }

  /// The verdict so far (that of the last feed()).
  [[nodiscard]] rewrite_verdict verdict() const noexcept { return verdict_; }

  /// For logs, after a verdict other than `pass`: what was wrong ("obs-fold", the firewall
  /// rule's name, ...). Empty while `pass`.
  [[nodiscard]] std::string_view refusal_reason() const noexcept { return reason_; }

  /// The refused request's method and target ("GET /wp-admin/"), at most 256 bytes of it, when
  /// its request line could be parsed; else empty. For logs (visitor-controlled: no CR, LF,
  /// NUL, SP or other control byte, but may hold any byte >= 0x80).
  [[nodiscard]] std::string_view refused_request() const noexcept { return refused_request_; }

  /// The firewall rule behind a `blocked` verdict (firewall_rule::none otherwise).
  [[nodiscard]] firewall_rule blocked_rule() const noexcept { return blocked_rule_; }

  /// True once the rewriter passes everything through verbatim (after an upgrade or CONNECT).
  [[nodiscard]] bool passing_through() const noexcept { return state_ == state::passthrough; }

  /// Number of request heads emitted so far; for logs and tests.
  [[nodiscard]] std::uint64_t requests() const noexcept { return requests_; }

 private:
  enum class state {
    head,         // collecting a request head in head_
    body_length,  // Content-Length bytes left in remaining_
    chunk_size,   // collecting a chunk-size line in line_
    chunk_data,   // chunk data bytes left in remaining_
    chunk_end,    // collecting the line ending after chunk data in line_
    trailers,     // collecting trailer lines in line_
    passthrough,  // verbatim for good (after an upgrade or CONNECT)
    refused,      // a verdict other than pass: swallow everything
  };

  // Each consumes a prefix of `in` and returns how many bytes it consumed.
  std::size_t on_head(std::span<const std::byte> in, std::vector<std::byte>& out);
  std::size_t on_line_state(std::span<const std::byte> in, std::vector<std::byte>& out);
  void finish_head(std::vector<std::byte>& out);
  void finish_line(std::vector<std::byte>& out);
  /// Ends the stream with `v` (not pass): builds the reply, drops every buffer.
  void refuse(rewrite_verdict v, std::string reason);

  rewrite_options opts_;
  std::string reply_;
  rewrite_verdict verdict_ = rewrite_verdict::pass;
  std::string reason_;
  std::string refused_request_;
  firewall_rule blocked_rule_ = firewall_rule::none;
  state state_ = state::head;
  bool auth_pending_ = false;
  std::string head_;            // the head collected so far (state::head)
  std::size_t line_start_ = 0;  // start of the current line in head_
  std::string line_;            // chunk-size line / chunk end / trailer line being collected
  std::size_t trailer_bytes_ = 0;
  std::uint64_t remaining_ = 0;
  std::uint64_t requests_ = 0;
};

}  // namespace kiteline::connector
