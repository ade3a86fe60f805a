// accesslog::record: one access-log line (a visitor connection or a request a role served) and
// its two renderings, pagekite.py-like key=value and JSON lines; plus the small HTTP peeks
// (request line, status line) the roles use to fill it.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kiteline::accesslog {

/// How lines are rendered (--accesslog_format).
enum class format : std::uint8_t {
  text,  ///< "ts=...; t=...; role=relay; rip=...; ..." (pagekite.py's "; "-joined key=value)
  json,  ///< one JSON object per line
};

/// One access-log entry. Bytes are counted from the visitor's side of the stream on both
/// roles: `bytes_in` travelled from the visitor toward the origin (the request), `bytes_out`
/// from the origin toward the visitor (the response), as the tunnel carried them.
struct record {
  std::chrono::system_clock::time_point time{};  ///< when the connection or stream began
  std::string_view role;                         ///< "relay" or "connector" (static text)
  std::string remote_ip;                         ///< the visitor's address
  std::uint32_t remote_port = 0;                 ///< 0 = unknown
  std::string kite;                              ///< the kite's (or the asked-for) host name
  std::string proto;                             ///< http, https, websocket, raw...
  std::uint32_t port = 0;                        ///< the kite's public port; 0 = unknown
  std::string method;                            ///< HTTP method; empty = not HTTP / not seen
  std::string path;                              ///< HTTP request target; empty = not seen
  int status = 0;                                ///< HTTP status; 0 = none seen ("-")
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;
  std::chrono::microseconds duration{0};
  std::string tunnel;  ///< relay: the connector's address; connector: the relay's name
  std::string note;    ///< why it ended otherwise than by a routed stream (refusals, timeouts)
};

/// The key=value line (no newline). Keys, in order: ts (hex Unix time, as pagekite.py), t,
/// role, rip, rport, kite, proto, port, method, path, status, bytes_in, bytes_out, ms, tunnel,
/// and note when set. Empty values and 0 for status/port/rport print as `-`; values are quoted
/// by append_text_value().
[[nodiscard]] std::string format_text(const record& r);
/// The JSON object (no newline): the same fields, numbers as numbers, absent ones as null.
[[nodiscard]] std::string format_json(const record& r);
/// format_text() or format_json().
[[nodiscard]] std::string format_line(format f, const record& r);

/// ISO 8601 local time with milliseconds and the UTC offset: "2026-12-07T09:45:01.123+01:00".
[[nodiscard]] std::string format_time(std::chrono::system_clock::time_point t);

/// Appends `v` as a key=value value: as is when it is non-empty printable ASCII without
/// space, `"`, `;` or `\`; otherwise inside double quotes with `\"`, `\\` and `\xHH` for
/// control bytes, DEL and bytes 0x80-0xFF (so a line never holds a raw line break, and any
/// value reads back unambiguously). An empty value is `-`, so a value that is `-` is quoted.
void append_text_value(std::string& out, std::string_view v);
/// Appends `v` as a JSON string (with its quotes): `\"`, `\\`, the short escapes (\b \f \n \r
/// \t), `\u00XX` for the other control bytes and DEL; well-formed UTF-8 passes through, every
/// byte of an ill-formed sequence becomes U+FFFD (as \ufffd), so the output is always valid
/// JSON and valid UTF-8.
void append_json_string(std::string& out, std::string_view v);

/// The method and target of an HTTP/1.x request line at the start of `head` (only the bytes
/// seen; a target cut short by the end of `head` is returned as far as seen).
struct request_line {
  std::string method;
  std::string path;
};
[[nodiscard]] std::optional<request_line> parse_request_line(std::string_view head);
/// The status code of an HTTP/1.x status line at the start of `head` ("HTTP/1.1 200 OK"),
/// or 0 when `head` does not start with one.
[[nodiscard]] int parse_status_line(std::string_view head);

}  // namespace kiteline::accesslog
