#include "wire/frame_decoder.hpp"

#include <algorithm>
#include <climits>
#include <limits>
#include <string_view>

#define ZLIB_CONST
#include <zlib.h>

#include "core/text.hpp"
#include "wire/errc.hpp"

namespace kiteline::wire {
namespace {

// Appends one hex digit to `v`, flagging values that exceed `cap` (no overflow ever happens).
constexpr void add_hex_digit(std::uint64_t& v, int d, std::uint64_t cap, bool& too_big) noexcept {
  if (too_big) {
    return;
  }
  if (v > (cap - static_cast<std::uint64_t>(d)) / 16U) {
    too_big = true;
    return;
  }
  v = v * 16U + static_cast<std::uint64_t>(d);
}

// One step of the "\r\n\r\n" matcher: `m` = number of pattern bytes matched so far.
constexpr unsigned crlfcrlf_step(unsigned m, unsigned char c) noexcept {
  if (c == '\r') {
    return m == 2 ? 3U : 1U;
  }
  if (c == '\n') {
    return m == 1 ? 2U : (m == 3 ? 4U : 0U);
  }
  return 0;
}

// core's parse_decimal (digits only, at least one, value <= max) into an out-parameter.
constexpr bool read_decimal(std::string_view s, std::uint64_t max, std::uint64_t& out) noexcept {
  const std::optional<std::uint64_t> v = parse_decimal(s, max);
  if (v) {
    out = *v;
  }
  return v.has_value();
}

}  // namespace

struct frame_decoder::inflater {
  z_stream zs{};
  bool initialised = false;
};

void frame_decoder::inflater_deleter::operator()(inflater* p) const noexcept {
  if (p != nullptr && p->initialised) {
    inflateEnd(&p->zs);
  }
  delete p;
}

frame_decoder::frame_decoder(frame_limits limits, bool accept_compressed)
    : limits_(limits), accept_compressed_(accept_compressed) {}

frame_decoder::~frame_decoder() = default;
frame_decoder::frame_decoder(frame_decoder&&) noexcept = default;
frame_decoder& frame_decoder::operator=(frame_decoder&&) noexcept = default;

const chunk_headers& frame_decoder::headers() const noexcept { return stores_[current_].parsed; }

decode_step frame_decoder::fail(std::size_t consumed, std::error_code ec) {
  state_ = state::failed;
  failure_ = ec;
  data_ = {};
  data_remaining_ = 0;
  return {consumed, frame_event::error, ec};
}

void frame_decoder::begin_frame() noexcept {
  state_ = state::size_line;
  size_state_ = size_state::size_digits;
  line_len_ = 0;
  size_ = 0;
  zsize_ = 0;
  size_digits_ = 0;
  zsize_digits_ = 0;
  size_too_big_ = false;
  has_z_ = false;
  has_r_ = false;
}

std::error_code frame_decoder::finish_size_line() {
  if (has_z_ && !accept_compressed_) {
    return errc::compressed_not_enabled;
  }
  if (size_too_big_) {
    return errc::length_too_large;
  }
  if (size_ == 0 || (has_z_ && zsize_ == 0)) {
    return errc::zero_length_frame;
  }
  if (has_z_ && (size_ > limits_.max_zframe_size ||
                 zsize_ > limits_.max_zframe_size + limits_.zframe_slack)) {
    return errc::zframe_too_large;
  }
  if (has_r_) {
    reset_inflater();
  }
  frame_z_ = has_z_;
  frame_size_ = has_z_ ? size_ : 0;
  frame_zsize_ = has_z_ ? zsize_ : 0;
  filling_ = current_ ^ 1U;
  stores_[filling_].block.clear();
  match_ = 0;
  if (has_z_) {
    payload_remaining_ = zsize_;
    zbuf_.clear();
    state_ = state::z_payload;
  } else {
    payload_remaining_ = size_;
    state_ = state::header_block;
  }
  return {};
}

decode_step frame_decoder::feed(std::span<const std::byte> in) {
  data_ = {};
  if (state_ == state::failed) {
    return {in.size(), frame_event::error, failure_};
  }
  const std::size_t n = in.size();
  std::size_t pos = 0;
  const std::uint64_t cap = limits_.max_frame_size;
  for (;;) {
    switch (state_) {
      case state::size_line: {
        while (pos < n && state_ == state::size_line) {
          const auto c = static_cast<unsigned char>(in[pos]);
          ++pos;
          if (size_state_ == size_state::after_cr) {
            if (c != '\n') {
              return fail(pos, errc::bad_hex_length);
            }
            if (const auto ec = finish_size_line()) {
              return fail(pos, ec);
            }
            break;
          }
          if (c == '\r') {
            if (size_digits_ == 0 || (has_z_ && zsize_digits_ == 0)) {
              return fail(pos, errc::bad_hex_length);
            }
            size_state_ = size_state::after_cr;
            continue;
          }
          if (++line_len_ > limits_.max_size_line) {
            return fail(pos, errc::size_line_too_long);
          }
          const int d = hex_digit_value(static_cast<char>(c));
          switch (size_state_) {
            case size_state::size_digits:
              if (d >= 0) {
                add_hex_digit(size_, d, cap, size_too_big_);
                ++size_digits_;
              } else if (c == 'Z' && size_digits_ > 0) {
                has_z_ = true;
                size_state_ = size_state::z_digits;
              } else if (c == 'R' && size_digits_ > 0) {
                has_r_ = true;
                size_state_ = size_state::after_r;
              } else {
                return fail(pos, errc::bad_hex_length);
              }
              break;
            case size_state::z_digits:
              if (d >= 0) {
                add_hex_digit(zsize_, d, cap, size_too_big_);
                ++zsize_digits_;
              } else if (c == 'R' && zsize_digits_ > 0) {
                has_r_ = true;
                size_state_ = size_state::after_r;
              } else {
                return fail(pos, errc::bad_hex_length);
              }
              break;
            case size_state::after_r:
            case size_state::after_cr:
              return fail(pos, errc::bad_hex_length);
          }
        }
        if (state_ == state::size_line) {
          return {pos, frame_event::need_more, {}};
        }
        continue;
      }

      case state::header_block: {
        if (pos == n) {
          return {pos, frame_event::need_more, {}};
        }
        header_store& st = stores_[filling_];
        const std::size_t cap_left =
            limits_.max_header_bytes > st.block.size() ? limits_.max_header_bytes - st.block.size()
                                                       : 0;
        const std::size_t limit = static_cast<std::size_t>(
            std::min<std::uint64_t>({n - pos, payload_remaining_, cap_left}));
        std::size_t i = 0;
        while (i < limit && match_ != 4) {
          match_ = crlfcrlf_step(match_, static_cast<unsigned char>(in[pos + i]));
          ++i;
        }
        const auto* first = reinterpret_cast<const char*>(in.data() + pos);
        st.block.insert(st.block.end(), first, first + i);
        pos += i;
        payload_remaining_ -= i;
        if (match_ != 4) {
          if (payload_remaining_ == 0) {
            return fail(pos, errc::missing_blank_line);
          }
          if (st.block.size() >= limits_.max_header_bytes) {
            return fail(pos, errc::header_block_too_large);
          }
          return {pos, frame_event::need_more, {}};
        }
        if (const auto ec = parse_block(st)) {
          return fail(pos, ec);
        }
        current_ = filling_;
        data_remaining_ = payload_remaining_;
        if (data_remaining_ == 0) {
          begin_frame();
        } else {
          state_ = state::plain_data;
        }
        return {pos, frame_event::headers, {}};
      }

      case state::plain_data: {
        if (pos == n) {
          return {pos, frame_event::need_more, {}};
        }
        const auto take =
            static_cast<std::size_t>(std::min<std::uint64_t>(n - pos, data_remaining_));
        data_ = in.subspan(pos, take);
        pos += take;
        data_remaining_ -= take;
        if (data_remaining_ == 0) {
          begin_frame();
        }
        return {pos, frame_event::data, {}};
      }

      case state::z_payload: {
        std::span<const std::byte> z;
        if (zbuf_.empty() && n - pos >= payload_remaining_) {
          const auto take = static_cast<std::size_t>(payload_remaining_);
          z = in.subspan(pos, take);
          pos += take;
          payload_remaining_ = 0;
        } else {
          const auto take =
              static_cast<std::size_t>(std::min<std::uint64_t>(n - pos, payload_remaining_));
          zbuf_.insert(zbuf_.end(), in.begin() + static_cast<std::ptrdiff_t>(pos),
                       in.begin() + static_cast<std::ptrdiff_t>(pos + take));
          pos += take;
          payload_remaining_ -= take;
          if (payload_remaining_ > 0) {
            return {pos, frame_event::need_more, {}};
          }
          z = zbuf_;
        }
        const bool ok = !inflater_broken_ && inflate_frame(z);
        zbuf_.clear();
        if (!ok) {
          inflater_broken_ = true;
          begin_frame();
          return {pos, frame_event::corrupt_frame, errc::zlib_error};
        }
        const auto out = std::span<const std::byte>(inflated_).first(static_cast<std::size_t>(size_));
        const std::size_t limit =
            static_cast<std::size_t>(std::min<std::uint64_t>(size_, limits_.max_header_bytes));
        unsigned m = 0;
        std::size_t i = 0;
        while (i < limit && m != 4) {
          m = crlfcrlf_step(m, static_cast<unsigned char>(out[i]));
          ++i;
        }
        if (m != 4) {
          return fail(pos, size_ <= limits_.max_header_bytes ? errc::missing_blank_line
                                                             : errc::header_block_too_large);
        }
        header_store& st = stores_[filling_];
        const auto* first = reinterpret_cast<const char*>(out.data());
        st.block.assign(first, first + i);
        if (const auto ec = parse_block(st)) {
          return fail(pos, ec);
        }
        current_ = filling_;
        pending_ = out.subspan(i);
        data_remaining_ = pending_.size();
        if (data_remaining_ == 0) {
          begin_frame();
        } else {
          state_ = state::z_data_pending;
        }
        return {pos, frame_event::headers, {}};
      }

      case state::z_data_pending:
        data_ = pending_;
        pending_ = {};
        data_remaining_ = 0;
        begin_frame();
        return {pos, frame_event::data, {}};

      case state::failed:
        return {n, frame_event::error, failure_};
    }
  }
}

std::error_code frame_decoder::parse_block(header_store& store) const {
  store.parsed = chunk_headers{};
  store.extra.clear();
  const std::string_view text(store.block.data(), store.block.size() - 4);
  std::size_t lines = 0;
  std::size_t p = 0;
  while (p < text.size()) {
    std::size_t q = text.find("\r\n", p);
    if (q == std::string_view::npos) {
      q = text.size();
    }
    if (++lines > limits_.max_header_lines) {
      return errc::too_many_headers;
    }
    if (const auto ec = parse_line(store, text.substr(p, q - p))) {
      return ec;
    }
    p = q + 2;
  }
  store.parsed.extra = store.extra;
  return {};
}

std::error_code frame_decoder::parse_line(header_store& store, std::string_view line) const {
  const std::size_t colon = line.find(':');
  if (colon == std::string_view::npos) {
    return errc::bad_header_line;
  }
  const std::string_view name = trim_ows(line.substr(0, colon));
  const std::string_view value = trim_ows(line.substr(colon + 1));
  chunk_headers& h = store.parsed;
  std::uint64_t v = 0;
  constexpr std::uint64_t u32_max = std::numeric_limits<std::uint32_t>::max();
  switch (name.size()) {
    case 3:
      if (ascii_iequals(name, "sid")) {
        if (value.size() > limits_.max_sid_digits || !read_decimal(value, u32_max, v)) {
          return errc::bad_sid;
        }
        h.sid = static_cast<sid_t>(v);
        return {};
      }
      if (ascii_iequals(name, "rip")) {
        h.rip = value;
        return {};
      }
      if (ascii_iequals(name, "eof")) {
        if (value.empty() || value[0] != '1') {
          return errc::bad_eof;
        }
        unsigned bits = 0;
        for (const char c : value.substr(1)) {
          if (c == 'R' || c == 'r') {
            bits |= static_cast<unsigned>(eof_flags::read);
          } else if (c == 'W' || c == 'w') {
            bits |= static_cast<unsigned>(eof_flags::write);
          } else {
            return errc::bad_eof;
          }
        }
        h.eof = bits == 0 ? eof_flags::both : static_cast<eof_flags>(bits);
        return {};
      }
      if (ascii_iequals(name, "skb")) {
        if (!read_decimal(value, std::numeric_limits<std::uint64_t>::max(), v)) {
          return errc::bad_number;
        }
        h.skb = v;
        return {};
      }
      if (ascii_iequals(name, "spd")) {
        if (!read_decimal(value, std::numeric_limits<std::uint64_t>::max(), v)) {
          return errc::bad_number;
        }
        h.spd = v;
        return {};
      }
      break;
    case 4:
      if (ascii_iequals(name, "host")) {
        h.host = value;
        return {};
      }
      if (ascii_iequals(name, "port")) {
        if (!read_decimal(value, u32_max, v)) {
          return errc::bad_number;
        }
        h.port = static_cast<std::uint32_t>(v);
        return {};
      }
      if (ascii_iequals(name, "rtls")) {
        h.rtls = true;
        return {};
      }
      if (ascii_iequals(name, "noop")) {
        h.noop = true;
        return {};
      }
      if (ascii_iequals(name, "ping")) {
        h.ping = value;
        return {};
      }
      if (ascii_iequals(name, "pong")) {
        h.pong = value;
        return {};
      }
      if (ascii_iequals(name, "zrst")) {
        h.zrst = true;
        return {};
      }
      break;
    case 5:
      if (ascii_iequals(name, "proto")) {
        h.proto = value;
        return {};
      }
      if (ascii_iequals(name, "rport")) {
        if (!read_decimal(value, u32_max, v)) {
          return errc::bad_number;
        }
        h.rport = static_cast<std::uint32_t>(v);
        return {};
      }
      if (ascii_iequals(name, "quota")) {
        const bool negative = !value.empty() && value[0] == '-';
        if (!read_decimal(negative ? value.substr(1) : value,
                           static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()),
                           v)) {
          return errc::bad_number;
        }
        h.quota = negative ? -static_cast<std::int64_t>(v) : static_cast<std::int64_t>(v);
        return {};
      }
      break;
    default:
      break;
  }
  store.extra.push_back(header_field{name, value});
  return {};
}

