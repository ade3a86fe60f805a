// The relay's drain notice: a NOOP control chunk telling a connector that this relay is going
// away (SIGTERM, --grace_seconds), so it moves its kites to its other relays at once.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "wire/chunk_headers.hpp"

namespace kiteline::wire {

/// The header the notice carries. PageKite has no "going away" chunk; pagekite.py's connector
/// reads a NOOP chunk's Quota/QConns/QDays and a fixed list of X-PageKite-* result and
/// capability lines and ignores every other line, so to it this chunk is a keepalive.
inline constexpr std::string_view drain_header = "X-PageKite-Draining";

/// The notice's payload, to frame with frame_control_payload(): "NOOP: 1\r\n
/// X-PageKite-Draining: <grace_seconds>\r\n\r\n!". `grace_seconds`: how long the relay lets
/// the streams in flight run before it closes the tunnel.
[[nodiscard]] std::string format_drain_notice(std::uint32_t grace_seconds);

/// Connector side: the grace announced by a drain notice among a NOOP chunk's X-PageKite*
/// lines, or nullopt when none of `fields` is one. A value that is not a decimal number up to
/// 86400 counts as 0 (the notice still holds: the relay is going).
[[nodiscard]] std::optional<std::uint32_t> drain_notice_grace(
    std::span<const header_field> fields) noexcept;

}  // namespace kiteline::wire
