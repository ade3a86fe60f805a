// The stop signals of main's sigwait loop: SIGTERM drains (--grace_seconds), a second SIGTERM
// or a SIGINT ends at once; the end of a drain wakes the loop.
#pragma once

#include <atomic>
#include <chrono>

#include <spdlog/logger.h>

namespace kiteline::app {

/// What main does with SIGTERM and SIGINT. Used by main's thread only, except finished().
class drain_control {
 public:
  drain_control(unsigned grace_seconds, spdlog::logger& log) : grace_(grace_seconds), log_(log) {}

  /// A stop signal arrived. True: start the drain now (the first SIGTERM, with a grace);
  /// false: stop at once (SIGINT, a second SIGTERM, a grace of 0, or the drain's own wake-up).
  /// Logs which.
  [[nodiscard]] bool begin(int sig);
  [[nodiscard]] std::chrono::seconds grace() const noexcept { return grace_; }
  /// The drain is over: wakes main's sigwait() (a SIGTERM to this process, blocked in every
  /// thread). Any thread.
  void finished() noexcept;

 private:
  std::chrono::seconds grace_;
  spdlog::logger& log_;
  bool started_ = false;
  std::atomic<bool> finished_{false};
};

}  // namespace kiteline::app
