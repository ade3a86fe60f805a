#include "tunnel/outbox.hpp"

#include <cstring>

#include "wire/chunk_encoder.hpp"

namespace kiteline::tunnel {

outbox::outbox(const outbox_options& o) : opts_(o), limit_(o.limit) {
  if (opts_.send_compressed) {
    zenc_.emplace(opts_.compression_level);
  }
}

void outbox::note_frame(std::size_t frame_bytes) {
  if (!opts_.limit_frame_density) {
    return;
  }
  const std::size_t fill = wire::filler_after_frame(density_, frame_bytes);
  if (fill == 0) {
    return;
  }
  wire::chunk_headers noop;
  noop.noop = true;
  const std::size_t at = out_.size();
  out_.resize(at + wire::chunk_head_size_bound(noop));
  const bool reset = take_reset_flag();
  const std::size_t n =
      wire::encode_chunk_head(std::span<std::byte>(out_).subspan(at), noop, fill, reset);
  out_.resize(at + n);
  out_.resize(out_.size() + fill);
  std::memset(out_.data() + out_.size() - fill, wire::density_filler_byte, fill);
}

bool outbox::append_plain(const wire::chunk_headers& h, std::span<const std::byte> data) {
  const std::size_t bound = wire::chunk_head_size_bound(h);
  const std::size_t at = out_.size();
  out_.resize(at + bound);
  const bool reset = take_reset_flag();
  const std::size_t n =
      wire::encode_chunk_head(std::span<std::byte>(out_).subspan(at), h, data.size(), reset);
  out_.resize(at + n);
  if (n == 0) {
    return false;  // never data without its head
  }
  core::append(out_, data.data(), data.size());
  note_frame(n + data.size());
  return true;
}

bool outbox::may_compress(const wire::chunk_headers& h, std::size_t data_size) const noexcept {
  const bool stream_chunk = h.sid && !h.noop && !h.eof;
  return zenc_ && stream_chunk &&
         wire::header_block_size(h) + data_size >= wire::zchunk_min_payload;
}

bool outbox::append_compressible(const wire::chunk_headers& h, std::span<const std::byte> data,
                                 bool* no_compress) {
  // Only while compressing a stream's chunks does not make them bigger.
  if (no_compress != nullptr && *no_compress) {
    return append_plain(h, data);
  }
  const std::size_t at = out_.size();
  out_.resize(at + wire::zchunk_encoder::frame_bound(h, data.size()));
  auto n = zenc_->encode(std::span<std::byte>(out_).subspan(at), h, data);
  if (!n || *n == 0) {
    out_.resize(at);
    return append_plain(h, data);
  }
  out_.resize(at + *n);
  note_frame(*n);
  if (!zpolicy_.worth_it(wire::header_block_size(h) + data.size(), *n) && no_compress != nullptr) {
    *no_compress = true;
  }
  return true;
}

void outbox::append_encoded(std::span<const std::byte> chunks) {
  core::append(out_, chunks.data(), chunks.size());
  note_frame(chunks.size());
}

void outbox::end_write() noexcept {
  writing_.clear();  // empty = no write in flight
  if (writing_.capacity() > 4 * opts_.high_water) {
    core::release(writing_);
  }
}

void outbox::release() noexcept {
  core::release(out_);
  core::release(writing_);
}

}  // namespace kiteline::tunnel
