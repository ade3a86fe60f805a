#include "connector/backoff.hpp"

#include <algorithm>
#include <cmath>

namespace kiteline::connector {

std::chrono::milliseconds backoff::next_bound() const noexcept {
  const double first = static_cast<double>(s_.first.count());
  const double cap = static_cast<double>(s_.cap.count());
  // Stop multiplying once the cap is reached (no overflow for any number of attempts).
  double b = first;
  for (std::uint32_t i = 0; i < attempts_ && b < cap; ++i) {
    b *= std::max(1.0, s_.factor);
  }
  b = std::min(b, cap);
  return std::chrono::milliseconds(static_cast<std::int64_t>(b));
}

std::chrono::milliseconds backoff::next(double random01) noexcept {
  if (!(random01 >= 0.0)) {  // also catches NaN
    random01 = 0.0;
  }
  random01 = std::min(random01, 1.0);
  const double b = static_cast<double>(next_bound().count());
  if (attempts_ < 64) {
    ++attempts_;
  }
  const double d = b / 2.0 + (b / 2.0) * random01;
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(d)));
}

}  // namespace kiteline::connector
