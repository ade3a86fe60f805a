// Strict HTTP/1.x request-head parser for visitor routing (Host, CONNECT target, WebSocket).
#pragma once

#include "core/result.hpp"
#include "http/head.hpp"
#include "sniff/errc.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kiteline::sniff {

/// Caps for parse_request_head.
struct http_limits {
  std::size_t max_head_bytes = 16 * 1024;  ///< request line + headers + blank line
  std::size_t max_header_lines = 100;      ///< header lines, not counting the request line
};

enum class http_version { http_1_0, http_1_1 };

/// One header line. Views into the caller's buffer; the value has surrounding SP/HTAB removed.
using header_field = http::field;

/// A complete request head. string_views point into the parsed buffer and stay valid while
/// that buffer does; std::string members are owned (each at most 255 bytes).
struct request_head {
  std::string_view method;  ///< one of the §6.2 methods, exact case
  std::string_view target;  ///< request target, 1+ visible ASCII characters
  http_version version = http_version::http_1_1;
  std::vector<header_field> fields;  ///< in arrival order, at most max_header_lines
  std::size_t head_length = 0;       ///< bytes through the end of the blank line
  bool has_host = false;             ///< a Host header was present (its value may be empty)
  /// First Host value, lower-cased, ":port" removed, leading "0x<8|32 hex>--" removed (§6.3).
  /// IPv6 literals keep their brackets: "Host: [::1]:8080" gives "[::1]".
  std::string host;
  std::uint16_t host_port = 0;  ///< port from Host, 0 if none
  /// CONNECT only, except PageKite tunnel requests: target host (lower-case) and port 1..65535.
  std::string connect_host;
  std::uint16_t connect_port = 0;
  /// CONNECT whose target starts with "pagekite:" (case-insensitive): a tunnel request (§4.1).
  /// Its target is not parsed as host:port.
  bool pagekite_tunnel = false;
  /// An Upgrade header lists the token "websocket" (case-insensitive).
  bool websocket_upgrade = false;

  bool operator==(const request_head&) const = default;
};

/// parse_request_head outcome when no error occurred.
struct head_parse {
  bool complete = false;  ///< false: need more bytes (call again with the whole longer buffer)
  request_head head;      ///< valid when complete
};

/// Parses the request head at the start of `in` (the bytes a visitor sent so far; anything
/// after the blank line is ignored). Pure; call from any thread. For a prefix of some input the
/// result is always "not complete" or the same as for the whole input.
///
/// Rules (decided here):
/// * Request line is exactly `METHOD SP target SP HTTP/1.0|HTTP/1.1`. The method must be one
///   of OPTIONS CONNECT GET HEAD POST PUT TRACE PROPFIND PROPPATCH MKCOL DELETE COPY MOVE LOCK
///   UNLOCK PING PATCH (case-sensitive) - bytes that cannot start one of these are refused at
///   once (bad_method) without waiting for the line end. `GET /` with no version is bad_version.
/// * Lines end in CRLF or a bare LF (pagekite.py accepts LF too); a CR anywhere else is
///   refused. No leading empty lines, no obs-fold (obs_fold), header names are RFC 9110 tokens
///   followed directly by ':' (bad_header_line), values must not hold control characters
///   other than HTAB (bad_header_value), at most one Host (duplicate_host).
/// * Host is optional (empty host, has_host false). A present Host value is empty or
///   `host[:port]` as parse_authority accepts it (bad_host otherwise).
/// * CONNECT (non-PageKite) needs target `host:port` with port 1..65535 (bad_connect_target).
/// * No blank line within max_head_bytes: head_too_large; > max_header_lines: too_many_headers.
///
/// Allocation: the fields vector (bounded by max_header_lines) and the host strings.
[[nodiscard]] result<head_parse> parse_request_head(std::string_view in,
                                                    const http_limits& limits = {});

/// True if `token` (possibly partial) is a prefix of, or equal to, an accepted method.
[[nodiscard]] bool is_method_prefix(std::string_view token) noexcept;

}  // namespace kiteline::sniff
