// Push decoder of the PageKite chunk framing (spec §5.1-§5.5): size lines, header blocks, ZChunks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <system_error>
#include <vector>

#include "wire/chunk_headers.hpp"
#include "wire/limits.hpp"

namespace kiteline::wire {

/// What one `frame_decoder::feed` call produced.
enum class frame_event {
  need_more,      ///< every byte given was consumed; feed more bytes
  headers,        ///< a chunk's header block is complete: see headers(), chunk_complete()
  data,           ///< a piece of the current chunk's data: see data(), chunk_complete()
  corrupt_frame,  ///< a Z frame did not inflate (errc::zlib_error); NOT fatal: reply ZRST and go on
  error,          ///< fatal framing error: close the tunnel (fatal() is true)
};

/// Result of one `feed` call: bytes of the input consumed, the event, and its error (set only
/// for `corrupt_frame` and `error`).
struct decode_step {
  std::size_t consumed = 0;
  frame_event event = frame_event::need_more;
  std::error_code error;
};

/// Sans-I/O decoder of one tunnel direction after the handshake heads.
///
/// Driver loop (call on the tunnel's executor; the decoder is not thread-safe):
/// ```
///   for (;;) {
///     auto s = dec.feed(in);
///     in = in.subspan(s.consumed);
///     handle(s);                       // headers(), data(), chunk_complete() ...
///     if (s.event == frame_event::need_more || s.event == frame_event::error) break;
///   }
/// ```
/// Keep calling feed() until it returns `need_more`, even once `in` is empty: the `data` event
/// of a compressed frame follows its `headers` event with `consumed == 0` (the whole frame has
/// been consumed by then). `need_more` always means the whole input was consumed; partial size
/// lines and header blocks are buffered internally (bounded by the limits), so the caller never
/// keeps old bytes.
///
/// Accepted syntax (decisions where pagekite.py is lenient): the size line is
/// `HEX ["Z" HEX] ["R"] "\r\n"`, hex digits in either case, leading zeros allowed, `Z` and `R`
/// upper-case only, no blanks and no `0x`. Lines end in "\r\n"; a lone "\n" is not a line end
/// (a payload using bare "\n" fails with missing_blank_line or header_block_too_large). The
/// header block ends at the first "\r\n\r\n" of the payload (as pagekite.py splits it); lines
/// are split at "\r\n"; names are case-insensitive; names and values are trimmed of spaces and
/// tabs. NOOP, RTLS and ZRST count as present whatever their value. Numbers are decimal only
/// (Quota may carry a leading '-'). For repeated known headers the last one wins. Unknown names
/// and X-PageKite* lines go to `extra`, in order.
class frame_decoder {
 public:
  /// `accept_compressed`: we advertised ZChunks, so the peer may send `Z` frames. Without it a
  /// Z frame is the fatal error errc::compressed_not_enabled.
  frame_decoder(frame_limits limits, bool accept_compressed);
  ~frame_decoder();
  frame_decoder(frame_decoder&&) noexcept;
  frame_decoder& operator=(frame_decoder&&) noexcept;
  frame_decoder(const frame_decoder&) = delete;
  frame_decoder& operator=(const frame_decoder&) = delete;

  /// Consumes a prefix of `in` and reports at most one event. Never throws on any input (only
  /// std::bad_alloc from the bounded internal buffers). After an `error` event every later call
  /// consumes all its input and repeats that error.
  decode_step feed(std::span<const std::byte> in);

  /// After `headers`: the chunk's parsed headers. The views point into the decoder's own
  /// storage and stay valid until the next-but-one `headers` event (so the previous chunk's
  /// headers survive while the next chunk's header bytes are being buffered), or until the
  /// decoder is destroyed or moved.
  [[nodiscard]] const chunk_headers& headers() const noexcept;

  /// After `data`: one piece of the current chunk's data, never empty. Plain frames: a view into
  /// the span given to feed() (zero copy); Z frames: a view into the decoder's inflate buffer
  /// (the whole data of the frame in one piece). Valid until the next feed().
  [[nodiscard]] std::span<const std::byte> data() const noexcept { return data_; }

  /// After `headers` (a chunk without data) or `data`: true if this was the chunk's last piece.
  [[nodiscard]] bool chunk_complete() const noexcept { return data_remaining_ == 0; }

  /// Data bytes of the current chunk not yet reported.
  [[nodiscard]] std::uint64_t data_remaining() const noexcept { return data_remaining_; }

