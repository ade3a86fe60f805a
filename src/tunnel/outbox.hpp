// The tunnel's outbox: encoded chunks waiting for the tunnel writer, the ZChunk policy that
// decides which are compressed, the frame-density filler, and the outbox's memory limits.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <utility>

#include "core/memory.hpp"
#include "wire/chunk_headers.hpp"
#include "wire/frame_shaper.hpp"
#include "wire/zchunk.hpp"

namespace kiteline::tunnel {

/// Limits and encoding choices of one outbox (taken from link_options).
struct outbox_options {
  bool send_compressed = false;  ///< ZChunks allowed towards the peer
  int compression_level = 1;     ///< zlib level
  bool limit_frame_density = false;  ///< pagekite.py peer: NOOP filler (wire/frame_shaper)
  std::size_t high_water = 1024 * 1024;  ///< local reads pause at this many queued bytes
  std::size_t limit = 2 * 1024 * 1024;   ///< the tunnel reader holds off at this many
};

/// Encoded chunks of one tunnel, in the order they go out, plus the batch being written.
/// Owned by its link, used on the link's executor only. Appends never write to the tunnel:
/// the link's writer takes the queued bytes with begin_write() / end_write().
class outbox {
 public:
  explicit outbox(const outbox_options& o);

  /// Appends a chunk with a plain head and `data`. False (nothing appended) when the encoder
  /// refused the headers (CR/LF in a value): the caller must close the tunnel.
  [[nodiscard]] bool append_plain(const wire::chunk_headers& h, std::span<const std::byte> data);
  /// True when a chunk with these headers and `data_size` bytes is a candidate for a ZChunk
  /// (spec §5.5: stream data chunks over 64 bytes, while ZChunks are on).
  [[nodiscard]] bool may_compress(const wire::chunk_headers& h,
                                  std::size_t data_size) const noexcept;
  /// Appends a chunk of a stream, compressed unless `*no_compress` (nullptr: no such stream)
  /// or compression fails; sets `*no_compress` once compressing that stream stops paying off.
  /// Precondition: may_compress(h, data.size()). False as append_plain.
  [[nodiscard]] bool append_compressible(const wire::chunk_headers& h,
                                         std::span<const std::byte> data, bool* no_compress);
  /// Appends bytes that already form whole chunks (a control chunk, a ZRST).
  void append_encoded(std::span<const std::byte> chunks);
  /// Accounts one frame appended straight into queued() (see the stream pump's in-place reads)
  /// and adds the frame-density filler after it when one is due.
  void note_frame(std::size_t frame_bytes);

  /// A new stream: true when its chunks start plain although ZChunks are on (the ZChunk policy
  /// found recent streams not worth compressing).
  [[nodiscard]] bool start_stream_plain() noexcept { return zenc_ && !zpolicy_.start_stream(); }
  /// True when a plain stream's reads may be framed in place in queued(): nothing else shapes
  /// its chunks (no compression, no reset flag pending, no frame-density filler).
  [[nodiscard]] bool frames_in_place(bool no_compress) const noexcept {
    return !opts_.limit_frame_density && (!zenc_ || (no_compress && !zenc_->reset_pending()));
  }
  /// The "R" flag the next plain chunk head must carry (after our deflater was reset).
  [[nodiscard]] bool take_reset_flag() noexcept { return zenc_ ? zenc_->take_reset_flag() : false; }
  /// The peer reset its inflater (mux::reset_compressor): restart our deflater.
  void reset_compressor() {
    if (zenc_) {
      zenc_->reset();
    }
  }

  /// The queued bytes (whole chunks). The stream pump frames local reads straight into it.
  [[nodiscard]] core::byte_buffer& queued() noexcept { return out_; }
  [[nodiscard]] std::size_t size() const noexcept { return out_.size(); }
  [[nodiscard]] bool empty() const noexcept { return out_.empty(); }
  /// Queued bytes plus those being written.
  [[nodiscard]] std::size_t bytes() const noexcept { return out_.size() + writing_.size(); }
  [[nodiscard]] bool writing() const noexcept { return !writing_.empty(); }

  /// Takes every queued byte as the batch to write; appends go on behind it. Precondition: no
  /// batch in flight and !empty(). The span stays valid until end_write().
  [[nodiscard]] std::span<const std::byte> begin_write() noexcept {
    std::swap(out_, writing_);
    return {writing_.data(), writing_.size()};
  }
  /// The batch was written (or the write failed and the tunnel closes).
  void end_write() noexcept;

  /// Bytes the outbox can take before its high-water mark (0 at or above it).
  [[nodiscard]] std::size_t room() const noexcept {
    return out_.size() < opts_.high_water ? opts_.high_water - out_.size() : 0;
  }
  [[nodiscard]] bool above_high_water() const noexcept { return out_.size() >= opts_.high_water; }
  [[nodiscard]] bool below_high_water() const noexcept { return out_.size() < opts_.high_water; }
  /// The outbox is at its limit: the tunnel reader holds off until the writer drains it.
  [[nodiscard]] bool full() const noexcept { return out_.size() >= limit_; }
  /// The limit in force (a tunnel on probation has a smaller one).
  void set_limit(std::size_t limit) noexcept { limit_ = limit; }

  /// Gives back the memory of both buffers (call when the tunnel went quiet).
  void release() noexcept;

 private:
  outbox_options opts_;
  core::byte_buffer out_;      // encoded chunks waiting for the writer
  core::byte_buffer writing_;  // being written; empty when no write is in flight
  std::optional<wire::zchunk_encoder> zenc_;
  wire::zchunk_policy zpolicy_;  // which streams are worth compressing
  wire::frame_density density_;
  std::size_t limit_;
};

}  // namespace kiteline::tunnel
