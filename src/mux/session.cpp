// mux::session, the hot path: chunks from the tunnel (classification, delivery, SKB, the
// peer's EOF), bytes from local sockets (framing, send window) and bytes written to them
// (acknowledgement, the receive budget). Everything a data chunk or a local read touches is
// in this one file so the compiler can inline it; stream opening and closing, ticks and
// diagnostics live in session_streams.cpp, session_ticks.cpp and session_diagnostics.cpp.
#include "mux/session.hpp"

#include <algorithm>

#include "core/text.hpp"
#include "mux/session_constants.hpp"

namespace kiteline::mux {
namespace {

using session_detail::filler_bang;
using session_detail::filler_bye;
using session_detail::max_ping_chars;

bool starts_with_x_pagekite(std::string_view name) noexcept {
  return ascii_istarts_with(name, "x-pagekite");
}

}  // namespace

session::session(role r, const session_limits& limits, time_point now)
    : role_(r), limits_(limits), now_(now), last_rx_(now) {
  limits_.max_chunk_data = std::max<std::size_t>(limits_.max_chunk_data, 1);
  limits_.max_sid = std::max<sid_t>(limits_.max_sid, 1);
  limits_.ack_threshold = std::max<std::uint64_t>(limits_.ack_threshold, 1);
  outbox_.reserve(16);
}

void session::on_tunnel_bytes_received(time_point now) noexcept {
  last_rx_ = now;
  now_ = std::max(now_, now);
  ping_outstanding_ = false;
}

// ------------------------------------------------------------------------------ tunnel input

std::error_code session::on_chunk(const wire::chunk_headers& headers,
                                  std::span<const std::byte> data, bool chunk_complete) {
  std::error_code ec;
  if (chunk_open_) {
    chunk_piece({}, true);  // a driver bug; finish the previous chunk as if it were complete
    ec = errc::chunk_interrupted;
  }
  chunk_open_ = true;
  mode_ = chunk_mode::none;
  classify(headers, ec);
  chunk_piece(data, chunk_complete);
  return ec;
}

std::error_code session::on_chunk_data(std::span<const std::byte> data, bool chunk_complete) {
  if (!chunk_open_) {
    return errc::no_chunk_in_progress;
  }
  chunk_piece(data, chunk_complete);
  return {};
}

// §5.4, in this order.
void session::classify(const wire::chunk_headers& h, std::error_code& ec) {
  mode_ = chunk_mode::ignore;
  // 1. PONG → RTT, if it answers our last PING.
  if (h.pong && rtt_pending_ && *h.pong == last_ping_) {
    rtt_pending_ = false;
    last_rtt_ = last_rx_ >= ping_sent_at_ ? last_rx_ - ping_sent_at_ : duration::zero();
  }
  // 2. PING → PONG, and nothing else.
  if (h.ping) {
    send_pong p;
    p.headers.noop = true;
    p.headers.pong = std::string(h.ping->substr(0, max_ping_chars));
    p.data = filler_bang;
    outbox_.emplace_back(std::move(p));
    return;
  }
  // 3. ZRST.
  if (h.zrst) {
    outbox_.emplace_back(reset_compressor{});
  }
  // 4. SKB / SPD (SPD is legacy: parsed and ignored, like pagekite.py 1.5.2).
  if (h.skb && h.sid) {
    apply_skb(*h.sid, *h.skb);
  }
  // 5. NOOP: quota and kite lines for the tunnel layer; data ignored.
  if (h.noop) {
    control(h);
    return;
  }
  // 6. A stream chunk needs a SID.
  if (!h.sid) {
    ec = errc::chunk_without_sid;
    return;
  }
  const sid_t sid = *h.sid;
  if (h.eof) {
    apply_peer_eof(sid, *h.eof);
    return;
  }
  // 7. Known SID → deliver.
  if (streams_.contains(sid)) {
    mode_ = chunk_mode::deliver;
    chunk_sid_ = sid;
    return;
  }
  // 8. Unknown SID with Proto and Host → a new stream (connector only, and within limits).
  if (!h.proto.empty() && !h.host.empty()) {
    if (role_ == role::relay || streams_.size() >= limits_.max_streams) {
      refuse(sid, false);
      return;
    }
    streams_.emplace(sid, new_stream());
    unremember_refused(sid);
    open_local o;
    o.sid = sid;
    o.proto = h.proto;
    o.host = h.host;
    o.port = h.port;
    o.rip = h.rip;
    o.rport = h.rport;
    o.rtls = h.rtls;
    outbox_.emplace_back(std::move(o));
    mode_ = chunk_mode::deliver;
    chunk_sid_ = sid;
    return;
  }
  // 9. Unknown SID otherwise → EOF: 1WR, but never in reply to an SKB/SPD and only if the
  // chunk carries data (empty data chunks are ignored; decided once the data is seen).
  if (h.skb || h.spd) {
    return;
  }
  mode_ = chunk_mode::refuse_if_data;
  chunk_sid_ = sid;
}

void session::chunk_piece(std::span<const std::byte> data, bool complete) {
  if (!data.empty()) {
    if (mode_ == chunk_mode::deliver) {
      auto it = streams_.find(chunk_sid_);
      if (it != streams_.end() && !it->second.down_done) {
        stream& s = it->second;
        if (s.delivered == s.written) {
          s.drained_at = now_;  // it held nothing until now
        }
        s.last_active = now_;
        s.delivered += data.size();
        budget_used_ += data.size();
        outbox_.emplace_back(deliver{chunk_sid_, data});
      }
    } else if (mode_ == chunk_mode::refuse_if_data) {
      refuse(chunk_sid_, true);
      mode_ = chunk_mode::ignore;
    }
  }
  if (complete) {
    chunk_open_ = false;
    mode_ = chunk_mode::none;
    check_budget();
  }
}

void session::apply_skb(sid_t sid, std::uint64_t skb) {
  auto it = streams_.find(sid);
  if (it == streams_.end()) {
    return;
  }
  stream& s = it->second;
  // SKB×1024 clamped to what was sent (a bogus or huge SKB cannot underflow the window).
  const std::uint64_t acked = skb > s.sent / 1024U ? s.sent : skb * 1024U;
  s.acked = std::max(s.acked, acked);
  if (s.read_paused && s.sent - s.acked < limits_.stream_send_window) {
    s.read_paused = false;
    if (!s.up_done) {
      outbox_.emplace_back(resume_local_read{sid});
    }
  }
}

void session::apply_peer_eof(sid_t sid, wire::eof_flags flags) {
  auto it = streams_.find(sid);
  if (it == streams_.end()) {
    return;  // EOF for an unknown SID: ignored, never answered
  }
  stream& s = it->second;
  s.last_active = now_;
  const bool new_down = wire::has_read(flags) && !s.down_done;
  const bool new_up = wire::has_write(flags) && !s.up_done;
  s.down_done = s.down_done || wire::has_read(flags);
  s.up_done = s.up_done || wire::has_write(flags);
  if (s.up_done && s.down_done) {
    if (wire::has_read(flags) && wire::has_write(flags)) {
      // The peer tore the stream down (EOF: 1WR): answer with our own 1WR, as pagekite.py's
      // connector does (spec §5.6 captured tear-down). pagekite.py relays keep the stream
      // half-open until then. No loop: an EOF for an unknown SID is never answered.
      send_eof(sid, wire::eof_flags::both);
    }
    outbox_.emplace_back(close_local{sid});
    forget(sid);
    return;
  }
  if (new_down) {
    outbox_.emplace_back(shutdown_local_write{sid});
  }
  if (new_up) {
    outbox_.emplace_back(stop_local_read{sid});
  }
}

void session::control(const wire::chunk_headers& h) {
  control_chunk c;
  c.quota = h.quota;
  for (const auto& f : h.extra) {
    if (starts_with_x_pagekite(f.name)) {
      c.fields.push_back(owned_field{std::string(f.name), std::string(f.value)});
    }
  }
  if (c.quota || !c.fields.empty()) {
    outbox_.emplace_back(std::move(c));
  }
}

void session::send_eof(sid_t sid, wire::eof_flags flags) {
  send_chunk c;
  c.headers.sid = sid;
  c.headers.eof = flags;
  c.data = filler_bye;
  outbox_.emplace_back(std::move(c));
}

// ------------------------------------------------------------------------------- local input

void session::send_data(sid_t sid, stream& s, std::span<const std::byte> bytes) {
  const std::size_t total = bytes.size();
  while (!bytes.empty()) {
    const std::size_t n = std::min(bytes.size(), limits_.max_chunk_data);
    send_chunk c;
    c.headers.sid = sid;
    c.data = bytes.first(n);
    outbox_.emplace_back(std::move(c));
    bytes = bytes.subspan(n);
  }
  note_sent(sid, s, total);
}

void session::note_sent(sid_t sid, stream& s, std::size_t n) {
  s.sent += n;
  s.last_active = now_;
  if (!s.read_paused && s.sent - s.acked >= limits_.stream_send_window) {
    s.read_paused = true;
    outbox_.emplace_back(pause_local_read{sid});
  }
}

result<session::stream*> session::reading_stream(sid_t sid) {
  auto it = streams_.find(sid);
  if (it == streams_.end()) {
    return errc::unknown_stream;
  }
  if (it->second.up_done) {
    return errc::stream_read_closed;
  }
  return &it->second;
}

std::error_code session::on_local_data(sid_t sid, std::span<const std::byte> bytes) {
  auto s = reading_stream(sid);
  if (!s) {
    return s.error();
  }
  send_data(sid, **s, bytes);
  return {};
}

std::error_code session::on_local_data_framed(sid_t sid, std::size_t n) {
  auto s = reading_stream(sid);
  if (!s) {
    return s.error();
  }
  note_sent(sid, **s, n);
  return {};
}

std::error_code session::on_local_written(sid_t sid, std::uint64_t n) {
  auto it = streams_.find(sid);
  if (it == streams_.end()) {
    return errc::unknown_stream;
  }
  stream& s = it->second;
  std::error_code ec;
  const std::uint64_t pending = s.delivered - s.written;
  if (n > pending) {
    n = pending;
    ec = errc::written_exceeds_delivered;
  }
  s.written += n;
  budget_used_ -= n;
  if (n > 0) {
    s.last_active = now_;
  }
  if (s.written == s.delivered) {
    s.drained_at = now_;
  }
  const std::uint64_t unacked = s.written - s.acked_written;
  if (unacked > 0 && (unacked >= limits_.ack_threshold ||
                      (limits_.ack_on_drain && s.written == s.delivered))) {
    s.acked_written = s.written;
    send_chunk c;
    c.headers.noop = true;
    c.headers.sid = sid;
    c.headers.skb = s.written / 1024U;
    outbox_.emplace_back(std::move(c));
  }
  maybe_resume_tunnel();
  return ec;
}

// --------------------------------------------------------------------------------- internals

void session::forget(sid_t sid) {
  auto it = streams_.find(sid);
  if (it == streams_.end()) {
    return;
  }
  budget_used_ -= it->second.delivered - it->second.written;
  streams_.erase(it);
  maybe_resume_tunnel();
}

void session::maybe_resume_tunnel() {
  if (tunnel_paused_ && budget_used_ <= limits_.receive_budget / 2) {
    tunnel_paused_ = false;
    outbox_.emplace_back(resume_tunnel_read{});
  }
}

session::stream session::new_stream() const noexcept {
  stream s;
  s.last_active = now_;
  s.drained_at = now_;
  return s;
}

void session::check_budget() {
  if (tunnel_paused_ || budget_used_ <= limits_.receive_budget) {
    return;
  }
  evict_stalled_holders();
  if (budget_used_ > limits_.receive_budget) {
    tunnel_paused_ = true;
    paused_at_ = now_;  // the bytes that crossed the budget arrived then
    outbox_.emplace_back(pause_tunnel_read{});
  }
}

}  // namespace kiteline::mux
