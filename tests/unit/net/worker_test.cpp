// Unit tests for net::worker_pool: one io_context and one thread per worker, start/stop
// idempotent, run_here() running worker 0 on the calling thread.
#include "net/worker.hpp"

#include <gtest/gtest.h>

#include <future>
#include <set>
#include <thread>
#include <memory>

namespace kiteline::net {
namespace {

/// The thread that runs a handler posted to `ctx` (waits for it).
std::thread::id thread_of(asio::io_context& ctx) {
  std::promise<std::thread::id> p;
  auto f = p.get_future();
  asio::post(ctx, [&p] { p.set_value(std::this_thread::get_id()); });
  return f.get();
}

TEST(worker_pool, zero_workers_means_one) {
  worker_pool pool(0);
  EXPECT_EQ(pool.size(), 1u);
}

TEST(worker_pool, one_thread_per_worker) {
  worker_pool pool(3);
  ASSERT_EQ(pool.size(), 3u);
  pool.start();
  std::set<std::thread::id> ids;
  for (std::size_t i = 0; i < pool.size(); ++i) {
    ids.insert(thread_of(pool.context(i)));
  }
  EXPECT_EQ(ids.size(), 3u) << "each worker runs on its own thread";
  EXPECT_EQ(ids.count(std::this_thread::get_id()), 0u) << "start() runs none on the caller";
  // The same worker keeps its thread.
  EXPECT_EQ(thread_of(pool.context(1)), thread_of(pool.context(1)));
  pool.stop();
}

TEST(worker_pool, idle_workers_keep_running_until_stopped) {
  worker_pool pool(2);
  pool.start();
  // An empty queue does not end them (their work guards hold them): a handler posted after
  // the first one ran is still served.
  EXPECT_NE(thread_of(pool.context(0)), std::thread::id{});
  EXPECT_FALSE(pool.context(0).stopped());
  EXPECT_NE(thread_of(pool.context(0)), std::thread::id{});
  EXPECT_FALSE(pool.context(1).stopped());
  pool.stop();
  EXPECT_TRUE(pool.context(0).stopped());
  EXPECT_TRUE(pool.context(1).stopped());
}

TEST(worker_pool, start_and_stop_are_idempotent) {
  worker_pool pool(2);
  pool.start();
  pool.start();
  std::set<std::thread::id> ids{thread_of(pool.context(0)), thread_of(pool.context(1))};
  EXPECT_EQ(ids.size(), 2u);
  pool.stop();
  pool.stop();
  EXPECT_TRUE(pool.context(0).stopped());
}

TEST(worker_pool, stop_without_start) {
  worker_pool pool(2);
  pool.stop();
  EXPECT_TRUE(pool.context(0).stopped());
  EXPECT_TRUE(pool.context(1).stopped());
}

TEST(worker_pool, run_here_runs_worker_zero_on_the_calling_thread) {
  worker_pool pool(2);
  auto zero = std::make_shared<std::promise<std::thread::id>>();
  auto one = std::make_shared<std::promise<std::thread::id>>();
  auto f0 = zero->get_future();
  auto f1 = one->get_future();
  asio::post(pool.context(0), [zero] { zero->set_value(std::this_thread::get_id()); });
  asio::post(pool.context(1), [one] { one->set_value(std::this_thread::get_id()); });
  std::thread stopper([&] {
    f0.wait();
    f1.wait();
    pool.stop();
  });
  pool.run_here();
  stopper.join();
  EXPECT_EQ(f0.get(), std::this_thread::get_id()) << "worker 0 ran on the caller";
  EXPECT_NE(f1.get(), std::this_thread::get_id()) << "worker 1 on its own thread";
}

TEST(worker_pool, handlers_posted_across_workers_run_on_the_owner) {
  worker_pool pool(2);
  pool.start();
  const auto owner = thread_of(pool.context(1));
  std::promise<std::thread::id> p;
  auto f = p.get_future();
  asio::post(pool.context(0), [&] {
    asio::post(pool.context(1), [&] { p.set_value(std::this_thread::get_id()); });
  });
  EXPECT_EQ(f.get(), owner);
  pool.stop();
}

}  // namespace
}  // namespace kiteline::net
