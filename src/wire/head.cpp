#include "wire/head.hpp"

namespace kiteline::wire {

result<head_scan> find_head_end(std::string_view buf, std::size_t max_head) noexcept {
  const std::string_view window = buf.substr(0, max_head);
  // A blank line is an LF followed by either LF or CR LF.
  for (std::size_t i = window.find('\n'); i != std::string_view::npos;
       i = window.find('\n', i + 1)) {
    if (i + 1 < window.size() && window[i + 1] == '\n') {
      return head_scan{i + 2};
    }
    if (i + 2 < window.size() && window[i + 1] == '\r' && window[i + 2] == '\n') {
      return head_scan{i + 3};
    }
  }
  if (buf.size() >= max_head) {
    return errc::head_too_large;
  }
  return head_scan{};
}

bool line_reader::next(std::string_view& line) noexcept {
  if (rest_.empty()) {
    return false;
  }
  const std::size_t lf = rest_.find('\n');
  if (lf == std::string_view::npos) {
    line = rest_;
    rest_ = {};
  } else {
    line = rest_.substr(0, lf);
    rest_.remove_prefix(lf + 1);
  }
  if (!line.empty() && line.back() == '\r') {
    line.remove_suffix(1);
  }
  return true;
}

std::optional<header_field> split_header_line(std::string_view line) noexcept {
  const std::size_t colon = line.find(':');
  if (colon == std::string_view::npos) {
    return std::nullopt;
  }
  header_field f{trim_ows_and_eol(line.substr(0, colon)), trim_ows_and_eol(line.substr(colon + 1))};
  if (f.name.empty()) {
    return std::nullopt;
  }
  return f;
}

}  // namespace kiteline::wire