bool frame_decoder::inflate_frame(std::span<const std::byte> z) {
  if (!inflater_) {
    inflater_.reset(new inflater);
    if (inflateInit(&inflater_->zs) != Z_OK) {
      inflater_.reset();
      return false;
    }
    inflater_->initialised = true;
  }
  const std::size_t out_cap = static_cast<std::size_t>(size_) + 1;  // room to detect excess
  if (inflated_.size() < out_cap) {
    inflated_.resize(out_cap);
  }
  z_stream& zs = inflater_->zs;
  constexpr std::size_t max_chunk = UINT_MAX;
  std::size_t in_off = 0;
  std::size_t out_off = 0;
  bool ended = false;
  for (;;) {
    const std::size_t in_chunk = std::min(z.size() - in_off, max_chunk);
    const std::size_t out_chunk = std::min(out_cap - out_off, max_chunk);
    zs.next_in = reinterpret_cast<const Bytef*>(z.data() + in_off);
    zs.avail_in = static_cast<uInt>(in_chunk);
    zs.next_out = reinterpret_cast<Bytef*>(inflated_.data() + out_off);
    zs.avail_out = static_cast<uInt>(out_chunk);
    const int rc = inflate(&zs, Z_SYNC_FLUSH);
    const std::size_t used = in_chunk - zs.avail_in;
    const std::size_t made = out_chunk - zs.avail_out;
    in_off += used;
    out_off += made;
    if (rc == Z_STREAM_END) {
      ended = true;
      break;
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      return false;
    }
    if (out_off == out_cap) {
      return false;  // more than SIZE bytes
    }
    if (used == 0 && made == 0) {
      break;
    }
    if (in_off == z.size() && zs.avail_out > 0) {
      break;
    }
  }
  if (ended) {
    // The peer finished its zlib stream: later Z frames cannot inflate until an R frame.
    inflater_broken_ = true;
  }
  return in_off == z.size() && out_off == size_;
}

void frame_decoder::reset_inflater() noexcept {
  inflater_broken_ = false;
  if (inflater_) {
    if (inflateReset(&inflater_->zs) != Z_OK) {
      inflater_.reset();
    }
  }
}

}  // namespace kiteline::wire
