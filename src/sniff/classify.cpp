#include "sniff/classify.hpp"

#include <algorithm>

namespace kiteline::sniff {
namespace {

constexpr std::string_view ping_host = "ping.pagekite";
constexpr std::string_view ping_line = "\nHost: ping.pagekite";
constexpr std::string_view xml_magic = "<?xml";

classification rejected(std::error_code ec) {
  classification c;
  c.what = kind::reject;
  c.error = ec;
  return c;
}

classification pinged() {
  classification c;
  c.what = kind::ping;
  c.host = ping_host;
  return c;
}

/// End (one past the LF) of the first "\nHost: ping.pagekite" line in the first `peek` bytes,
/// or 0. The line must end right after the name (CRLF or LF), so "ping.pagekite.example" and
/// "ping.pagekite:80" are left to the full-head check.
std::size_t ping_line_end(std::string_view text, std::size_t peek) noexcept {
  const std::string_view window = text.substr(0, peek);
  const auto at = window.find(ping_line);
  if (at == std::string_view::npos) {
    return 0;
  }
  const std::size_t after = at + ping_line.size();
  if (after < window.size() && window[after] == '\n') {
    return after + 1;
  }
  if (after + 1 < window.size() && window[after] == '\r' && window[after + 1] == '\n') {
    return after + 2;
  }
  return 0;
}

classification classify_tls(std::span<const std::byte> bytes, const tls_limits& limits) {
  auto r = extract_sni(bytes, limits);
  if (!r) {
    return rejected(r.error());
  }
  classification c;
  if (r->status == sni_status::need_more) {
    return c;
  }
  c.what = kind::visitor_tls;
  c.has_sni = r->status == sni_status::found;
  c.host = std::move(r->server_name);
  c.has_alpn = r->has_alpn;
  c.sslv2 = r->sslv2;
  return c;
}

classification classify_http(std::string_view text, const classify_limits& limits) {
  // Ping fast path: decided on the bytes through the Host line, as long as they parse as the
  // start of a request head (an earlier error or an already complete head wins, which keeps the
  // verdict independent of how the bytes were split).
  if (const std::size_t end = ping_line_end(text, limits.ping_peek_bytes); end != 0) {
    auto early = parse_request_head(text.substr(0, end), limits.http);
    if (early && !early->complete) {
      return pinged();
    }
  }
  auto r = parse_request_head(text, limits.http);
  if (!r) {
    return rejected(r.error());
  }
  classification c;
  if (!r->complete) {
    return c;
  }
  request_head& head = r->head;
  if (head.host == ping_host) {
    return pinged();
  }
  c.head_length = head.head_length;
  c.method = head.method;
  if (head.pagekite_tunnel) {
    c.what = kind::tunnel_request;
    return c;
  }
  if (head.method == "CONNECT") {
    c.what = kind::visitor_connect;
    c.host = std::move(head.connect_host);
    c.port = head.connect_port;
    return c;
  }
  c.what = kind::visitor_http;
  c.host = std::move(head.host);
  c.port = head.host_port;
  c.has_host = head.has_host;
  c.websocket = head.websocket_upgrade;
  c.ping_method = head.method == "PING";
  return c;
}

}  // namespace

classification classify(std::span<const std::byte> first_bytes, const classify_limits& limits) {
  if (first_bytes.empty()) {
    return {};
  }
  const auto b0 = static_cast<std::uint8_t>(first_bytes[0]);
  if (b0 == 0x16 || b0 == 0x80) {
    return classify_tls(first_bytes, limits.tls);
  }
  const std::string_view text(reinterpret_cast<const char*>(first_bytes.data()),
                              first_bytes.size());
  if (b0 == '<') {
    const std::size_t n = std::min(text.size(), xml_magic.size());
    if (text.substr(0, n) != xml_magic.substr(0, n)) {
      return rejected(errc::unknown_protocol);
    }
    return n == xml_magic.size() ? rejected(errc::xmpp_unsupported) : classification{};
  }
  if (!is_method_prefix(text.substr(0, 1))) {
    return rejected(errc::unknown_protocol);
  }
  return classify_http(text, limits);
}

}  // namespace kiteline::sniff
