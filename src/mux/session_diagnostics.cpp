// mux::session's read-only views for drivers and tests: unacknowledged bytes, invariants.
#include "mux/session.hpp"

namespace kiteline::mux {

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
