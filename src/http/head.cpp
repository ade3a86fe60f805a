#include "http/head.hpp"

#include "core/text.hpp"

namespace kiteline::http {

std::optional<line> next_line(std::string_view text, std::size_t pos) noexcept {
  const std::size_t lf = text.find('\n', pos);
  if (lf == std::string_view::npos) {
    return std::nullopt;
  }
  return line{line_content(text.substr(pos, lf + 1 - pos)), lf + 1};
}

bool line_reader::next(std::string_view& out) noexcept {
  if (rest_.empty()) {
    return false;
  }
  const std::size_t lf = rest_.find('\n');
  if (lf == std::string_view::npos) {
    out = rest_;
    rest_ = {};
  } else {
    out = rest_.substr(0, lf);
    rest_.remove_prefix(lf + 1);
  }
  if (!out.empty() && out.back() == '\r') {
    out.remove_suffix(1);
  }
  return true;
}

std::size_t find_head_end(std::string_view buf) noexcept {
  // A blank line is an LF followed by either LF or CR LF.
  for (std::size_t i = buf.find('\n'); i != std::string_view::npos; i = buf.find('\n', i + 1)) {
    if (i + 1 < buf.size() && buf[i + 1] == '\n') {
      return i + 2;
    }
    if (i + 2 < buf.size() && buf[i + 1] == '\r' && buf[i + 2] == '\n') {
      return i + 3;
    }
  }
  return std::string_view::npos;
}

request_line split_request_line(std::string_view line) noexcept {
  request_line r;
  const std::size_t sp1 = line.find(' ');
  r.method = line.substr(0, sp1);
  if (sp1 == std::string_view::npos) {
    return r;
  }
  r.has_target = true;
  const std::string_view rest = line.substr(sp1 + 1);
  const std::size_t sp2 = rest.find(' ');
  r.target = rest.substr(0, sp2);
  if (sp2 != std::string_view::npos) {
    r.has_version = true;
    r.version = rest.substr(sp2 + 1);
  }
  return r;
}

bool is_request_target(std::string_view target, bool allow_obs_text) noexcept {
  if (target.empty()) {
    return false;
  }
  for (const char c : target) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f || (u >= 0x80 && !allow_obs_text)) {
      return false;
    }
  }
  return true;
}

std::optional<int> parse_http1_version(std::string_view version) noexcept {
  if (version.size() != 8 || !version.starts_with("HTTP/1.") || !is_ascii_digit(version[7])) {
    return std::nullopt;
  }
  return version[7] - '0';
}

field_line parse_field_line(std::string_view line) noexcept {
  field_line r;
  if (!line.empty() && is_ows(line.front())) {
    r.error = field_error::obs_fold;
    return r;
  }
  const std::size_t colon = line.find(':');
  if (colon == std::string_view::npos) {
    r.error = field_error::no_colon;
    return r;
  }
  r.f.name = line.substr(0, colon);
  if (!is_token(r.f.name)) {
    r.error = field_error::bad_name;
    r.f = {};
    return r;
  }
  r.f.value = trim_ows(line.substr(colon + 1));
  return r;
}

const field* find_field(std::span<const field> fields, std::string_view name) noexcept {
  for (const field& f : fields) {
    if (ascii_iequals(f.name, name)) {
      return &f;
    }
  }
  return nullptr;
}

bool list_contains(std::string_view list, std::string_view token) noexcept {
  while (true) {
    const std::size_t comma = list.find(',');
    if (ascii_iequals(trim_ows(list.substr(0, comma)), token)) {
      return true;
    }
    if (comma == std::string_view::npos) {
      return false;
    }
    list.remove_prefix(comma + 1);
  }
}

std::optional<std::uint64_t> parse_content_length(std::string_view value,
                                                  std::uint64_t max) noexcept {
  std::optional<std::uint64_t> result;
  while (true) {
    const std::size_t comma = value.find(',');
    const std::optional<std::uint64_t> n = parse_decimal(trim_ows(value.substr(0, comma)), max);
    if (!n || (result && *result != *n)) {
      return std::nullopt;
    }
    result = n;
    if (comma == std::string_view::npos) {
      return result;
    }
    value.remove_prefix(comma + 1);
  }
}

void transfer_codings::add(std::string_view value) noexcept {
  while (!after_chunked) {
    const std::size_t comma = value.find(',');
    const std::string_view coding = trim_ows(value.substr(0, comma));
    if (!coding.empty()) {
      after_chunked = chunked;
      chunked = ascii_iequals(coding, "chunked");
    }
    if (comma == std::string_view::npos) {
      break;
    }
    value.remove_prefix(comma + 1);
  }
}

}  // namespace kiteline::http
