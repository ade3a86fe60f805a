// Tests of connector::backoff: first delay under 1 s, growth, cap, jitter bounds, reset.
#include <gtest/gtest.h>

#include "connector/backoff.hpp"

namespace kiteline::connector {
namespace {

using std::chrono::milliseconds;

TEST(backoff, first_delay_is_well_under_one_second) {
  backoff b;
  EXPECT_LT(b.next_bound(), milliseconds(1000));
  backoff low;
  EXPECT_GE(low.next(0.0), milliseconds(150));  // never a busy loop
  backoff high;
  EXPECT_LE(high.next(1.0), milliseconds(500));
}

TEST(backoff, grows_then_caps) {
  backoff b;
  milliseconds last{0};
  for (int i = 0; i < 10; ++i) {
    const auto bound = b.next_bound();
    EXPECT_GE(bound, last) << "attempt " << i;
    last = bound;
    (void)b.next(0.5);
  }
  EXPECT_GT(last, milliseconds(10000));
  for (int i = 0; i < 200; ++i) {
    EXPECT_LE(b.next(1.0), milliseconds(30000));
  }
  EXPECT_EQ(b.next_bound(), milliseconds(30000));
  EXPECT_GE(b.next(0.0), milliseconds(15000));
}

TEST(backoff, jitter_stays_within_half_bound_and_bound) {
  backoff::settings s;
  s.first = milliseconds(1000);
  s.cap = milliseconds(8000);
  s.factor = 2.0;
  for (double r : {0.0, 0.1, 0.5, 0.9, 1.0, -3.0, 7.0}) {
    backoff b(s);
    for (int i = 0; i < 6; ++i) {
      const auto bound = b.next_bound();
      const auto d = b.next(r);
      EXPECT_GE(d, bound / 2) << "r=" << r << " i=" << i;
      EXPECT_LE(d, bound) << "r=" << r << " i=" << i;
    }
  }
  backoff b(s);
  EXPECT_EQ(b.next(0.0), milliseconds(500));
  EXPECT_EQ(b.next(1.0), milliseconds(2000));
  EXPECT_EQ(b.next(0.5), milliseconds(3000));
  EXPECT_EQ(b.next(1.0), milliseconds(8000));
  EXPECT_EQ(b.next(1.0), milliseconds(8000));
}

TEST(backoff, reset_restarts_from_first) {
  backoff b;
  for (int i = 0; i < 12; ++i) {
    (void)b.next(0.5);
  }
  EXPECT_EQ(b.attempts(), 12u);
  b.reset();
  EXPECT_EQ(b.attempts(), 0u);
  EXPECT_EQ(b.next_bound(), b.config().first);
  EXPECT_LT(b.next(1.0), milliseconds(1000));
}

}  // namespace
}  // namespace kiteline::connector
