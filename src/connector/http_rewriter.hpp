// Streaming HTTP/1.x request rewriter for one stream (visitor -> origin): header injection (§7.3)
// and +password checks (§7.2), following the request framing so that bodies are never touched.
#pragma once

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
  std::string rip;     ///< the stream's RIP chunk header, injected verbatim as X-Forwarded-For
  bool rtls = false;   ///< RTLS present: X-Forwarded-Proto: https (else http)
  std::uint32_t port = 0;  ///< the stream's Port chunk header, injected as X-PageKite-Port
  /// +rewritehost[=NAME]: the new Host value. The caller resolves "" (bare +rewritehost) to the
  /// origin's host:port before passing it. The original Host line becomes X-Old-Host.
  std::optional<std::string> rewrite_host;
  /// +password/USER=PASS pairs; empty = no authentication.
  std::vector<std::pair<std::string, std::string>> passwords;
  /// +rawheaders: add and rename nothing (a +password check still applies).
  bool raw_headers = false;
  /// Shown in the 401 page ("... for <b>kite_name</b> ..."), HTML-escaped. May be empty.
  std::string kite_name;
  /// X-PageKite-UUID of the 401 page (pagekite.py style); omitted when empty.
  std::string uuid;
  /// Head cap: a request head (request line to blank line, inclusive) longer than this stops
  /// rewriting for good; everything from then on passes through verbatim.
  std::size_t max_head = 64 * 1024;
};

/// The outcome of feeding bytes.
enum class rewrite_verdict {
  pass,          ///< keep going: forward `out` to the origin
  unauthorized,  ///< +password check failed: send error_reply() to the visitor, close the stream
};

/// Rewrites the visitor->origin byte stream of ONE HTTP stream. Pure (no I/O, no logging, no
/// clock); not thread-safe; use from the stream's executor only.
///
/// What it does, request by request (pipelined and keep-alive requests included):
/// - buffers a request head until its blank line (at most `max_head` bytes), then emits it with
///   `X-Forwarded-For: RIP`, `X-Forwarded-Proto: http|https`, `X-PageKite-Port: PORT` (and
///   `Host: NAME` for +rewritehost) inserted right after the request line, in that order, with
///   the request line's line ending (CRLF or bare LF). Existing X-Forwarded-For/-Proto/-Port
///   and X-PageKite-For/-Proto/-Port lines (and Host with +rewritehost) get an `X-Old-` prefix
///   so visitors cannot spoof them. Every other byte of the head is kept as it was;
/// - passes the body through untouched, framed by Content-Length or chunked transfer coding
///   (chunk sizes, extensions and trailers are parsed, never changed). A request with neither
///   has no body (RFC 9112 §6.3);
/// - empty lines before a request line are passed on (RFC 9112 §2.2 lets servers skip them).
///
/// When it stops rewriting and passes everything through verbatim, for the rest of the stream:
/// - after a request carrying `Upgrade:` or with method CONNECT: whether the origin switches
///   protocols is only visible in the other direction, so the rewriter must assume it did;
/// - a head longer than `max_head` (origins refuse those anyway);
/// - a malformed head or framing: a bad request line, an HTTP major version other than 1, obs-fold,
///   a bad header name, NUL/CR inside a line, a bad or conflicting Content-Length,
///   Transfer-Encoding together with Content-Length, a final transfer coding that is not
///   chunked, a bad chunk-size line (over 4 KiB or 16 hex digits), bad data after a chunk, or
///   trailers over `max_head`. The origin sees exactly the visitor's bytes and answers 400.
///   Caveat: such bytes reach the origin with any spoofed X-Forwarded-* lines unrenamed; an
///   origin that accepts a head kiteline calls malformed must not trust those headers.
///
/// +password: the FIRST request head must carry `Authorization: Basic base64(USER:PASS)` for one
/// configured pair (scheme case-insensitive, the password may contain ':'); until that head is
/// complete nothing is emitted. Missing, wrong, undecodable, oversized or malformed → verdict
/// `unauthorized`, nothing at all is passed on, and every later feed() also returns
/// `unauthorized`. Later requests on the same stream are not checked again (as pagekite.py).
///
/// Differences from pagekite.py's filters.py (deliberate): it works on framing, not on any chunk
/// that contains something like a request line, so bodies are never rewritten and request
/// lines split across chunks are still found; it does not add `Connection: close` to POST/PUT.
class http_rewriter {
 public:
  /// CR, LF and NUL are removed from `rip`, `rewrite_host`, `kite_name` and `uuid` (header
  /// injection).
  explicit http_rewriter(rewrite_options opts);

  /// Consumes all of `in` and appends what the origin must receive to `out` (which may stay
  /// unchanged while a head is incomplete). Any split of the same bytes into feed() calls gives
  /// the same concatenated output and the same final verdict.
  rewrite_verdict feed(std::span<const std::byte> in, std::vector<std::byte>& out);

  /// The reply for the visitor after `unauthorized`: `HTTP/1.1 401 Unauthorized` with
  /// `WWW-Authenticate: Basic realm=PageKite` and pagekite.py's error-page headers
  /// (Content-Type, no-cache, Connection: close, no Content-Length) and a small HTML body.
  /// Valid for the lifetime of this object.
  [[nodiscard]] std::string_view error_reply() const;

  /// True once the rewriter passes everything through verbatim (upgrade, CONNECT, overflow,
  /// malformed input); for logs and tests.
  [[nodiscard]] bool passing_through() const noexcept { return state_ == state::passthrough; }

  /// Number of request heads rewritten so far; for logs and tests.
  [[nodiscard]] std::uint64_t requests() const noexcept { return requests_; }

 private:
  enum class state {
    head,         // collecting a request head in head_
    body_length,  // Content-Length bytes left in remaining_
    chunk_size,   // collecting a chunk-size line in line_
    chunk_data,   // chunk data bytes left in remaining_
    chunk_end,    // collecting the line ending after chunk data in line_
    trailers,     // collecting trailer lines in line_
    passthrough,  // verbatim for good
    refused,      // +password failed: swallow everything
  };

  // Each consumes a prefix of `in` and returns how many bytes it consumed.
  std::size_t on_head(std::span<const std::byte> in, std::vector<std::byte>& out);
  std::size_t on_line_state(std::span<const std::byte> in, std::vector<std::byte>& out);
  void finish_head(std::vector<std::byte>& out);
  void finish_line();
  void enter_passthrough(std::vector<std::byte>& out);
  [[nodiscard]] bool authorized(std::string_view value) const;

  rewrite_options opts_;
  std::string reply_;
  state state_ = state::head;
  bool auth_pending_ = false;
  std::string head_;          // the head collected so far (state::head)
  std::size_t line_start_ = 0;  // start of the current line in head_
  std::string line_;          // chunk-size line / chunk end / trailer line being collected
  std::size_t trailer_bytes_ = 0;
  std::uint64_t remaining_ = 0;
  std::uint64_t requests_ = 0;
};

}  // namespace kiteline::connector
