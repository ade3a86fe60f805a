// console/request: the console's HTTP request head, read with the http/ head scanner, and its
// Basic auth check. Pure (no I/O): the fuzz target console_request_fuzz drives it.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace kiteline::console {

/// The console's limit on a request head (it serves small GETs only).
inline constexpr std::size_t max_head_bytes = 8192;

/// The console's routes.
enum class route : unsigned char { metrics, status_json, status_page, not_found };

/// A parsed request head.
struct request {
  std::string method;
  std::string path;           ///< the target without its query string
  std::string authorization;  ///< the Authorization value ("" when absent)
  route where = route::not_found;
};

/// What parse_request found.
enum class parse_status : unsigned char {
  complete,    ///< a head was parsed (see request)
  need_more,   ///< no end of head yet, within max_head_bytes
  bad_request, ///< malformed (400)
  too_large,   ///< no end of head within max_head_bytes (431)
};

struct parse_result {
  parse_status status = parse_status::need_more;
  request req;
  std::size_t head_length = 0;  ///< bytes of the head (complete only)
};

/// Parses the request head at the start of `buf` (bytes read so far). A prefix of a valid head
/// gives need_more; the request line must be `METHOD SP TARGET SP HTTP/1.x` with a token method
/// and an origin-form target ("/..."); field lines must be well-formed.
[[nodiscard]] parse_result parse_request(std::string_view buf);

/// The route of a path: /metrics, /status.json, / (and /index.html); else not_found.
[[nodiscard]] route route_of(std::string_view path) noexcept;

/// True when `authorization` is `Basic base64(USER:PASSWORD)` with any USER and this password
/// (scheme case-insensitive). The comparison of the password does not stop at the first
/// difference.
[[nodiscard]] bool basic_auth_ok(std::string_view authorization, std::string_view password);

}  // namespace kiteline::console
