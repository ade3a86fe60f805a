// Every canned reply a role sends to refuse a visitor or a tunnel (style §2), pure: the 400 and
// 503 pages, the TLS alert for an unroutable ClientHello, the CONNECT / tunnel-request refusal.
// Organised by reply; each function returns the exact bytes written on the wire.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

namespace kiteline::wire {

// --- 400: an HTTP request the relay cannot route at all ----------------------------------------

/// The relay's "400 Bad request" page for an HTTP request without a Host header (or with an
/// empty one): "HTTP/1.1 400 Bad request", X-PageKite-UUID, the no-cache headers and a short
/// page. `uuid`: the relay's, e.g. 40 hex chars.
[[nodiscard]] std::string format_no_host_page(std::string_view uuid);

// --- 503: no tunnel serves the kite ------------------------------------------------------------

/// The relay's "Sorry!" error page (pagekite.py HTTP_Unavailable) with status
/// "HTTP/1.1 503 Unavailable": `where` is "fe" or "be", `proto_label` is upper-cased into
/// "The HTTP ...", `host` goes into <b>...</b> unescaped (the relay passes the sniffed Host
/// header, as pagekite.py does; callers must not pass markup they do not want reflected).
/// `advertise`: include the PageKite link ("The HTTP <a ...>PageKite</a> for"); without it
/// "The HTTP connection for". Byte-identical to the captured pages.
[[nodiscard]] std::string format_unavailable_page(std::string_view uuid,
                                                  std::string_view proto_label,
                                                  std::string_view host, std::string_view where,
                                                  bool advertise = true, bool overloaded = false);

// --- TLS: a ClientHello naming no https kite and no TLS endpoint -------------------------------

/// The 7-byte fatal TLS alert (access_denied) the relay sends for an unroutable ClientHello.
[[nodiscard]] std::span<const std::byte, 7> tls_alert_unavailable() noexcept;

// --- CONNECT and tunnel requests ---------------------------------------------------------------

/// The relay's answer to a CONNECT it cannot serve, to a malformed tunnel request and to a
/// tunnel refused for --max_unauth_tunnels: "HTTP/1.0 503 Unavailable\r\n\r\n".
[[nodiscard]] std::string_view connect_unavailable() noexcept;

}  // namespace kiteline::wire
