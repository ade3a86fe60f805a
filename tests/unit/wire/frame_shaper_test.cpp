// The frame-density filler (pagekite.py's 150-frames-per-read limit).
#include <gtest/gtest.h>

#include <cstddef>
#include <vector>

#include "wire/frame_shaper.hpp"

namespace kiteline::wire {
namespace {

TEST(FrameShaper, SmallFramesGetFillerAtTheFrameLimit) {
  frame_density d;
  for (std::size_t i = 1; i < density_segment_max_frames; ++i) {
    EXPECT_EQ(filler_after_frame(d, 30), 0U) << i;
  }
  // The 70th frame closes the segment: the filler tops it up to the minimum size.
  EXPECT_EQ(filler_after_frame(d, 30), density_segment_min_bytes - 70 * 30);
  EXPECT_EQ(d.segment_bytes, 0U);
  EXPECT_EQ(d.segment_frames, 0U);
  // A new segment starts.
  EXPECT_EQ(filler_after_frame(d, 30), 0U);
  EXPECT_EQ(d.segment_frames, 1U);
}

TEST(FrameShaper, BigFramesNeverNeedFiller) {
  frame_density d;
  for (int i = 0; i < 1000; ++i) {
    EXPECT_EQ(filler_after_frame(d, 16 * 1024), 0U) << i;
  }
  frame_density one;
  EXPECT_EQ(filler_after_frame(one, density_segment_min_bytes), 0U);
  EXPECT_EQ(one.segment_bytes, 0U);
}

TEST(FrameShaper, SizeReachedBeforeFrameLimitResetsWithoutFiller) {
  frame_density d;
  EXPECT_EQ(filler_after_frame(d, density_segment_min_bytes - 10), 0U);
  EXPECT_EQ(filler_after_frame(d, 10), 0U);  // exactly the minimum: segment closed
  EXPECT_EQ(d.segment_bytes, 0U);
  EXPECT_EQ(d.segment_frames, 0U);
}

// Whatever the frame sizes, any window of 50,393 bytes of the shaped stream (pagekite.py's
// read size) starts in at most two segments plus one partial frame: at most 2 * 71 + 1 frames.
TEST(FrameShaper, EveryReadWindowStaysUnderPagekiteLimit) {
  for (std::size_t size : {1U, 7U, 20U, 64U, 700U, 719U, 720U, 721U, 5000U, 60000U}) {
    frame_density d;
    std::vector<std::size_t> starts;  // byte offset of every frame on the wire
    std::size_t at = 0;
    for (int i = 0; i < 2000; ++i) {
      starts.push_back(at);
      at += size;
      const std::size_t fill = filler_after_frame(d, size);
      if (fill > 0) {
        starts.push_back(at);
        at += fill + 20;  // NOOP head plus body
      }
    }
    constexpr std::size_t read = 50393;
    std::size_t worst = 0;
    for (std::size_t i = 0, j = 0; i < starts.size(); ++i) {
      while (j < starts.size() && starts[j] < starts[i] + read) {
        ++j;
      }
      worst = std::max(worst, j - i);
    }
    EXPECT_LE(worst, 150U) << "frame size " << size;
  }
}

}  // namespace
}  // namespace kiteline::wire
