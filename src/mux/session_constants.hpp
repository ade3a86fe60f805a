// Constants the mux::session files share: pagekite.py's conventional filler bodies and the
// PING token length cap.
#pragma once

#include <array>
#include <cstddef>

namespace kiteline::mux::session_detail {

inline constexpr std::size_t max_ping_chars = 64;

// Conventional filler bodies (§5.2, §5.4): immutable, so views into them never dangle.
inline constexpr std::array<std::byte, 1> filler_bang{std::byte{'!'}};
inline constexpr std::array<std::byte, 4> filler_bye{std::byte{'B'}, std::byte{'y'},
                                                     std::byte{'e'}, std::byte{'!'}};

}  // namespace kiteline::mux::session_detail
