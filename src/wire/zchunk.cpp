#include "wire/zchunk.hpp"

#include <algorithm>
#include <charconv>
#include <climits>
#include <cstring>
#include <new>

#define ZLIB_CONST
#include <zlib.h>

#include "wire/chunk_encoder.hpp"
#include "wire/errc.hpp"

namespace kiteline::wire {
namespace {
// "SIZE" + "Z" + "ZSIZE" + "R" + CRLF, 16 hex digits each at most.
constexpr std::size_t max_z_size_line = 16 + 1 + 16 + 1 + 2;
}  // namespace

struct zchunk_encoder::deflater {
  z_stream zs{};
};

void zchunk_encoder::deflater_deleter::operator()(deflater* p) const noexcept {
  if (p != nullptr) {
    deflateEnd(&p->zs);
  }
  delete p;
}

zchunk_encoder::zchunk_encoder(int level) : deflater_(new deflater) {
  if (deflateInit(&deflater_->zs, level) != Z_OK) {
    delete deflater_.release();  // never initialised: no deflateEnd
    throw std::bad_alloc();
  }
}

zchunk_encoder::~zchunk_encoder() = default;
zchunk_encoder::zchunk_encoder(zchunk_encoder&&) noexcept = default;
zchunk_encoder& zchunk_encoder::operator=(zchunk_encoder&&) noexcept = default;

std::size_t zchunk_encoder::frame_bound(const chunk_headers& h, std::size_t data_len) noexcept {
  const std::size_t n = header_block_size(h) + data_len;
  // compressBound() plus room for two flush markers / stored-block headers.
  return max_z_size_line + n + (n >> 12U) + (n >> 14U) + (n >> 25U) + 13 + 32;
}

void zchunk_encoder::reset() noexcept {
  if (deflater_) {
    deflateReset(&deflater_->zs);
  }
  reset_pending_ = true;
}

bool zchunk_encoder::take_reset_flag() noexcept {
  const bool r = reset_pending_;
  reset_pending_ = false;
  return r;
}

bool zchunk_encoder::deflate_span(std::span<const std::byte> in, std::span<std::byte> out,
                                  std::size_t& out_off, bool flush) noexcept {
  z_stream& zs = deflater_->zs;
  std::size_t in_off = 0;
  for (;;) {
    const std::size_t in_chunk = std::min<std::size_t>(in.size() - in_off, UINT_MAX);
    const std::size_t out_chunk = std::min<std::size_t>(out.size() - out_off, UINT_MAX);
    const bool last = in_off + in_chunk == in.size();
    zs.next_in = reinterpret_cast<const Bytef*>(in.data() + in_off);
    zs.avail_in = static_cast<uInt>(in_chunk);
    zs.next_out = reinterpret_cast<Bytef*>(out.data() + out_off);
    zs.avail_out = static_cast<uInt>(out_chunk);
    const int rc = deflate(&zs, (flush && last) ? Z_SYNC_FLUSH : Z_NO_FLUSH);
    in_off += in_chunk - zs.avail_in;
    out_off += out_chunk - zs.avail_out;
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      return false;
    }
    if (zs.avail_out == 0) {
      return false;  // the bound was wrong: refuse rather than emit a truncated flush
    }
    if (in_off == in.size()) {
      return true;
    }
  }
}

result<std::size_t> zchunk_encoder::encode(std::span<std::byte> out, const chunk_headers& h,
                                           std::span<const std::byte> data) {
  if (out.size() < frame_bound(h, data.size())) {
    return std::size_t{0};
  }
  block_.resize(header_block_size(h));
  if (encode_header_block(block_, h) != block_.size()) {
    return std::size_t{0};
  }
  const std::size_t size = block_.size() + data.size();
  std::size_t z_len = 0;
  const auto body = out.subspan(max_z_size_line);
  if (!deflate_span(block_, body, z_len, data.empty()) ||
      (!data.empty() && !deflate_span(data, body, z_len, true))) {
    reset();  // our stream is now unusable for the peer; restart it and tell the peer
    return errc::zlib_error;
  }
  char line[max_z_size_line];
  auto r = std::to_chars(line, line + 16, static_cast<std::uint64_t>(size), 16);
  char* p = r.ptr;
  *p++ = 'Z';
  r = std::to_chars(p, p + 16, static_cast<std::uint64_t>(z_len), 16);
  p = r.ptr;
  if (take_reset_flag()) {
    *p++ = 'R';
  }
  *p++ = '\r';
  *p++ = '\n';
  const auto line_len = static_cast<std::size_t>(p - line);
  std::memmove(out.data() + line_len, body.data(), z_len);
  std::memcpy(out.data(), line, line_len);
  return line_len + z_len;
}

}  // namespace kiteline::wire
