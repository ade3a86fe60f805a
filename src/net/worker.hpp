// Workers: one io_context + one thread each (style §4, Asio "server2" model).
#pragma once

#include <cstddef>
#include <memory>
#include <thread>
#include <vector>

#include "net/asio.hpp"

namespace kiteline::net {

/// A pool of N workers, each an io_context run by one thread. Objects are owned by exactly one
/// worker; cross-worker calls go through asio::post to the owner's executor.
class worker_pool {
 public:
  explicit worker_pool(std::size_t n);
  ~worker_pool();
  worker_pool(const worker_pool&) = delete;
  worker_pool& operator=(const worker_pool&) = delete;

  [[nodiscard]] std::size_t size() const noexcept { return contexts_.size(); }
  asio::io_context& context(std::size_t i) noexcept { return *contexts_[i]; }

  /// Starts one thread per worker (worker 0 included). Idempotent.
  void start();
  /// Stops every io_context and joins the threads. Idempotent; safe from any thread except a
  /// worker thread.
  void stop();
  /// Runs worker 0 on the calling thread and the others on their own threads, until stopped.
  void run_here();

 private:
  std::vector<std::unique_ptr<asio::io_context>> contexts_;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards_;
  std::vector<std::thread> threads_;
  bool started_ = false;
};

}  // namespace kiteline::net
