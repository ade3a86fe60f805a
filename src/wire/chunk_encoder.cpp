#include "wire/chunk_encoder.hpp"

#include <charconv>
#include <cstring>

#include "wire/limits.hpp"

namespace kiteline::wire {
namespace {

// Either counts (out == nullptr) or writes with bounds checks; `ok` turns false on overflow or
// on a field that would break the framing.
class line_writer {
 public:
  line_writer() = default;
  explicit line_writer(std::span<std::byte> out) : p_(out.data()), end_(out.data() + out.size()) {}

  void raw(std::string_view s) noexcept {
    if (p_ != nullptr) {
      if (static_cast<std::size_t>(end_ - p_) < s.size()) {
        ok_ = false;
        return;
      }
      if (!s.empty()) {
        std::memcpy(p_, s.data(), s.size());
      }
      p_ += s.size();
    }
    n_ += s.size();
  }
  void line(std::string_view name, std::string_view value) noexcept {
    ++lines_;
    raw(name);
    raw(": ");
    raw(value);
    raw("\r\n");
  }
  template <typename Int>
  void number(std::string_view name, Int v) noexcept {
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    line(name, std::string_view(buf, static_cast<std::size_t>(r.ptr - buf)));
  }
  void refuse() noexcept { ok_ = false; }
  [[nodiscard]] bool ok() const noexcept { return ok_; }
  [[nodiscard]] std::size_t size() const noexcept { return n_; }
  [[nodiscard]] std::size_t lines() const noexcept { return lines_; }

