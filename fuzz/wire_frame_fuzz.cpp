// libFuzzer target for wire::frame_decoder (+ encode/decode round trip of every decoded header).
//
// Input: byte 0 = options (bit 0: accept_compressed; bits 1-3: read-size pattern; bit 4: small
// limits), the rest = tunnel bytes after the handshake heads.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string_view>
#include <vector>

#include "wire/chunk_encoder.hpp"
#include "wire/frame_decoder.hpp"

namespace {

using kiteline::wire::chunk_headers;
using kiteline::wire::frame_decoder;
using kiteline::wire::frame_event;
using kiteline::wire::frame_limits;

void check(bool ok) {
  if (!ok) {
    std::abort();
  }
}

bool same_headers(const chunk_headers& a, const chunk_headers& b) {
  if (a.noop != b.noop || a.sid != b.sid || a.proto != b.proto || a.host != b.host ||
      a.port != b.port || a.rip != b.rip || a.rport != b.rport || a.rtls != b.rtls ||
      a.eof != b.eof || a.ping != b.ping || a.pong != b.pong || a.skb != b.skb ||
      a.spd != b.spd || a.zrst != b.zrst || a.quota != b.quota ||
      a.extra.size() != b.extra.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.extra.size(); ++i) {
    if (a.extra[i].name != b.extra[i].name || a.extra[i].value != b.extra[i].value) {
      return false;
    }
  }
  return true;
}

bool has_crlf(std::string_view s) { return s.find_first_of("\r\n") != std::string_view::npos; }

// Fields the encoder refuses (it never writes CR/LF into a header line).
bool encodable(const chunk_headers& h) {
  if (has_crlf(h.proto) || has_crlf(h.host) || has_crlf(h.rip) ||
      (h.ping && has_crlf(*h.ping)) || (h.pong && has_crlf(*h.pong))) {
    return false;
  }
  return std::none_of(h.extra.begin(), h.extra.end(),
                      [](const auto& f) { return has_crlf(f.name) || has_crlf(f.value); });
}

// Encodes `h` with `data_len` bytes of data, decodes it again and compares the headers.
void round_trip(const chunk_headers& h, std::size_t data_len) {
  std::vector<std::byte> buf(kiteline::wire::chunk_head_size_bound(h) + data_len);
  const std::size_t n = kiteline::wire::encode_chunk_head(buf, h, data_len);
  if (!encodable(h)) {
    check(n == 0);
    return;
  }
  check(n > 0 && n <= kiteline::wire::chunk_head_size_bound(h));
  std::fill(buf.begin() + static_cast<std::ptrdiff_t>(n), buf.end(), std::byte{'d'});
  frame_limits big;  // the re-encoded block may grow ("NOOP:" -> "NOOP: 1")
  big.max_header_bytes = 1 << 20;
  big.max_header_lines = 1 << 16;
  big.max_sid_digits = 10;
  frame_decoder again(big, false);
  const auto s = again.feed(buf);
  check(s.event == frame_event::headers);
  check(same_headers(h, again.headers()));
  check(again.data_remaining() == data_len);
  if (data_len > 0) {
    const auto d = again.feed(std::span<const std::byte>(buf).subspan(s.consumed));
    check(d.event == frame_event::data && again.chunk_complete());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  const unsigned opts = data[0];
  const std::span<const std::byte> input(reinterpret_cast<const std::byte*>(data + 1), size - 1);
  frame_limits limits;
  if ((opts & 0x10U) != 0) {
    limits.max_frame_size = 4096;
    limits.max_size_line = 12;
    limits.max_header_bytes = 128;
    limits.max_header_lines = 4;
    limits.max_sid_digits = 3;
  }
  frame_decoder dec(limits, (opts & 1U) != 0);
  static constexpr std::size_t patterns[8] = {SIZE_MAX, 1, 2, 3, 7, 64, 1000, 16384};
  const std::size_t piece = patterns[(opts >> 1U) & 7U];

  std::size_t pos = 0;
  bool in_chunk = false;
  std::uint64_t expect_data = 0;
  while (pos < input.size()) {
    auto in = input.subspan(pos, std::min(piece, input.size() - pos));
    pos += in.size();
    for (;;) {
      const auto s = dec.feed(in);
      check(s.consumed <= in.size());
      const auto* piece_begin = in.data();
      in = in.subspan(s.consumed);
      switch (s.event) {
        case frame_event::need_more:
          check(in.empty());
          break;
        case frame_event::headers:
          check(!in_chunk);
          round_trip(dec.headers(), 0);
          round_trip(dec.headers(), 3);
          in_chunk = !dec.chunk_complete();
          expect_data = dec.data_remaining();
          break;
        case frame_event::data: {
          check(in_chunk && !dec.data().empty());
          check(dec.data().size() <= expect_data);
          expect_data -= dec.data().size();
          check(expect_data == dec.data_remaining());
          if (!dec.frame_compressed()) {  // plain data must be a view into this read
            check(dec.data().data() >= piece_begin &&
                  dec.data().data() + dec.data().size() <= in.data());
          }
          in_chunk = !dec.chunk_complete();
          break;
        }
        case frame_event::corrupt_frame:
          check(!in_chunk && !dec.fatal());
          break;
        case frame_event::error:
          check(dec.fatal() && s.error);
          return 0;
      }
      if (s.event == frame_event::need_more) {
        break;
      }
    }
  }
  check(!dec.at_frame_boundary() || !in_chunk);
  return 0;
}
