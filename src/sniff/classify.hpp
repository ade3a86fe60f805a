// First-bytes classifier for a connection on a relay port: ping, tunnel request, TLS visitor,
// HTTP CONNECT visitor, plain HTTP visitor, or reject (spec §2.4, §3, §6.2).
#pragma once

#include "sniff/http_request_head.hpp"
#include "sniff/tls_client_hello.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <system_error>

namespace kiteline::sniff {

/// Caps for classify.
struct classify_limits {
  tls_limits tls;
  http_limits http;
  /// The relay-ping fast path looks for its Host line only in this many first bytes
  /// (pagekite.py peeks 64 bytes).
  std::size_t ping_peek_bytes = 64;
};

enum class kind {
  need_more,        ///< undecided: read more (up to the caps) and call again with all bytes
  ping,             ///< relay ping (§3): answer "HTTP/1.1 503 Unavailable ..." and close
  tunnel_request,   ///< `CONNECT PageKite:...` head complete: hand to the tunnel acceptor
  visitor_tls,      ///< TLS ClientHello complete (or SSLv2 hello): route by SNI / default
  visitor_connect,  ///< `CONNECT host:port` from a visitor (§6.6)
  visitor_http,     ///< plain HTTP request head complete: route by Host (§6.3)
  reject,           ///< close; `error` says why
};

/// classify's verdict. Field validity depends on `what`.
struct classification {
  kind what = kind::need_more;
  std::error_code error;  ///< reject: a sniff::errc
  /// tunnel_request / visitor_connect / visitor_http: bytes of the request head including the
  /// blank line (the data that follows belongs to the tunnel or the stream). 0 for ping (the
  /// reply does not depend on the rest of the request) and TLS (all bytes are forwarded).
  std::size_t head_length = 0;
  /// visitor_http: Host (lower-case, port and 0x..-- prefix removed; empty if no Host);
  /// visitor_connect: CONNECT host; visitor_tls: SNI (empty if none); ping: "ping.pagekite".
  std::string host;
  /// visitor_connect: target port (1..65535); visitor_http: port from Host, 0 if none.
  std::uint16_t port = 0;
  /// HTTP kinds (not ping): the method, a view into first_bytes (valid while that buffer is).
  std::string_view method;
  bool has_host = false;     ///< visitor_http: a Host header was present (else answer 400)
  bool websocket = false;    ///< visitor_http: Upgrade lists websocket (protocol "websocket")
  bool ping_method = false;  ///< visitor_http: method PING (answer "PONG <target>\r\n\r\n")
  bool has_sni = false;      ///< visitor_tls: host holds the SNI
  bool has_alpn = false;     ///< visitor_tls: ClientHello offers ALPN
  bool sslv2 = false;        ///< visitor_tls: SSLv2-style hello (never has SNI)

  bool operator==(const classification&) const = default;
};

/// Decides what a new connection on a relay port is, from the bytes read so far. Pure; call
/// from any thread. Call again with the whole, longer buffer while need_more is returned; for
/// a prefix of some input the verdict is always need_more or the same as for the whole input.
///
/// Order (§6.2): first byte 0x16/0x80 -> TLS (extract_sni). First byte '<' -> reject with
/// xmpp_unsupported once "<?xml" is seen (XMPP routing is not implemented), unknown_protocol if
/// the bytes stop matching "<?xml". A first byte that cannot start an accepted HTTP method ->
/// reject(unknown_protocol) at once. Otherwise HTTP (parse_request_head, whose errors become
/// reject):
/// * ping: a line "Host: ping.pagekite" (exact case, as pagekite.py matches it) ending inside
///   the first ping_peek_bytes bytes while the head so far parses cleanly - decided before the
///   blank line, like pagekite's 64-byte peek; or a complete head whose Host is ping.pagekite.
/// * tunnel_request: complete head, CONNECT with target "pagekite:..." (any case).
/// * visitor_connect: other CONNECT; visitor_http: everything else.
[[nodiscard]] classification classify(std::span<const std::byte> first_bytes,
                                      const classify_limits& limits = {});

}  // namespace kiteline::sniff
