// metrics/counter: the counters and gauges kiteline's data path bumps (one relaxed atomic each,
// no lock, no allocation); the console reads them when Prometheus scrapes.
#pragma once

#include <atomic>
#include <cstdint>

namespace kiteline::metrics {

/// A monotonically increasing count (exposed as a Prometheus `_total` counter). Any thread:
/// add() is one relaxed fetch_add (scrapes need no ordering with other memory).
class counter {
 public:
  void add(std::uint64_t n = 1) noexcept { v_.fetch_add(n, std::memory_order_relaxed); }
  [[nodiscard]] std::uint64_t value() const noexcept { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> v_{0};
};

/// A value that goes up and down (exposed as a Prometheus gauge). Any thread, relaxed.
class gauge {
 public:
  void add(std::int64_t n = 1) noexcept { v_.fetch_add(n, std::memory_order_relaxed); }
  void sub(std::int64_t n = 1) noexcept { v_.fetch_sub(n, std::memory_order_relaxed); }
  void set(std::int64_t n) noexcept { v_.store(n, std::memory_order_relaxed); }
  [[nodiscard]] std::int64_t value() const noexcept { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::int64_t> v_{0};
};

}  // namespace kiteline::metrics
