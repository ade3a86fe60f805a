#include "connector/static_site_http.hpp"

#include "http/head.hpp"
#include "wire/reject.hpp"

#include <algorithm>
#include <array>
#include <cerrno>

namespace kiteline::connector::site_http {

parse_status parse_request(std::string_view head, std::size_t max_headers, request& req) {
  http::line_reader lines(head);
  std::string_view first;
  lines.next(first);
  const http::request_line rl = http::split_request_line(first);
  const std::optional<int> minor = http::parse_http1_version(rl.version);
  if (!rl.has_version || !http::is_token(rl.method) ||
      !http::is_request_target(rl.target, /*allow_obs_text=*/true) || !minor) {
    return parse_status::bad;
  }
  req.method = rl.method;
  req.target = rl.target;
  req.minor = *minor;
  std::string_view line;
  while (lines.next(line)) {
    if (line.empty()) {
      break;
    }
    if (req.headers.size() >= max_headers) {
      return parse_status::too_many_headers;
    }
    const http::field_line fl = http::parse_field_line(line);
    if (fl.error != http::field_error::none) {  // obs-fold, no colon, or a bad name
      return parse_status::bad;
    }
    req.headers.emplace_back(fl.f.name, fl.f.value);
  }
  return parse_status::ok;
}

std::string_view reason(int status) noexcept {
  switch (status) {
    case 200: return "OK";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 416: return "Range Not Satisfiable";
    case 431: return "Request Header Fields Too Large";
    default: return "Internal Server Error";
  }
}

std::string url_encode(std::string_view s) {
  static constexpr std::string_view hex = "0123456789ABCDEF";
  std::string r;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      r.push_back(c);
    } else {
      r.push_back('%');
      r.push_back(hex[u >> 4]);
      r.push_back(hex[u & 0xf]);
    }
  }
  return r;
}

std::string http_date(std::time_t t) {
  static constexpr std::array<std::string_view, 7> days = {"Sun", "Mon", "Tue", "Wed",
                                                           "Thu", "Fri", "Sat"};
  static constexpr std::array<std::string_view, 12> months = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::tm tm{};
  if (gmtime_r(&t, &tm) == nullptr) {
    return "Thu, 01 Jan 1970 00:00:00 GMT";
  }
  auto two = [](int v) {
    std::string s = std::to_string(v);
    return s.size() < 2 ? "0" + s : s;
  };
  std::string r(days[static_cast<std::size_t>(tm.tm_wday) % 7]);
  r += ", " + two(tm.tm_mday) + " ";
  r += months[static_cast<std::size_t>(tm.tm_mon) % 12];
  r += " " + std::to_string(tm.tm_year + 1900) + " " + two(tm.tm_hour) + ":" + two(tm.tm_min) +
       ":" + two(tm.tm_sec) + " GMT";
  return r;
}

std::string_view content_type(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), ascii_lower);
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 21> types = {{
      {".html", "text/html; charset=utf-8"},
      {".htm", "text/html; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".json", "application/json"},
      {".txt", "text/plain; charset=utf-8"},
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"},
      {".gif", "image/gif"},
      {".svg", "image/svg+xml"},
      {".ico", "image/x-icon"},
      {".pdf", "application/pdf"},
      {".wasm", "application/wasm"},
      {".mp4", "video/mp4"},
      {".webm", "video/webm"},
      {".xml", "application/xml"},
      {".zip", "application/zip"},
      {".tar", "application/x-tar"},
      {".gz", "application/gzip"},
      {".tgz", "application/gzip"},
  }};
  for (const auto& [e, t] : types) {
    if (ext == e) {
      return t;
    }
  }
  return "application/octet-stream";
}

