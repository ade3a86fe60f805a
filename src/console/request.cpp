#include "console/request.hpp"

#include <vector>

#include "core/text.hpp"
#include "http/head.hpp"

namespace kiteline::console {

route route_of(std::string_view path) noexcept {
  if (path == "/metrics") {
    return route::metrics;
  }
  if (path == "/status.json") {
    return route::status_json;
  }
  if (path == "/" || path == "/index.html") {
    return route::status_page;
  }
  return route::not_found;
}

parse_result parse_request(std::string_view buf) {
  parse_result out;
  const std::size_t end = http::find_head_end(buf.substr(0, max_head_bytes));
  if (end == std::string_view::npos) {
    out.status = buf.size() >= max_head_bytes ? parse_status::too_large : parse_status::need_more;
    return out;
  }
  out.status = parse_status::bad_request;
  http::line_reader lines(buf.substr(0, end));
  std::string_view line;
  if (!lines.next(line)) {
    return out;
  }
  const http::request_line rl = http::split_request_line(line);
  if (!rl.has_target || !rl.has_version || !http::is_token(rl.method) ||
      !http::parse_http1_version(rl.version) || !http::is_request_target(rl.target, false) ||
      !rl.target.starts_with('/')) {
    return out;
  }
  while (lines.next(line)) {
    if (line.empty()) {
      break;
    }
    const http::field_line f = http::parse_field_line(line);
    if (f.error != http::field_error::none || http::has_ctl_but_htab(f.f.value)) {
      return out;
    }
    if (ascii_iequals(f.f.name, "authorization")) {
      out.req.authorization = std::string(f.f.value);
    }
  }
  out.req.method = std::string(rl.method);
  const std::string_view target = rl.target;
  out.req.path = std::string(target.substr(0, target.find('?')));
  out.req.where = route_of(out.req.path);
  out.head_length = end;
  out.status = parse_status::complete;
  return out;
}

bool basic_auth_ok(std::string_view authorization, std::string_view password) {
  const std::string_view v = trim_ows(authorization);
  const auto sp = v.find(' ');
  if (sp == std::string_view::npos || !ascii_iequals(v.substr(0, sp), "basic")) {
    return false;
  }
  const auto decoded = base64_decode(trim_ows(v.substr(sp + 1)));
  if (!decoded) {
    return false;
  }
  const auto colon = decoded->find(':');
  if (colon == std::string::npos) {
    return false;
  }
  const std::string_view given = std::string_view(*decoded).substr(colon + 1);
  // Every byte compared (lengths may leak, the content does not).
  unsigned diff = given.size() == password.size() ? 0U : 1U;
  for (std::size_t i = 0; i < given.size(); ++i) {
    diff |= static_cast<unsigned>(given[i] ^ (i < password.size() ? password[i] : 0));
  }
  return diff == 0 && !password.empty();
}

}  // namespace kiteline::console
