// The relay's drain notice (issue 22 item 4): its bytes, how the frame decoder sees it (a NOOP
// chunk whose one extra line is X-PageKite-Draining), and what the connector reads from it.
#include <gtest/gtest.h>

#include <array>
#include <string>
#include <vector>

#include "wire/chunk_encoder.hpp"
#include "wire/drain_notice.hpp"
#include "wire/frame_decoder.hpp"

namespace kiteline::wire {
namespace {

TEST(DrainNotice, Bytes) {
  EXPECT_EQ(format_drain_notice(30), "NOOP: 1\r\nX-PageKite-Draining: 30\r\n\r\n!");
  EXPECT_EQ(format_drain_notice(0), "NOOP: 1\r\nX-PageKite-Draining: 0\r\n\r\n!");
  EXPECT_EQ(frame_control_payload(format_drain_notice(30)),
            "25\r\nNOOP: 1\r\nX-PageKite-Draining: 30\r\n\r\n!");
}

// Fed through the decoder at every split point: one NOOP chunk, the notice among its extra
// lines, the grace read back.
TEST(DrainNotice, DecodesAsANoopChunkAtEverySplit) {
  const std::string framed = frame_control_payload(format_drain_notice(45));
  const auto bytes = std::as_bytes(std::span(framed));
  for (std::size_t split = 0; split <= bytes.size(); ++split) {
    frame_decoder dec(frame_limits{}, false);
    std::optional<std::uint32_t> grace;
    bool noop = false;
    std::size_t chunks = 0;
    for (auto part : {bytes.first(split), bytes.subspan(split)}) {
      for (;;) {
        const auto s = dec.feed(part);
        part = part.subspan(s.consumed);
        ASSERT_NE(s.event, frame_event::error) << split << ": " << s.error.message();
        if (s.event == frame_event::headers) {
          ++chunks;
          noop = dec.headers().noop;
          grace = drain_notice_grace(dec.headers().extra);
          ASSERT_FALSE(dec.headers().sid.has_value());
        }
        if (s.event == frame_event::need_more) {
          break;
        }
      }
    }
    EXPECT_EQ(chunks, 1U) << split;
    EXPECT_TRUE(noop) << split;
    EXPECT_EQ(grace, 45U) << split;
  }
}

TEST(DrainNotice, GraceFromFields) {
  using fields = std::vector<header_field>;
  EXPECT_EQ(drain_notice_grace(fields{}), std::nullopt);
  EXPECT_EQ(drain_notice_grace(fields{{"X-PageKite-OK", "http:a.test:x"}}), std::nullopt);
  EXPECT_EQ(drain_notice_grace(fields{{"X-PageKite-Draining", "30"}}), 30U);
  EXPECT_EQ(drain_notice_grace(fields{{"x-pagekite-draining", " 7 "}}), 7U);
  EXPECT_EQ(drain_notice_grace(fields{{"X-PageKite-OK", "x"}, {"X-PageKite-Draining", "86400"}}),
            86400U);
  // A bad value still means the relay is going: no grace to count on.
  for (const char* bad : {"", "-1", "86401", "30s", "0x1e", "99999999999999999999"}) {
    EXPECT_EQ(drain_notice_grace(fields{{"X-PageKite-Draining", bad}}), 0U) << bad;
  }
}

}  // namespace
}  // namespace kiteline::wire
