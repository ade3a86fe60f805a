#include "relay/move_to_worker.hpp"

namespace kiteline::relay {

void move_to_worker(net::worker_pool& pool, std::size_t target, tls::transport t,
                    std::function<void(tls::transport&&)> then, spdlog::logger& log) {
  if (auto ec = t.detach()) {
    log.info("visitor closed reason=\"cannot move it to worker {}: {}\"", target, ec.message());
    return;
  }
  asio::post(pool.context(target), [&pool, &log, target, t = std::move(t),
                                    then = std::move(then)]() mutable {
    if (auto ec = t.attach(pool.context(target).get_executor())) {
      log.info("visitor closed reason=\"cannot adopt it on worker {}: {}\"", target, ec.message());
      return;
    }
    then(std::move(t));
  });
}

}  // namespace kiteline::relay
