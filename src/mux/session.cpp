#include "mux/session.hpp"

#include <algorithm>
#include <array>
#include <charconv>

#include "core/text.hpp"

namespace kiteline::mux {
namespace {

constexpr std::size_t max_ping_chars = 64;

// Conventional filler bodies (§5.2, §5.4): immutable, so views into them never dangle.
constexpr std::array<std::byte, 1> filler_bang{std::byte{'!'}};
constexpr std::array<std::byte, 4> filler_bye{std::byte{'B'}, std::byte{'y'}, std::byte{'e'},
                                              std::byte{'!'}};

bool starts_with_x_pagekite(std::string_view name) noexcept {
  return ascii_istarts_with(name, "x-pagekite");
}

// `now` as seconds since its epoch with 4 decimals (pagekite.py sends Unix time "%.4f").
std::string format_time(time_point now) {
  const auto ticks = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch())
                         .count();
  const auto total = ticks < 0 ? 0 : static_cast<std::uint64_t>(ticks) / 100U;  // 1/10000 s
  std::array<char, 32> buf{};
  auto r = std::to_chars(buf.data(), buf.data() + buf.size(), total / 10000U);
  *r.ptr++ = '.';
  const auto frac = total % 10000U;
  for (std::uint64_t div = 1000; div > 0; div /= 10) {
    *r.ptr++ = static_cast<char>('0' + (frac / div) % 10U);
  }
  return std::string(buf.data(), r.ptr);
}

}  // namespace

session::session(role r, const session_limits& limits, time_point now)
    : role_(r), limits_(limits), now_(now), last_rx_(now) {
  limits_.max_chunk_data = std::max<std::size_t>(limits_.max_chunk_data, 1);
  limits_.max_sid = std::max<sid_t>(limits_.max_sid, 1);
  limits_.ack_threshold = std::max<std::uint64_t>(limits_.ack_threshold, 1);
  outbox_.reserve(16);
}

// ---------------------------------------------------------------------------------- liveness

void session::on_tunnel_bytes_received(time_point now) noexcept {
  last_rx_ = now;
  now_ = std::max(now_, now);
  ping_outstanding_ = false;
}

