// mux::session on the periodic tick: PING and the dead tunnel, eviction of streams that hold
// the receive budget (fair share, and the largest holder once the tunnel read stayed paused),
// reaping of half-closed and idle streams.
#include <algorithm>
#include <array>
#include <charconv>

#include "mux/session.hpp"
#include "mux/session_constants.hpp"

namespace kiteline::mux {
namespace {

using session_detail::filler_bang;
using session_detail::max_ping_chars;

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

void session::check_stalled(time_point now) {
  now_ = std::max(now_, now);
  if (tunnel_paused_ && evict_stalled_holders()) {
    paused_at_ = now_;
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

}  // namespace kiteline::mux