  /// True if the current (last headed) frame was a Z frame.
  [[nodiscard]] bool frame_compressed() const noexcept { return frame_z_; }

  /// True if no frame is in progress (nothing buffered, no event pending): a tunnel that ends
  /// here ended cleanly between frames.
  [[nodiscard]] bool at_frame_boundary() const noexcept {
    return state_ == state::size_line && size_state_ == size_state::size_digits && line_len_ == 0;
  }

  /// True after an `error` event: the tunnel must be closed.
  [[nodiscard]] bool fatal() const noexcept { return state_ == state::failed; }

  /// New limits and ZChunk acceptance, for frames whose size line starts after this call (the
  /// frame in progress keeps the checks it passed). A tunnel on probation decodes with small
  /// limits and no Z frames, then gets the full ones once a kite is accepted.
  void set_limits(frame_limits limits, bool accept_compressed) noexcept {
    limits_ = limits;
    accept_compressed_ = accept_compressed;
  }

  /// After a `headers` event of a Z frame: its SIZE (inflated bytes) and ZSIZE (compressed
  /// bytes on the wire).
  [[nodiscard]] std::uint64_t frame_size() const noexcept { return frame_size_; }
  [[nodiscard]] std::uint64_t frame_zsize() const noexcept { return frame_zsize_; }

  /// Bytes the decoder holds for the frame in progress (a partial Z frame's compressed bytes, a
  /// partial header block) plus its reusable inflate buffer.
  [[nodiscard]] std::size_t buffered_bytes() const noexcept {
    return zbuf_.capacity() + inflated_.capacity() + stores_[0].block.capacity() +
           stores_[1].block.capacity();
  }

 private:
  enum class state : std::uint8_t {
    size_line,      // reading "SIZE[ZZSIZE][R]\r\n"
    header_block,   // plain frame: scanning/buffering the header block
    plain_data,     // plain frame: streaming data views
    z_payload,      // Z frame: gathering ZSIZE compressed bytes
    z_data_pending, // Z frame: headers reported, data event pending
    failed,
  };
  enum class size_state : std::uint8_t { size_digits, z_digits, after_r, after_cr };

  struct header_store {
    std::vector<char> block;            // header block bytes incl. the final "\r\n\r\n"
    std::vector<header_field> extra;    // views into block
    chunk_headers parsed;
  };
  struct inflater;
  struct inflater_deleter {
    void operator()(inflater* p) const noexcept;
  };

  decode_step fail(std::size_t consumed, std::error_code ec);
  void begin_frame() noexcept;
  std::error_code finish_size_line();
  std::error_code parse_block(header_store& store) const;
  std::error_code parse_line(header_store& store, std::string_view line) const;
  // Inflates `z` (the whole compressed payload); true if it gave exactly size_ bytes.
  bool inflate_frame(std::span<const std::byte> z);
  void reset_inflater() noexcept;

  frame_limits limits_;
  bool accept_compressed_;
  state state_ = state::size_line;
  std::error_code failure_;

  // Size line.
  size_state size_state_ = size_state::size_digits;
  std::size_t line_len_ = 0;
  std::uint64_t size_ = 0;
  std::uint64_t zsize_ = 0;
  std::size_t size_digits_ = 0;
  std::size_t zsize_digits_ = 0;
  bool size_too_big_ = false;
  bool has_z_ = false;
  bool has_r_ = false;

  // Payload.
  std::uint64_t payload_remaining_ = 0;  // plain: payload bytes not consumed; Z: ZSIZE left
  std::uint64_t data_remaining_ = 0;
  unsigned match_ = 0;                   // progress through "\r\n\r\n"
  header_store stores_[2];
  unsigned current_ = 0;                 // store of the last `headers` event
  unsigned filling_ = 0;                 // store being filled by the current frame
  std::span<const std::byte> data_;
  std::span<const std::byte> pending_;   // Z frame data awaiting its `data` event
  bool frame_z_ = false;                 // the last headed frame was a Z frame
  std::uint64_t frame_size_ = 0;         // SIZE / ZSIZE of the last headed Z frame
  std::uint64_t frame_zsize_ = 0;

  // ZChunks.
  std::vector<std::byte> zbuf_;          // compressed bytes when a Z frame spans feeds
  std::vector<std::byte> inflated_;      // SIZE + 1 bytes, reused
  std::unique_ptr<inflater, inflater_deleter> inflater_;
  bool inflater_broken_ = false;         // after a corrupt Z frame, until an R frame
};

}  // namespace kiteline::wire