target_path decode_target(std::string_view t) {
  target_path r;
  if (t.starts_with("http://") || t.starts_with("https://")) {  // absolute-form: use its path
    const std::size_t authority = t.find("//") + 2;
    const std::size_t slash = t.find('/', authority);
    t = slash == std::string_view::npos ? std::string_view("/") : t.substr(slash);
  }
  if (t.empty() || t.front() != '/') {
    return r;  // not origin-form ("*", "etc/passwd", "C:\...")
  }
  t = t.substr(0, t.find('#'));
  const std::size_t q = t.find('?');
  if (q != std::string_view::npos) {
    r.query = t.substr(q);
    t = t.substr(0, q);
  }
  std::string decoded;
  for (std::size_t i = 0; i < t.size(); ++i) {
    char c = t[i];
    if (c == '%') {
      if (i + 2 >= t.size()) {
        return r;
      }
      const int hi = hex_digit_value(t[i + 1]);
      const int lo = hex_digit_value(t[i + 2]);
      if (hi < 0 || lo < 0) {
        return r;
      }
      c = static_cast<char>(hi * 16 + lo);
      if (c == '/' || c == '\\') {
        return r;  // encoded separators
      }
      i += 2;
    }
    if (c == '\0' || c == '\\') {
      return r;
    }
    decoded.push_back(c);
  }
  r.trailing_slash = decoded.ends_with('/');
  std::string_view d = decoded;
  while (!d.empty()) {
    const std::size_t slash = d.find('/');
    const std::string_view seg = d.substr(0, slash);
    d.remove_prefix(slash == std::string_view::npos ? d.size() : slash + 1);
    if (seg == "..") {
      return r;
    }
    if (!seg.empty() && seg != ".") {
      r.segments.emplace_back(seg);
    }
  }
  r.k = target_path::kind::ok;
  return r;
}

bool inside(const fs::path& root, const fs::path& p) {
  const auto [ri, pi] = std::mismatch(root.begin(), root.end(), p.begin(), p.end());
  return ri == root.end();
}

byte_range parse_range(std::string_view v, std::uint64_t size) {
  // A Range number: core's parse_decimal capped at 19 digits, as before (so a 20-digit number,
  // even one that fits in 64 bits, makes the header ignored).
  const auto parse_u64 = [](std::string_view s) {
    return s.size() > 19 ? std::nullopt : parse_decimal<std::uint64_t>(s);
  };
  byte_range r;
  v = trim_ows(v);
  const std::size_t eq = v.find('=');
  if (eq == std::string_view::npos || !ascii_iequals(trim_ows(v.substr(0, eq)), "bytes")) {
    return r;  // unknown unit: ignored
  }
  const std::string_view spec = trim_ows(v.substr(eq + 1));
  const std::size_t dash = spec.find('-');
  if (spec.find(',') != std::string_view::npos || dash == std::string_view::npos) {
    return r;  // several ranges or malformed: ignored (full 200)
  }
  const std::string_view a = trim_ows(spec.substr(0, dash));
  const std::string_view b = trim_ows(spec.substr(dash + 1));
  if (a.empty()) {  // suffix: -n
    const std::optional<std::uint64_t> n = parse_u64(b);
    if (!n) {
      return r;
    }
    if (*n == 0 || size == 0) {
      r.k = byte_range::kind::unsatisfiable;
      return r;
    }
    r.k = byte_range::kind::range;
    r.length = std::min(*n, size);
    r.first = size - r.length;
    return r;
  }
  const std::optional<std::uint64_t> first = parse_u64(a);
  const std::optional<std::uint64_t> last = b.empty() ? std::optional<std::uint64_t>(UINT64_MAX)
                                                      : parse_u64(b);
  if (!first || !last || *last < *first) {
    return r;  // invalid range-spec: ignored
  }
  if (*first >= size) {
    r.k = byte_range::kind::unsatisfiable;
    return r;
  }
  r.k = byte_range::kind::range;
  r.first = *first;
  r.length = std::min(*last, size - 1) - *first + 1;
  return r;
}

response error_response(int status, bool close) {
  response r;
  r.status = status;
  r.headers = "Content-Type: text/html; charset=utf-8\r\n";
  r.body = wire::format_folder_error_body(std::to_string(status) + " " +
                                          std::string(reason(status)));
  r.close = close;
  return r;
}

}  // namespace kiteline::connector::site_http
