// Size limits of the chunk framing decoder (spec §5.1, §11.3); passed in by the tunnel owner.
#pragma once

#include <cstddef>

namespace kiteline::wire {

/// Caps applied by `frame_decoder` to untrusted tunnel bytes. Exceeding one is a fatal framing
/// error (the tunnel must be closed), never UB. Defaults follow spec §5.1/§11.3: frames up to
/// 1 MiB, header blocks that fit libpagekite's 16 KiB parser buffer, SIDs of <= 8 digits.
struct frame_limits {
  /// Cap on SIZE (uncompressed payload) and ZSIZE (compressed bytes) of one frame. A length
  /// near 2^64 is refused without overflow.
  std::size_t max_frame_size = std::size_t{1} << 20;
  /// Bytes of the size line before its CRLF ("3f8aZ3f96R" is 10).
  std::size_t max_size_line = 40;
  /// Bytes of a chunk header block, including the terminating "\r\n\r\n".
  std::size_t max_header_bytes = 16 * 1024;
  /// Header lines of one chunk (known names, X-PageKite* lines and unknown names together).
  std::size_t max_header_lines = 256;
  /// Decimal digits of a SID value. A value that does not fit sid_t is refused as well.
  std::size_t max_sid_digits = 8;
  /// Cap on SIZE of a Z frame (what it inflates to), and on its ZSIZE (compressed bytes) plus
  /// zframe_slack. A Z frame is gathered whole and inflated whole, so this bounds what one
  /// partial Z frame holds. Known senders stay far below: kiteline frames at most 16 KiB of data,
  /// pagekite.py at most 51,417 (spec §5.6).
  std::size_t max_zframe_size = 64 * 1024;
  /// Deflate may grow incompressible data a little (stored blocks, the sync flush marker).
  std::size_t zframe_slack = 1024;
};

/// Longest PING value we send and the number of PING characters we echo in a PONG (spec §5.3).
inline constexpr std::size_t max_ping_value = 64;

}  // namespace kiteline::wire
