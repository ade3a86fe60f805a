// A one-executor wake-up primitive for coroutines (a steady_timer used as a condition flag).
#pragma once

#include <chrono>

#include "net/asio.hpp"

namespace kiteline::net {

/// `co_await s.wait()` suspends until `notify()` is called (or returns at once if notify()
/// happened since the last wait). One waiter at a time; everything on one executor.
class signal {
 public:
  explicit signal(const asio::any_io_executor& ex) : timer_(ex) {
    timer_.expires_at(std::chrono::steady_clock::time_point::max());
  }

  void notify() noexcept {
    pending_ = true;
    timer_.cancel();
  }

  awaitable<void> wait() {
    if (!pending_) {
      timer_.expires_at(std::chrono::steady_clock::time_point::max());
      auto [ec] = co_await timer_.async_wait(use_tuple);
      (void)ec;
    }
    pending_ = false;
  }

  /// Wakes the waiter for good (used on shutdown).
  void cancel() noexcept { notify(); }

 private:
  asio::steady_timer timer_;
  bool pending_ = false;
};

}  // namespace kiteline::net
