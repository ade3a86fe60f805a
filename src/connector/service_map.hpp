// connector service_map: which configured service serves a new stream (spec §7.1), and the
// per-kite visitor IP filter (+ip/..., §7.2). Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/connector_config.hpp"

namespace kiteline::connector {

/// True for the protocols whose streams carry HTTP requests (http, http2, http3, websocket):
/// they get the X-Forwarded-* headers and the "Sorry! (be)" page on failure.
[[nodiscard]] bool is_http_proto(std::string_view proto) noexcept;

/// The service for a stream with `Proto: proto`, `Host: host`, `Port: port` (spec §7.1).
/// Candidates: http -> http, http2, http3; websocket -> websocket, http, http2, http3;
/// probe* -> http, http2, http3; others -> proto. For each candidate c: "c-port:host",
/// "c:host", "c:unknown"; each first exactly, then through wildcard parents ("*.b.c", "*.c").
/// Disabled services are skipped. Comparison is ASCII case-insensitive. Returns nullptr when
/// nothing matches; the pointer points into `services`. Any executor (pure).
[[nodiscard]] const config::service* choose_service(std::span<const config::service> services,
                                                    std::string_view proto,
                                                    std::string_view host,
                                                    std::optional<std::uint32_t> port);

/// +ip/... check (spec §7.2): true when `allow` is empty, or `rip` (a "::ffff:" prefix is
/// ignored) equals an entry, or starts with an entry of three octets followed by '.'
/// ("+ip/1.2.3" allows 1.2.3.0/24). Any executor (pure).
[[nodiscard]] bool ip_allowed(std::span<const std::string> allow, std::string_view rip) noexcept;

/// The HAProxy PROXY v1 line for +proxyproto (spec §7.3 item 5): "PROXY TCP4 <rip> 0.0.0.0
/// <rport> <port>\r\n" ("::ffff:" stripped), TCP6 for IPv6 RIPs (destination "::"). Empty when
/// `rip` is neither an IPv4 nor an IPv6 literal (nothing safe to send).
[[nodiscard]] std::string proxy_v1_line(std::string_view rip, std::uint32_t rport,
                                        std::uint32_t port);

}  // namespace kiteline::connector
