#include "net/worker.hpp"

namespace kiteline::net {

worker_pool::worker_pool(std::size_t n) {
  if (n == 0) {
    n = 1;
  }
  for (std::size_t i = 0; i < n; ++i) {
    contexts_.push_back(std::make_unique<asio::io_context>(1));
    guards_.push_back(asio::make_work_guard(*contexts_.back()));
  }
}

worker_pool::~worker_pool() { stop(); }

void worker_pool::start() {
  if (started_) {
    return;
  }
  started_ = true;
  for (auto& ctx : contexts_) {
    threads_.emplace_back([c = ctx.get()] { c->run(); });
  }
}

void worker_pool::run_here() {
  started_ = true;
  for (std::size_t i = 1; i < contexts_.size(); ++i) {
    threads_.emplace_back([c = contexts_[i].get()] { c->run(); });
  }
  contexts_[0]->run();
}

void worker_pool::stop() {
  guards_.clear();
  for (auto& ctx : contexts_) {
    ctx->stop();
  }
  for (auto& t : threads_) {
    if (t.joinable()) {
      t.join();
    }
  }
  threads_.clear();
}

}  // namespace kiteline::net
