// Relay ping (spec §3) and the CONNECT preamble of TLS tunnels (§2.1), whose bytes the
// captures pin down. The canned refusals (§6.7) live in wire/reject.hpp.
#pragma once

#include <array>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "wire/errc.hpp"
#include "wire/head.hpp"
// The refusals (503 page, TLS alert, CONNECT 503) moved to reject.hpp; included here so the
// ping reply's callers keep one include.
#include "wire/reject.hpp"

namespace kiteline::wire {

/// The request pagekite.py sends to measure a relay: "HEAD /ping HTTP/1.1\r\nHost:
/// ping.pagekite\r\n\r\n" (libpagekite sends GET instead of HEAD).
[[nodiscard]] std::string_view ping_request() noexcept;

/// FE side: true when the first bytes peeked on a new connection contain the case-sensitive
/// substring "\nHost: ping.pagekite" (what pagekite.py's FastPingHelper looks for in 64 peeked
/// bytes). The relay then writes format_ping_reply() and closes without reading.
[[nodiscard]] bool is_ping_request(std::string_view peeked) noexcept;
[[nodiscard]] bool is_ping_request(std::span<const std::byte> peeked) noexcept;

/// The FE's ping reply, byte-identical to pagekite.py's: "HTTP/1.1 503 Unavailable",
/// [X-PageKite-Overloaded: Sorry], X-PageKite-UUID, the no-cache headers, blank line and the
/// "Sorry! (fe)" page for ping.pagekite. `uuid`: stable per relay process, e.g. 40 hex chars.
[[nodiscard]] std::string format_ping_reply(std::string_view uuid, bool overloaded = false);

/// The FE's answer to a request whose method is PING (sniff::classification::ping_method):
/// "PONG <request target>\r\n\r\n". `request_head`: the request head, starting at the method.
[[nodiscard]] std::string format_pong_reply(std::string_view request_head);

/// What a BE learns from a ping reply.
struct ping_reply {
  std::string uuid;         ///< X-PageKite-UUID value; empty when absent
  bool overloaded = false;  ///< X-PageKite-Overloaded present
  friend bool operator==(const ping_reply&, const ping_reply&) = default;
};

/// BE side: checks the bytes of one read of the reply. They must start with exactly
/// "HTTP/1.1 503 Unavailable" (else errc::bad_ping_reply); the header lines present in `bytes`
/// (up to a blank line or the end) are scanned for the UUID and the overload marker.
[[nodiscard]] result<ping_reply> check_ping_reply(std::string_view bytes);

/// The clear-text preamble of a pagekite.py `--fe_certname` tunnel:
/// "CONNECT <name>:443 HTTP/1.1\r\nHost: <name>\r\n\r\n" (port always 443). Precondition:
/// `name` holds no blanks or line breaks.
[[nodiscard]] std::string format_connect_preamble(std::string_view name);

/// The FE's answer to an accepted preamble: "HTTP/1.0 200 Connection Established\r\n\r\n".
[[nodiscard]] std::string_view connect_established_reply() noexcept;

/// BE side: checks the preamble reply received so far. Returns need_more until the blank line
/// arrives, then {end} (the TLS handshake starts at `end`). errc::bad_connect_reply when the
/// status line is not "HTTP/1.0 200..." / "HTTP/1.1 200..." (detected as soon as the first
/// bytes disagree), errc::head_too_large past `max_head`.
[[nodiscard]] result<head_scan> check_connect_reply(std::string_view bytes,
                                                    std::size_t max_head = 4096) noexcept;

}  // namespace kiteline::wire