void session::on_timer(time_point now, std::string_view ping_token) {
  refusals_this_tick_ = 0;
  now_ = std::max(now_, now);
  if (dead_) {
    return;
  }
  check_stalled(now);
  evict_if_stalled(now);
  reap_quiet_streams();
  if (ping_outstanding_) {
    if (now - ping_sent_at_ >= limits_.dead_after) {
      dead_ = true;
      outbox_.emplace_back(tunnel_dead{});
    }
    return;
  }
  if (now - last_rx_ < limits_.ping_interval) {
    return;
  }
  last_ping_ = ping_token.empty() ? format_time(now)
                                  : std::string(ping_token.substr(0, max_ping_chars));
  ping_outstanding_ = true;
  rtt_pending_ = true;
  ping_sent_at_ = now;
  send_chunk c;
  c.headers.noop = true;
  c.headers.ping = last_ping_;
  c.data = filler_bang;
  outbox_.emplace_back(std::move(c));
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

// --------------------------------------------------------------------------------- refusals

bool session::recently_refused(sid_t sid) const noexcept {
  return std::find(refused_.begin(), refused_.begin() + static_cast<std::ptrdiff_t>(refused_count_),
                   sid) != refused_.begin() + static_cast<std::ptrdiff_t>(refused_count_);
}

void session::remember_refused(sid_t sid) noexcept {
  if (recently_refused(sid)) {
    return;
  }
  refused_[refused_next_] = sid;
  refused_next_ = (refused_next_ + 1) % refused_ring_size;
  refused_count_ = std::min(refused_count_ + 1, refused_ring_size);
}

void session::unremember_refused(sid_t sid) noexcept {
  for (std::size_t i = 0; i < refused_count_; ++i) {
    if (refused_[i] == sid) {
      refused_[i] = 0;  // SID 0 is never allocated by us; a harmless placeholder
    }
  }
}

// `dedupe`: skip SIDs refused recently (stray data for a stream the peer already knows is gone).
// New-stream refusals are always sent (within the per-tick budget) so visitors never hang.
void session::refuse(sid_t sid, bool dedupe) {
  if (dedupe && recently_refused(sid)) {
    return;
  }
  if (refusals_this_tick_ >= limits_.max_refusals_per_tick) {
    return;
  }
  ++refusals_this_tick_;
  remember_refused(sid);
  send_eof(sid, wire::eof_flags::both);
}

void session::send_eof(sid_t sid, wire::eof_flags flags) {
  send_chunk c;
  c.headers.sid = sid;
  c.headers.eof = flags;
  c.data = filler_bye;
  outbox_.emplace_back(std::move(c));
}

// ------------------------------------------------------------------------------- local input

result<sid_t> session::open_stream(const stream_open& open, std::span<const std::byte> first) {
  if (role_ != role::relay) {
    return errc::wrong_role;
  }
  if (streams_.size() >= limits_.max_streams) {
    return errc::too_many_streams;
  }
  if (streams_.size() >= limits_.max_sid) {
    return errc::sid_space_exhausted;
  }
  // At most streams_.size() candidates are live, so this ends within size()+1 steps.
  sid_t sid = next_sid_;
  while (streams_.contains(sid)) {
    sid = sid >= limits_.max_sid ? 1 : sid + 1;
  }
  next_sid_ = sid >= limits_.max_sid ? 1 : sid + 1;
  unremember_refused(sid);
  stream& s = streams_.emplace(sid, new_stream()).first->second;

  const std::size_t n = std::min(first.size(), limits_.max_chunk_data);
  send_chunk c;
  c.headers.sid = sid;
  c.headers.proto = open.proto;
  c.headers.host = open.host;
  c.headers.port = open.port;
  c.headers.rip = open.rip;
  c.headers.rport = open.rport;
  c.headers.rtls = open.rtls;
  c.data = first.first(n);
  outbox_.emplace_back(std::move(c));
  s.sent += n;
  send_data(sid, s, first.subspan(n));
  return sid;
}

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

std::error_code session::on_local_eof(sid_t sid) {
  auto it = streams_.find(sid);
  if (it == streams_.end()) {
    return errc::unknown_stream;
  }
  stream& s = it->second;
  s.last_active = now_;
  if (!s.up_done) {
    s.up_done = true;
    send_eof(sid, wire::eof_flags::read);
  }
  if (s.down_done) {
    outbox_.emplace_back(close_local{sid});
    forget(sid);
  }
  return {};
}

std::error_code session::on_local_write_failed(sid_t sid) {
  auto it = streams_.find(sid);
  if (it == streams_.end()) {
    return errc::unknown_stream;
  }
  stream& s = it->second;
  if (!s.down_done) {
    s.down_done = true;
    send_eof(sid, wire::eof_flags::write);
  }
  // Whatever was delivered but not written will never be: release it from the budget.
  budget_used_ -= s.delivered - s.written;
  s.written = s.delivered;
  s.acked_written = s.written;  // dropped bytes are never acknowledged with SKB
  s.drained_at = now_;
  s.last_active = now_;
  if (s.up_done) {
    outbox_.emplace_back(close_local{sid});
    forget(sid);
  }
  maybe_resume_tunnel();
  return {};
}

std::error_code session::close_stream(sid_t sid) {
  if (!streams_.contains(sid)) {
    return errc::unknown_stream;
  }
  send_eof(sid, wire::eof_flags::both);
  remember_refused(sid);  // stray data still in flight for it gets no second EOF
  forget(sid);
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

void session::on_tunnel_lost() {
  std::vector<sid_t> sids;
  sids.reserve(streams_.size());
  for (const auto& [sid, s] : streams_) {
    sids.push_back(sid);
  }
  std::sort(sids.begin(), sids.end());
  streams_.clear();
  budget_used_ = 0;
  chunk_open_ = false;
  mode_ = chunk_mode::none;
  for (sid_t sid : sids) {
    outbox_.emplace_back(close_local{sid});
  }
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

void session::check_stalled(time_point now) {
  now_ = std::max(now_, now);
  if (tunnel_paused_ && evict_stalled_holders()) {
    paused_at_ = now_;
  }
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

bool session::evict_stalled_holders() {
  if (limits_.stalled_after <= duration::zero()) {
    return false;
  }
  std::uint64_t holding = 0;
  for (const auto& [sid, st] : streams_) {
    holding += st.delivered > st.written ? 1U : 0U;
  }
  if (holding == 0) {
    return false;
  }
  // What must be got back to: under the budget, or to half of it once paused (where reading
  // resumes). Some stream holds more than target / holding while above it, so there is always
  // a candidate once it has been stalled long enough.
  const std::uint64_t target =
      tunnel_paused_ ? limits_.receive_budget / 2 : limits_.receive_budget;
  const std::uint64_t share = target / holding;
  // Largest first, then lowest SID: the order does not depend on the hash table.
  std::vector<std::pair<std::uint64_t, sid_t>> victims;
  for (const auto& [sid, st] : streams_) {
    const std::uint64_t h = st.delivered - st.written;
    if (h > 0 && h >= share && now_ - st.drained_at >= limits_.stalled_after) {
      victims.emplace_back(h, sid);
    }
  }
  std::sort(victims.begin(), victims.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  // The largest first, and only as many as it takes: a stalled stream that no longer stands in
  // anyone's way keeps its data.
  bool any = false;
  for (const auto& [held, sid] : victims) {
    if (budget_used_ <= target) {
      break;
    }
    evict(sid, held, evict_reason::stalled_share);
    any = true;
  }
  return any;
}

void session::evict(sid_t sid, std::uint64_t held, evict_reason why) {
  outbox_.emplace_back(evict_local{sid, held, why});
  // EOF: 1WR, no second EOF for its data in flight, `held` released (may resume the tunnel).
  (void)close_stream(sid);
}

void session::evict_if_stalled(time_point now) {
  if (!tunnel_paused_ || limits_.evict_after <= duration::zero() ||
      now - paused_at_ < limits_.evict_after) {
    return;
  }
  // The largest holder (lowest SID on a tie, so the choice does not depend on hash order).
  sid_t victim = 0;
  std::uint64_t held = 0;
  for (const auto& [sid, st] : streams_) {
    const std::uint64_t h = st.delivered - st.written;
    if (h > held || (h == held && h > 0 && sid < victim)) {
      victim = sid;
      held = h;
    }
  }
  paused_at_ = now;
  if (held == 0) {
    return;  // cannot happen while paused (the budget is the sum of holdings); be safe
  }
  evict(victim, held, evict_reason::budget_full);
}

void session::reap_quiet_streams() {
  const duration half = limits_.half_closed_timeout;
  const duration idle = limits_.idle_timeout;
  if (half <= duration::zero() && idle <= duration::zero()) {
    return;
  }
  std::vector<std::pair<sid_t, reap_reason>> quiet;
  for (const auto& [sid, st] : streams_) {
    const duration silent = now_ - st.last_active;
    if (idle > duration::zero() && silent >= idle) {
      quiet.emplace_back(sid, reap_reason::idle);
    } else if (half > duration::zero() && st.up_done != st.down_done && silent >= half) {
      quiet.emplace_back(sid, reap_reason::half_closed);
    }
  }
  std::sort(quiet.begin(), quiet.end());
  for (const auto& [sid, why] : quiet) {
    outbox_.emplace_back(reap_local{sid, why});
    (void)close_stream(sid);
  }
}

std::uint64_t session::unacked_bytes(sid_t sid) const noexcept {
  auto it = streams_.find(sid);
  return it == streams_.end() ? 0 : it->second.sent - it->second.acked;
}

bool session::check_invariants_for_test() const noexcept {
  if (streams_.size() > limits_.max_streams) {
    return false;
  }
  std::uint64_t unwritten = 0;
  for (const auto& [sid, s] : streams_) {
    if (s.written > s.delivered || s.acked > s.sent || s.acked_written > s.written) {
      return false;
    }
    if (sid == 0 && role_ == role::relay) {
      return false;
    }
    unwritten += s.delivered - s.written;
  }
  return unwritten == budget_used_;
}

}  // namespace kiteline::mux
