// mux::session: opening and closing streams (the relay's new stream, the local side's EOF,
// write failure and close, a lost tunnel) and the bounded refusals of unknown SIDs.
#include <algorithm>

#include "mux/session.hpp"

namespace kiteline::mux {

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

// ------------------------------------------------------------------------- opening, closing

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

}  // namespace kiteline::mux
