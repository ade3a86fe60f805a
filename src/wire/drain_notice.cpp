#include "wire/drain_notice.hpp"

#include "core/text.hpp"

namespace kiteline::wire {

std::string format_drain_notice(std::uint32_t grace_seconds) {
  std::string out = "NOOP: 1\r\n";
  out.append(drain_header).append(": ").append(std::to_string(grace_seconds)).append("\r\n\r\n!");
  return out;
}

std::optional<std::uint32_t> drain_notice_grace(std::span<const header_field> fields) noexcept {
  for (const auto& f : fields) {
    if (!ascii_iequals(f.name, drain_header)) {
      continue;
    }
    return parse_decimal<std::uint32_t>(trim_ows(f.value), 86400).value_or(0);
  }
  return std::nullopt;
}

}  // namespace kiteline::wire
