#include "relay/token_book.hpp"

namespace kiteline::relay {

void token_book::prune(std::uint64_t now) {
  // Every token is pushed once (a recorded token is never pushed again), so the queue and the
  // map always hold the same tokens.
  while (!by_expiry_.empty() && by_expiry_.top().first <= now) {
    expiry_.erase(by_expiry_.top().second);
    by_expiry_.pop();
  }
}

token_book::outcome token_book::accept(std::string_view token, std::uint64_t expires_at,
                                       std::uint64_t now) {
  std::lock_guard lock(mu_);
  prune(now);
  std::string key(token);
  if (expiry_.contains(key)) {
    return outcome::reused;
  }
  if (expiry_.size() >= capacity_) {
    return outcome::full;
  }
  expiry_.emplace(key, expires_at);
  by_expiry_.emplace(expires_at, std::move(key));
  return outcome::accepted;
}

std::size_t token_book::size() const {
  std::lock_guard lock(mu_);
  return expiry_.size();
}

}  // namespace kiteline::relay
