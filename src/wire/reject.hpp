// Every canned reply a role sends to refuse a visitor or a tunnel (style §2), pure: the relay's
// 400 and 503 pages, the TLS alert for an unroutable ClientHello, the CONNECT / tunnel-request
// refusal; the connector's 401, 403, 500 (request firewall) and 400/431 pages and its 503 (the
// same unavailable page, "be"); the folder server's error page bodies.
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
/// page. `uuid`: the relay's, e.g. 40 hex chars. `overloaded`: X-PageKite-Overloaded: Sorry
/// first (pagekite.py's 400 page carries it).
[[nodiscard]] std::string format_no_host_page(std::string_view uuid,
                                              bool overloaded = false);

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

// --- 403: a visitor refused by --client_acl ----------------------------------------------------

/// pagekite.py's answer to an HTTP or CONNECT visitor refused by --client_acl: the "Sorry! (fe)"
/// page of format_unavailable_page with status "HTTP/1.1 403 Forbidden" and never the overload
/// header (pagekite.py passes none). `proto_label`: "HTTP", "WEBSOCKET" or "RAW" (CONNECT).
[[nodiscard]] std::string format_forbidden_page(std::string_view uuid,
                                                std::string_view proto_label,
                                                std::string_view host, bool advertise = true);

/// An error page with --errorurl (spec §6.7; pagekite.py HTTP_Unavailable with a frame URL).
struct error_frame {
  std::string_view uuid;       ///< X-PageKite-UUID of the process writing the page
  std::string_view status = "503 Unavailable";  ///< status code and text
  std::string_view where;      ///< "fe" (the relay) or "be" (the connector)
  std::string_view proto;      ///< the visitor's protocol, e.g. "http", "websocket"
  std::string_view host;       ///< the kite name asked for
  std::string_view url;        ///< the --errorurl chosen for it (config::choose_error_url)
  std::string_view relay_ip;   ///< the relay's socket address the visitor reached; "" = none
  bool advertise = true;       ///< false for a per-domain --errorurl: no PageKite link
  bool overloaded = false;     ///< X-PageKite-Overloaded: Sorry
};

/// The page: status line, the headers of format_unavailable_page, then a frameset loading
/// `url`; when `url` contains '?', "&where=WHERE&proto=PROTO&domain=HOST[&relay=IP]" is
/// appended to it (WHERE upper-cased, PROTO lower-cased), every `&` written `&amp;` as
/// pagekite.py writes it. Every value is HTML-escaped (the URL included); <noframes> holds the
/// "Sorry!" message of format_unavailable_page.
[[nodiscard]] std::string format_error_frame_page(const error_frame& frame);

// --- TLS: a ClientHello naming no https kite and no TLS endpoint -------------------------------

/// The 7-byte fatal TLS alert (access_denied) the relay sends for an unroutable ClientHello.
[[nodiscard]] std::span<const std::byte, 7> tls_alert_unavailable() noexcept;

// --- CONNECT and tunnel requests ---------------------------------------------------------------

/// The relay's answer to a CONNECT it cannot serve, to a malformed tunnel request and to a
/// tunnel refused for --max_unauth_tunnels: "HTTP/1.0 503 Unavailable\r\n\r\n".
[[nodiscard]] std::string_view connect_unavailable() noexcept;

/// The relay's answer to a tunnel request refused by --tunnel_acl (pagekite.py
/// HTTP_ConnectBad(code=403)): "HTTP/1.0 403 Forbidden\r\n\r\n".
[[nodiscard]] std::string_view connect_forbidden() noexcept;

// --- The connector's pages for one refused HTTP request (pagekite.py's error-page shape) -------
// Status line, X-PageKite-UUID (only when `uuid` is not empty), the reply's own header lines,
// the no-cache headers, Connection: close, no Content-Length, then a small page naming the kite.
// `kite_name` (and `reason`) are HTML-escaped here.

/// +password refused the request: "HTTP/1.1 401 Unauthorized" with
/// "WWW-Authenticate: Basic realm=PageKite" and the "(be) ... requires a user name and
/// password" page.
[[nodiscard]] std::string format_unauthorized_page(std::string_view uuid,
                                                   std::string_view kite_name);

/// The request firewall refused the request: pagekite.py's "unavailable" page from the
/// connector ("be") with status "HTTP/1.1 500 Unavailable".
[[nodiscard]] std::string format_firewall_page(std::string_view uuid, std::string_view kite_name);

/// A request the connector cannot parse: "HTTP/1.1 400 Bad Request", or with `too_large` (a
/// head or trailer section over the cap) "HTTP/1.1 431 Request Header Fields Too Large"; the
/// page says "This request for <b>KITE</b> was not forwarded: REASON."
[[nodiscard]] std::string format_refused_request_page(std::string_view uuid,
                                                      std::string_view kite_name,
                                                      bool too_large, std::string_view reason);

// --- 403: a visitor address refused by +ip ------------------------------------------------------

/// The connector's answer to an HTTP visitor whose address +ip does not allow.
[[nodiscard]] std::string_view ip_forbidden_page() noexcept;

// --- The folder server's error pages ------------------------------------------------------------

/// The body of the built-in web server's error replies for `status_text` ("404 Not Found"):
/// a minimal HTML5 page with it as title and heading. The server frames it (status line,
/// Content-Type: text/html; charset=utf-8, Content-Length).
[[nodiscard]] std::string format_folder_error_body(std::string_view status_text);

}  // namespace kiteline::wire