 private:
  std::byte* p_ = nullptr;
  std::byte* end_ = nullptr;
  std::size_t n_ = 0;
  std::size_t lines_ = 0;
  bool ok_ = true;
};

bool has_crlf(std::string_view s) noexcept {
  return s.find_first_of("\r\n") != std::string_view::npos;
}

std::string_view eof_text(eof_flags f) noexcept {
  if (has_read(f) && has_write(f)) {
    return "1WR";
  }
  return has_read(f) ? "1R" : "1W";
}

void emit_lines(const chunk_headers& h, line_writer& w) noexcept {
  if (h.noop) {
    w.line("NOOP", "1");
  }
  if (h.sid) {
    w.number("SID", *h.sid);
  }
  if (!h.proto.empty()) {
    w.line("Proto", h.proto);
  }
  if (!h.host.empty()) {
    w.line("Host", h.host);
  }
  if (h.port) {
    w.number("Port", *h.port);
  }
  if (!h.rip.empty()) {
    w.line("RIP", h.rip);
  }
  if (h.rport) {
    w.number("RPort", *h.rport);
  }
  if (h.rtls) {
    w.line("RTLS", "1");
  }
  if (h.eof) {
    w.line("EOF", eof_text(*h.eof));
  }
  if (h.ping) {
    w.line("PING", *h.ping);
  }
  if (h.pong) {
    w.line("PONG", *h.pong);
  }
  if (h.skb) {
    w.number("SKB", *h.skb);
  }
  if (h.spd) {
    w.number("SPD", *h.spd);
  }
  if (h.zrst) {
    w.line("ZRST", "1");
  }
  if (h.quota) {
    w.number("Quota", *h.quota);
  }
  for (const header_field& f : h.extra) {
    w.line(f.name, f.value);
  }
  // The payload must contain "\r\n\r\n" (pagekite.py splits there; without it the chunk is
  // corrupt and the tunnel closed), so a block without any line is an empty line + blank line.
  w.raw(w.lines() == 0 ? "\r\n\r\n" : "\r\n");
}

bool headers_valid(const chunk_headers& h) noexcept {
  if (has_crlf(h.proto) || has_crlf(h.host) || has_crlf(h.rip)) {
    return false;
  }
  if ((h.ping && has_crlf(*h.ping)) || (h.pong && has_crlf(*h.pong))) {
    return false;
  }
  for (const header_field& f : h.extra) {
    if (has_crlf(f.name) || has_crlf(f.value) || f.name.find(':') != std::string_view::npos) {
      return false;
    }
  }
  return true;
}

// Longest size line: 16 hex digits + "R" + CRLF.
constexpr std::size_t max_plain_size_line = 16 + 1 + 2;

std::string_view control_value(std::string_view v) noexcept {
  v = v.substr(0, max_ping_value);
  return v.substr(0, v.find_first_of("\r\n"));
}

}  // namespace

std::size_t header_block_size(const chunk_headers& h) noexcept {
  line_writer counter;
  emit_lines(h, counter);
  return counter.size();
}

std::size_t encode_header_block(std::span<std::byte> out, const chunk_headers& h) noexcept {
  if (!headers_valid(h)) {
    return 0;
  }
  line_writer w(out);
  emit_lines(h, w);
  return w.ok() ? w.size() : 0;
}

std::size_t chunk_head_size_bound(const chunk_headers& h) noexcept {
  return max_plain_size_line + header_block_size(h);
}

std::size_t encode_chunk_head(std::span<std::byte> out, const chunk_headers& h,
                              std::size_t data_len, bool reset_flag) noexcept {
  if (!headers_valid(h)) {
    return 0;
  }
  const std::size_t block = header_block_size(h);
  char line[max_plain_size_line];
  const auto r = std::to_chars(line, line + 16, static_cast<std::uint64_t>(block + data_len), 16);
  auto n = static_cast<std::size_t>(r.ptr - line);
  if (reset_flag) {
    line[n++] = 'R';
  }
  line[n++] = '\r';
  line[n++] = '\n';
  if (out.size() < n + block) {
    return 0;
  }
  std::memcpy(out.data(), line, n);
  line_writer w(out.subspan(n));
  emit_lines(h, w);
  return w.ok() ? n + w.size() : 0;
}

control_chunk make_control_chunk(const chunk_headers& h, std::string_view filler,
                                 bool reset_flag) noexcept {
  control_chunk c;
  const std::size_t head = encode_chunk_head(c.buf_, h, filler.size(), reset_flag);
  if (head == 0 || control_chunk::capacity - head < filler.size()) {
    return c;
  }
  if (!filler.empty()) {
    std::memcpy(c.buf_.data() + head, filler.data(), filler.size());
  }
  c.size_ = head + filler.size();
  return c;
}

control_chunk make_ping(std::string_view value, bool reset_flag) noexcept {
  chunk_headers h;
  h.noop = true;
  h.ping = control_value(value);
  return make_control_chunk(h, "!", reset_flag);
}

control_chunk make_pong(std::string_view ping_value, bool reset_flag) noexcept {
  chunk_headers h;
  h.noop = true;
  h.pong = control_value(ping_value);
  return make_control_chunk(h, "!", reset_flag);
}

control_chunk make_skb_ack(sid_t sid, std::uint64_t kib, bool reset_flag) noexcept {
  chunk_headers h;
  h.noop = true;
  h.sid = sid;
  h.skb = kib;
  return make_control_chunk(h, "", reset_flag);
}

control_chunk make_eof(sid_t sid, eof_flags flags, bool reset_flag) noexcept {
  chunk_headers h;
  h.sid = sid;
  h.eof = flags;
  return make_control_chunk(h, "Bye!", reset_flag);
}

control_chunk make_zrst(bool reset_flag) noexcept {
  chunk_headers h;
  h.noop = true;
  h.zrst = true;
  return make_control_chunk(h, "!", reset_flag);
}

std::string frame_control_payload(std::string_view body) {
  char size_line[24];
  const auto r = std::to_chars(size_line, size_line + sizeof size_line, body.size(), 16);
  std::string out;
  out.reserve(static_cast<std::size_t>(r.ptr - size_line) + 2 + body.size());
  out.append(size_line, r.ptr).append("\r\n").append(body);
  return out;
}

}  // namespace kiteline::wire
