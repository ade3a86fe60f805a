#include "wire/frame_shaper.hpp"

namespace kiteline::wire {

std::size_t filler_after_frame(frame_density& d, std::size_t frame_bytes) noexcept {
  d.segment_bytes += frame_bytes;
  ++d.segment_frames;
  if (d.segment_bytes >= density_segment_min_bytes) {
    d = {};
    return 0;
  }
  if (d.segment_frames < density_segment_max_frames) {
    return 0;
  }
  const std::size_t fill = density_segment_min_bytes - d.segment_bytes;
  d = {};
  return fill;
}

}  // namespace kiteline::wire
