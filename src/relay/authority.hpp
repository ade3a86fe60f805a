// relay::authority: asks --authdomain authorities about kites (spec 8.2) with c-ares, driven by
// each worker's io_context (c-ares's sockets are watched by Asio; nothing blocks a worker).
// A bounded cache of answers, a relay-wide bound on lookups in flight, a per-lookup timeout.
#pragma once

#include "config/relay_config.hpp"
#include "net/asio.hpp"
#include "relay/auth_answer.hpp"
#include "relay/auth_cache.hpp"

#include <atomic>
#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace kiteline::relay {

/// One relay's authority client. Any worker; each worker's lookups run on its own c-ares
/// channel (created on first use, on that worker), the cache and the in-flight count are shared.
class authority {
 public:
  /// `contexts` are the workers' io_contexts (by worker index); they must outlive this object.
  authority(const config::relay_auth_config& cfg, std::vector<asio::io_context*> contexts);
  ~authority();
  authority(const authority&) = delete;
  authority& operator=(const authority&) = delete;

  /// Asks about `qname` (auth_query_name) on `worker`, on that worker's thread. Never throws:
  /// an error, a timeout or a full queue (--auththreads lookups in flight) is a `failed` grant
  /// whose detail says which. `fresh` skips the cache (quota re-checks).
  net::awaitable<auth_grant> ask(std::size_t worker, std::string qname, bool fresh = false);

  /// Lookups in flight now (any thread).
  [[nodiscard]] std::size_t in_flight() const noexcept { return in_flight_.load(); }

  struct channel;  ///< one worker's c-ares channel and watched sockets (authority.cpp)

 private:
  const config::relay_auth_config cfg_;
  std::vector<asio::io_context*> contexts_;
  std::vector<std::shared_ptr<channel>> channels_;  ///< [worker], touched on that worker only
  std::atomic<std::size_t> in_flight_{0};
  /// Granted and refused answers, kept briefly: a connector that reconnects in a loop does
  /// not make the relay ask again each time. Failures are never kept.
  auth_cache<auth_grant> cache_;
};

}  // namespace kiteline::relay
