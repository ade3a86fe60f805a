// Unit tests for net::signal, the one-waiter wake-up of a coroutine. The io_context is run with
// poll(): "still suspended" means it has nothing left to run, no time is involved.
#include "net/signal.hpp"

#include <gtest/gtest.h>

namespace kiteline::net {
namespace {

/// Spawns a coroutine that waits on `s` `times` times, counting the wake-ups.
void spawn_waiter(asio::io_context& ctx, signal& s, int times, int& woken) {
  asio::co_spawn(
      ctx,
      [&s, times, &woken]() -> awaitable<void> {
        for (int i = 0; i < times; ++i) {
          co_await s.wait();
          ++woken;
        }
      },
      asio::detached);
}

TEST(signal, wait_suspends_until_notify) {
  asio::io_context ctx;
  signal s(ctx.get_executor());
  int woken = 0;
  spawn_waiter(ctx, s, 1, woken);
  ctx.poll();
  EXPECT_EQ(woken, 0) << "the waiter must be suspended";
  EXPECT_FALSE(ctx.stopped()) << "a waiter keeps the context busy";
  s.notify();
  ctx.poll();
  EXPECT_EQ(woken, 1);
  EXPECT_TRUE(ctx.stopped()) << "the coroutine finished";
}

TEST(signal, a_notify_before_the_wait_is_kept) {
  asio::io_context ctx;
  signal s(ctx.get_executor());
  s.notify();
  int woken = 0;
  spawn_waiter(ctx, s, 1, woken);
  ctx.poll();
  EXPECT_EQ(woken, 1);
}

TEST(signal, notifies_collapse_into_one_wake_up) {
  asio::io_context ctx;
  signal s(ctx.get_executor());
  s.notify();
  s.notify();
  s.notify();
  int woken = 0;
  spawn_waiter(ctx, s, 2, woken);
  ctx.poll();
  EXPECT_EQ(woken, 1) << "three notifies before a wait are one pending wake-up";
  s.notify();
  ctx.poll();
  EXPECT_EQ(woken, 2);
}

TEST(signal, each_wait_consumes_its_notify) {
  asio::io_context ctx;
  signal s(ctx.get_executor());
  int woken = 0;
  spawn_waiter(ctx, s, 3, woken);
  for (int i = 1; i <= 3; ++i) {
    ctx.poll();
    EXPECT_EQ(woken, i - 1);
    s.notify();
    ctx.poll();
    EXPECT_EQ(woken, i);
  }
}

TEST(signal, cancel_wakes_the_waiter) {
  asio::io_context ctx;
  signal s(ctx.get_executor());
  int woken = 0;
  spawn_waiter(ctx, s, 1, woken);
  ctx.poll();
  ASSERT_EQ(woken, 0);
  s.cancel();
  ctx.poll();
  EXPECT_EQ(woken, 1);
}

}  // namespace
}  // namespace kiteline::net
