// Encoder of plain PageKite chunk heads (spec §5.1-§5.3) and the canonical control chunks.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "wire/chunk_headers.hpp"

namespace kiteline::wire {

/// Exact length of the header block of `h`: every header line plus the blank line ("\r\n");
/// a block without any header line is "\r\n\r\n" (pagekite.py needs that separator).
/// Does not validate; see encode_header_block.
[[nodiscard]] std::size_t header_block_size(const chunk_headers& h) noexcept;

/// Writes the header lines of `h` and the blank line into `out`. Order: NOOP, SID, Proto, Host,
/// Port, RIP, RPort, RTLS, EOF, PING, PONG, SKB, SPD, ZRST, Quota, then `extra` in order; each
/// as "Name: value\r\n" with exactly one space; EOF as "1R", "1W" or "1WR"; NOOP/RTLS/ZRST as
/// "1". Absent fields (nullopt, false, empty view) are skipped. Without any field the block is
/// "\r\n\r\n", so the payload always contains the "\r\n\r\n" separator.
/// Returns the bytes written, or 0 if `out` is too small or a field would break the framing:
/// a CR or LF in any name or value, or a ':' in an `extra` name. Pure; any thread.
[[nodiscard]] std::size_t encode_header_block(std::span<std::byte> out,
                                              const chunk_headers& h) noexcept;

/// Upper bound of an encoded chunk head for these headers (size line incl. a possible "R" +
/// header lines + blank line).
[[nodiscard]] std::size_t chunk_head_size_bound(const chunk_headers& h) noexcept;

/// Writes "<hexlen>[R]\r\n<header lines>\r\n" into `out`; hexlen (lower-case hex) = header
/// block length + data_len. The caller then writes the `data_len` payload bytes itself
/// (gather-write: the payload never passes through the encoder).
/// `reset_flag`: append "R" to the size line (the first frame after we reset our deflater on
/// a ZRST; see zchunk_encoder::take_reset_flag).
/// Returns the bytes written, or 0 if `out` is too small or encode_header_block refuses `h`.
/// Never produces a zero-length frame (the blank line is always there).
[[nodiscard]] std::size_t encode_chunk_head(std::span<std::byte> out, const chunk_headers& h,
                                            std::size_t data_len, bool reset_flag = false) noexcept;

/// A complete small control chunk (size line + headers + filler), ready to write.
class control_chunk {
 public:
  static constexpr std::size_t capacity = 192;
  [[nodiscard]] std::span<const std::byte> bytes() const noexcept {
    return std::span<const std::byte>(buf_).first(size_);
  }
  [[nodiscard]] std::string_view text() const noexcept {
    return {reinterpret_cast<const char*>(buf_.data()), size_};
  }

 private:
  friend control_chunk make_control_chunk(const chunk_headers& h, std::string_view filler,
                                          bool reset_flag) noexcept;
  std::array<std::byte, capacity> buf_{};
  std::size_t size_ = 0;
};

/// Encodes `h` plus `filler` data into a control_chunk. Empty result (size 0) only if it does
/// not fit `control_chunk::capacity` or the headers are refused (see encode_header_block).
[[nodiscard]] control_chunk make_control_chunk(const chunk_headers& h, std::string_view filler,
                                               bool reset_flag = false) noexcept;

/// `NOOP: 1\r\nPING: <value>\r\n\r\n!`. `value` is cut at 64 chars and at the first CR/LF.
[[nodiscard]] control_chunk make_ping(std::string_view value, bool reset_flag = false) noexcept;

/// `NOOP: 1\r\nPONG: <value>\r\n\r\n!` echoing a received PING value: only its first 64 chars
/// (as pagekite.py) and never past a CR or LF (pagekite.py splits lines on lone ones too).
[[nodiscard]] control_chunk make_pong(std::string_view ping_value,
                                      bool reset_flag = false) noexcept;

/// `NOOP: 1\r\nSID: <sid>\r\nSKB: <kib>\r\n\r\n` (no filler): flow-control ack, spec §5.7.
[[nodiscard]] control_chunk make_skb_ack(sid_t sid, std::uint64_t kib,
                                         bool reset_flag = false) noexcept;

/// `SID: <sid>\r\nEOF: 1R|1W|1WR\r\n\r\nBye!`: half or full close of a stream, spec §5.6.
[[nodiscard]] control_chunk make_eof(sid_t sid, eof_flags flags, bool reset_flag = false) noexcept;

/// `NOOP: 1\r\nZRST: 1\r\n\r\n!`: "restart your compressor" after a corrupt Z frame, spec §5.5.
[[nodiscard]] control_chunk make_zrst(bool reset_flag = false) noexcept;

/// Frames a control chunk whose header block and data are already text, such as the handshake
/// payloads (format_kite_round_payload, format_result_payload, whose X-PageKite-* lines do not
/// fit chunk_headers): returns "<hexlen>\r\n" + `body`, hexlen = body.size() in lower-case
/// hex. `body` is copied as is (the caller vouches that it holds the "\r\n\r\n" separator);
/// these chunks are rare and small, so the copy costs nothing. Pure; any thread.
[[nodiscard]] std::string frame_control_payload(std::string_view body);

}  // namespace kiteline::wire
