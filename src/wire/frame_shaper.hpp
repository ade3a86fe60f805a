// The frame-density filler for a pagekite.py peer: where NOOP filler frames go so that no tunnel
// read of pagekite.py holds more frames than it can handle.
#pragma once

#include <cstddef>

namespace kiteline::wire {

/// pagekite.py reads the tunnel 50,393 bytes at a time and handles at most 150 frames per read
/// (beyond, it fails with "BugFoundError: Too much data"). The sent byte stream is cut into
/// segments of at least segment_min_bytes holding at most segment_max_frames frames each: when
/// a segment collects that many frames before reaching the size, a NOOP frame whose (ignored)
/// body fills it up closes it. A read then spans at most two segments plus one partial frame:
/// <= 2 * 71 + 1 frames.
inline constexpr std::size_t density_segment_min_bytes = 50400;
inline constexpr std::size_t density_segment_max_frames = 70;
/// The byte each filler body is made of.
inline constexpr char density_filler_byte = '!';

/// Where the sent byte stream is in its current segment.
struct frame_density {
  std::size_t segment_bytes = 0;
  std::size_t segment_frames = 0;
};

/// Accounts one frame of `frame_bytes` bytes just queued for the tunnel. Returns the body size
/// of the NOOP filler frame to queue right after it (0: none). The filler frame itself is not
/// accounted: it closes the segment. Pure; any thread.
[[nodiscard]] std::size_t filler_after_frame(frame_density& d, std::size_t frame_bytes) noexcept;

}  // namespace kiteline::wire
