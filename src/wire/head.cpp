#include "wire/head.hpp"

namespace kiteline::wire {

result<head_scan> find_head_end(std::string_view buf, std::size_t max_head) noexcept {
  const std::size_t end = http::find_head_end(buf.substr(0, max_head));
  if (end != std::string_view::npos) {
    return head_scan{end};
  }
  if (buf.size() >= max_head) {
    return errc::head_too_large;
  }
  return head_scan{};
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
