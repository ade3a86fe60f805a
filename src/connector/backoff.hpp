// connector::backoff: jittered exponential reconnection delays (pure; rathole-style backoff).
#pragma once

#include <chrono>
#include <cstdint>

namespace kiteline::connector {

/// Reconnection delays for one relay. Pure: the random source is an argument, no clock inside.
/// The n-th delay (n from 0) is drawn from [b_n / 2, b_n] with b_n = min(cap, first * factor^n),
/// so the first retry comes within `first` (well under 1 s by default) and no delay exceeds cap.
class backoff {
 public:
  struct settings {
    std::chrono::milliseconds first{300};    ///< upper bound of the first delay
    std::chrono::milliseconds cap{30000};    ///< upper bound of every delay
    double factor = 1.5;                     ///< growth of the upper bound per attempt
  };

  backoff() = default;
  explicit backoff(settings s) : s_(s) {}

  /// The next delay. `random01` is a uniform draw from [0, 1] (values outside are clamped).
  /// Any executor (pure).
  [[nodiscard]] std::chrono::milliseconds next(double random01) noexcept;

  /// The upper bound the next call to next() draws below.
  [[nodiscard]] std::chrono::milliseconds next_bound() const noexcept;

  /// Back to the first delay (call after a tunnel stayed up long enough).
  void reset() noexcept { attempts_ = 0; }

  /// Delays handed out since the last reset().
  [[nodiscard]] std::uint32_t attempts() const noexcept { return attempts_; }

  [[nodiscard]] const settings& config() const noexcept { return s_; }

 private:
  settings s_{};
  std::uint32_t attempts_ = 0;
};

}  // namespace kiteline::connector
