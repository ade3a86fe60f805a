// Fake visitors for integration tests: HTTP request builders and response readers over
// test_socket, for relays (Host / SNI / CONNECT routing) and, later, connectors' origins.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "support/test_env.hpp"
#include "support/test_socket.hpp"

namespace kiteline::test {

/// A parsed HTTP response as a visitor saw it.
struct http_response {
  int status = 0;               ///< 0 when no status line arrived
  std::string head;             ///< status line + headers + blank line
  std::vector<std::byte> body;  ///< Content-Length bytes, or everything until EOF
  bool eof = false;             ///< the connection was closed after the response
  /// Value of header `name` (case-insensitive), "" if absent.
  [[nodiscard]] std::string header(std::string_view name) const;
  [[nodiscard]] std::string body_text() const { return std::string(as_text(body)); }
};

/// "GET <path> HTTP/1.1\r\nHost: <host>\r\n<extra>\r\n" (extra: full header lines with CRLF).
[[nodiscard]] std::string http_get(std::string_view host, std::string_view path = "/",
                                   std::string_view extra = "");

/// Reads one response from `s`: head, then Content-Length bytes if given, else until EOF.
[[nodiscard]] http_response read_response(test_socket& s, milliseconds timeout = test_timeout());

/// Connects to 127.0.0.1:`port`, sends `request`, reads one response (until EOF when it has no
/// Content-Length). status 0 when the connection failed or nothing came back.
[[nodiscard]] http_response http_exchange(std::uint16_t port, std::string_view request,
                                          milliseconds timeout = test_timeout());

}  // namespace kiteline::test
