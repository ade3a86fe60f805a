#include "sniff/http_request_head.hpp"

#include "core/text.hpp"
#include "http/head.hpp"
#include "sniff/host_name.hpp"

#include <array>

namespace kiteline::sniff {
namespace {

constexpr std::array<std::string_view, 17> methods{
    "OPTIONS", "CONNECT", "GET",  "HEAD", "POST", "PUT",    "TRACE", "PROPFIND", "PROPPATCH",
    "MKCOL",   "DELETE",  "COPY", "MOVE", "LOCK", "UNLOCK", "PING",  "PATCH"};

constexpr std::size_t max_method_length = 9;  // "PROPFIND" is 8, "PROPPATCH" 9

bool is_method(std::string_view token) noexcept {
  for (auto m : methods) {
    if (m == token) {
      return true;
    }
  }
  return false;
}

/// Method check that also works on a partial line: scans [A-Z]* from the start. ok means a
/// method followed by SP; need_more means everything seen is a method prefix.
enum class method_scan { ok, need_more, bad_method, bad_request_line };
method_scan scan_method(std::string_view data, std::string_view& method) noexcept {
  std::size_t i = 0;
  while (i < data.size() && data[i] >= 'A' && data[i] <= 'Z') {
    ++i;
    if (i > max_method_length) {  // cannot be a method
      return method_scan::bad_method;
    }
  }
  method = data.substr(0, i);
  if (i == data.size()) {
    return is_method_prefix(method) ? method_scan::need_more : method_scan::bad_method;
  }
  if (!is_method(method)) {
    return method_scan::bad_method;
  }
  return data[i] == ' ' ? method_scan::ok : method_scan::bad_request_line;
}

errc to_errc(method_scan s) noexcept {
  return s == method_scan::bad_method ? errc::bad_method : errc::bad_request_line;
}

/// Parses a complete request line (line ending removed) into head.
errc parse_request_line(std::string_view line, request_head& head) noexcept {
  std::string_view method;
  if (const auto s = scan_method(line, method); s != method_scan::ok) {
    // need_more here means the whole line is [A-Z]* ("GET"): a method without target, or no
    // method at all. Same answers as the partial-line scan gives once the CR/LF is seen.
    return s == method_scan::need_more
               ? (is_method(method) ? errc::bad_request_line : errc::bad_method)
               : to_errc(s);
  }
  // scan_method stopped at the first SP, so that SP splits the line.
  const http::request_line parts = http::split_request_line(line);
  if (!http::is_request_target(parts.target, /*allow_obs_text=*/false)) {
    return errc::bad_request_line;
  }
  if (!parts.has_version) {
    return errc::bad_version;  // HTTP/0.9-style "GET /"
  }
  if (parts.version == "HTTP/1.1") {
    head.version = http_version::http_1_1;
  } else if (parts.version == "HTTP/1.0") {
    head.version = http_version::http_1_0;
  } else {
    return errc::bad_version;
  }
  head.method = method;
  head.target = parts.target;
  return errc::ok;
}

/// Parses one complete header line (line ending removed) into head.
errc parse_header_line(std::string_view line, request_head& head, std::string_view& host_raw,
                       const http_limits& limits) {
  const http::field_line fl = http::parse_field_line(line);
  if (fl.error == http::field_error::obs_fold) {
    return errc::obs_fold;
  }
  if (head.fields.size() >= limits.max_header_lines) {
    return errc::too_many_headers;
  }
  if (fl.error != http::field_error::none) {  // no colon, or a name that is not a token
    return errc::bad_header_line;
  }
  const auto [name, value] = fl.f;
  if (http::has_ctl_but_htab(value)) {
    return errc::bad_header_value;
  }
  head.fields.push_back({name, value});
  if (ascii_iequals(name, "host")) {
    if (head.has_host) {
      return errc::duplicate_host;
    }
    head.has_host = true;
    host_raw = value;
  } else if (ascii_iequals(name, "upgrade") && http::list_contains(value, "websocket")) {
    head.websocket_upgrade = true;
  }
  return errc::ok;
}

/// After the blank line: Host and CONNECT target.
errc finish(request_head& head, std::string_view host_raw) {
  if (!host_raw.empty()) {
    auto a = parse_authority(host_raw, /*strip_embedded_ip=*/true);
    if (!a) {
      return errc::bad_host;
    }
    head.host = std::move(a->host);
    head.host_port = a->port;
  }
  if (head.method == "CONNECT") {
    if (ascii_istarts_with(head.target, "pagekite:")) {
      head.pagekite_tunnel = true;
      return errc::ok;
    }
    auto a = parse_authority(head.target, /*strip_embedded_ip=*/false);
    if (!a || !a->has_port) {
      return errc::bad_connect_target;
    }
    head.connect_host = std::move(a->host);
    head.connect_port = a->port;
  }
  return errc::ok;
}

}  // namespace

bool is_method_prefix(std::string_view token) noexcept {
  for (auto m : methods) {
    if (m.substr(0, token.size()) == token) {
      return true;
    }
  }
  return false;
}

result<head_parse> parse_request_head(std::string_view in, const http_limits& limits) {
  // Only the first max_head_bytes are ever looked at; a head not ending inside them is too
  // large once that many bytes are present (and need_more before).
  const std::string_view window = in.substr(0, limits.max_head_bytes);
  const auto incomplete = [&]() -> result<head_parse> {
    if (in.size() >= limits.max_head_bytes) {
      return errc::head_too_large;
    }
    return head_parse{};
  };

  head_parse out;
  request_head& head = out.head;
  std::string_view host_raw;
  std::size_t pos = 0;
  bool first = true;
  while (true) {
    const std::optional<http::line> next = http::next_line(window, pos);
    if (!next) {
      if (first) {  // quick reject on a partial request line
        std::string_view method;
        const auto s = scan_method(window, method);
        if (s == method_scan::bad_method || s == method_scan::bad_request_line) {
          return to_errc(s);
        }
      }
      return incomplete();
    }
    const std::string_view line = next->content;
    pos = next->next;
    if (first) {
      if (const errc e = parse_request_line(line, head); e != errc::ok) {
        return e;
      }
      first = false;
      continue;
    }
    if (line.empty()) {
      break;
    }
    if (const errc e = parse_header_line(line, head, host_raw, limits); e != errc::ok) {
      return e;
    }
  }
  head.head_length = pos;
  if (const errc e = finish(head, host_raw); e != errc::ok) {
    return e;
  }
  out.complete = true;
  return out;
}

}  // namespace kiteline::sniff
