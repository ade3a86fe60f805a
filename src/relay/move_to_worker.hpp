// relay::move_to_worker: the one way a connection changes worker (style §4, scale-out).
#pragma once

#include "net/worker.hpp"
#include "tls/transport.hpp"

#include <cstddef>
#include <functional>

#include <spdlog/logger.h>

namespace kiteline::relay {

/// Detaches `t` from the current worker, attaches it on worker `target` of `pool`, and calls
/// `then(transport&&)` there. A connection that cannot move is closed and logged on `log`
/// ("visitor closed reason=..."). Call on the connection's current worker with no operation
/// pending on it; `pool` and `log` must outlive the move (the relay owns both).
void move_to_worker(net::worker_pool& pool, std::size_t target, tls::transport t,
                    std::function<void(tls::transport&&)> then, spdlog::logger& log);

}  // namespace kiteline::relay
