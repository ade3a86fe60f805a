// ZChunks sender (spec §5.5): one zlib deflate stream per tunnel direction, one Z frame per chunk.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <vector>

#include "core/result.hpp"
#include "wire/chunk_headers.hpp"

namespace kiteline::wire {

/// pagekite.py compresses a stream chunk only when its payload exceeds this many bytes; control
/// chunks (NOOP, EOF, SKB, PING, PONG, ZRST) are always sent plain. The policy is the caller's.
inline constexpr std::size_t zchunk_min_payload = 65;

/// Compresses chunks into `SIZE Z ZSIZE [R] CRLF <zlib bytes>` frames (written without blanks:
/// "a5Z89\r\n"). One RFC 1950 stream per tunnel direction, Z_SYNC_FLUSH after every frame, so
/// only the first frame (and the first after reset()) carries the zlib header.
///
/// Ordering contract: after receiving a ZRST, call reset(); the NEXT frame we send, compressed
/// or not, must carry "R". encode() applies it to Z frames by itself; before sending any plain
/// frame (encode_chunk_head, make_pong, ...) pass `take_reset_flag()` as its reset_flag.
/// Owned by the tunnel's executor; not thread-safe.
class zchunk_encoder {
 public:
  /// `level`: zlib level 1..9 (pagekite.py: FE 1, BE 9). Throws std::bad_alloc if zlib cannot
  /// allocate its state (startup-time, never on untrusted input).
  explicit zchunk_encoder(int level);
  ~zchunk_encoder();
  zchunk_encoder(zchunk_encoder&&) noexcept;
  zchunk_encoder& operator=(zchunk_encoder&&) noexcept;
  zchunk_encoder(const zchunk_encoder&) = delete;
  zchunk_encoder& operator=(const zchunk_encoder&) = delete;

  /// Bytes of `out` that always suffice for encode() of a chunk with these headers and data.
  [[nodiscard]] static std::size_t frame_bound(const chunk_headers& h, std::size_t data_len) noexcept;

  /// Compresses the header block of `h` plus `data` into one complete Z frame at the start of
  /// `out`. Returns the frame length, 0 if `out` is smaller than frame_bound() or the headers
  /// are refused (see encode_header_block; nothing is consumed then), or errc::zlib_error if
  /// zlib fails (the stream is then restarted and the next frame marked "R").
  [[nodiscard]] result<std::size_t> encode(std::span<std::byte> out, const chunk_headers& h,
                                           std::span<const std::byte> data);

  /// The peer sent ZRST: start a new deflate stream and mark our next frame with "R".
  void reset() noexcept;

  /// True (once) if the next frame must carry "R"; clears the flag. Call it when the next frame
  /// is a plain one and pass the result as that frame's reset_flag.
  [[nodiscard]] bool take_reset_flag() noexcept;

  /// True if the next frame must carry "R" (without clearing the flag).
  [[nodiscard]] bool reset_pending() const noexcept { return reset_pending_; }

 private:
  struct deflater;
  struct deflater_deleter {
    void operator()(deflater* p) const noexcept;
  };
  bool deflate_span(std::span<const std::byte> in, std::span<std::byte> out, std::size_t& out_off,
                    bool flush) noexcept;

  std::unique_ptr<deflater, deflater_deleter> deflater_;
  std::vector<std::byte> block_;  // scratch for the header block, reused
  bool reset_pending_ = false;
};

/// When sending a stream compressed is worth its CPU (a deflate of a 1.3 KB HTTP response costs
/// tens of microseconds whatever it saves). A stream whose compressed chunk saves less than a
/// quarter of its bytes goes plain from then on: media, archives, TLS of https kites and
/// gzip-encoded bodies save nothing. New streams start compressed while recent chunks were worth
/// it; after `cold_after` misses in a row only one new stream in `probe_every` is tried, so a
/// tunnel of incompressible traffic stops paying a deflate per stream, and the first probe that
/// saves again turns compression back on for every new stream. Pure; one per tunnel.
class zchunk_policy {
 public:
  static constexpr unsigned cold_after = 4;
  static constexpr unsigned probe_every = 16;

  /// A stream opens: true if its chunks should be tried compressed.
  [[nodiscard]] bool start_stream() noexcept {
    if (misses_ < cold_after) {
      return true;
    }
    return ++probe_ % probe_every == 0;
  }

  /// Records one compressed chunk: `in` bytes (header block + data) became `out` bytes on the
  /// wire. Returns false if the stream should be sent plain from now on.
  [[nodiscard]] bool worth_it(std::size_t in, std::size_t out) noexcept {
    const bool ok = out <= in - in / 4;  // saved at least a quarter
    if (ok) {
      misses_ = 0;
      probe_ = 0;
    } else if (misses_ < cold_after) {
      ++misses_;
    }
    return ok;
  }

  [[nodiscard]] bool cold() const noexcept { return misses_ >= cold_after; }

 private:
  unsigned misses_ = 0;  // chunks in a row that saved less than a quarter (saturates)
  unsigned probe_ = 0;   // new streams seen while cold
};

}  // namespace kiteline::wire
