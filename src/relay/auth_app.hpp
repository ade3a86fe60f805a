// relay::auth_apps: the relay's --authdomain=/path/app auth apps (spec 8.3). Each app is asked
// `--capabilities` once at start; then, per kite, `--auth DOMAIN` (the relay checks the kite's
// signature with the secret the app answers) or `--zk-auth QNAME` (the app answers like a DNS
// authority). A SERVER app is kept running as one `APP --server` process that reads one
// request line on stdin and answers one JSON line on stdout, in order; it is restarted when
// it dies (at most 5 starts a minute). Other apps run once per request. Nothing blocks a
// worker: processes are watched by the workers' io_contexts. Answers share relay::authority's
// rules: a cache, a relay-wide bound on requests in flight (--auththreads), a timeout
// (--authdns_timeout), and every failure is a `failed` grant (fail closed).
#pragma once

#include "config/relay_config.hpp"
#include "net/asio.hpp"
#include "relay/auth_answer.hpp"
#include "relay/auth_app_answer.hpp"
#include "relay/auth_cache.hpp"
#include "wire/handshake.hpp"

#include <atomic>
#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <spdlog/logger.h>

namespace kiteline::relay {

class app_server;

/// Every auth app of one relay. Any worker (the cache and the in-flight count are shared; a
/// SERVER app's process lives on worker 0).
class auth_apps {
 public:
  /// `contexts` are the workers' io_contexts (by worker index); they must outlive this object.
  auth_apps(const config::relay_auth_config& cfg, std::vector<asio::io_context*> contexts,
            std::shared_ptr<spdlog::logger> log);
  ~auth_apps();
  auth_apps(const auth_apps&) = delete;
  auth_apps& operator=(const auth_apps&) = delete;

  /// Runs `APP --capabilities` for every app of --authdomain (blocking, each within the
  /// timeout) and logs what each offers. "" when all can be used, else the error for the
  /// operator: which app, what went wrong, what it must do. Call once, before the workers run.
  [[nodiscard]] std::string start();

  /// Asks `app` about kite `k` (on the calling coroutine's executor, a worker). Never throws:
  /// an app that cannot be run, exits non-zero, answers no JSON or too late, or a full queue
  /// is a `failed` grant whose detail says which. `fresh` skips the cache (quota re-checks).
  net::awaitable<auth_grant> ask(std::string app, wire::kite_request k, bool fresh = false);

  /// Requests in flight now (any thread).
  [[nodiscard]] std::size_t in_flight() const noexcept { return in_flight_.load(); }

 private:
  struct app_entry {
    auth_app_caps caps;
    std::shared_ptr<app_server> server;  ///< SERVER apps only
  };
  const config::relay_auth_config cfg_;
  std::vector<asio::io_context*> contexts_;
  std::shared_ptr<spdlog::logger> log_;
  std::map<std::string, app_entry, std::less<>> apps_;  ///< filled by start(), then read-only
  std::atomic<std::size_t> in_flight_{0};
  /// The apps' answers as they wrote them (decoded again on each hit: the kite differs).
  auth_cache<std::string> cache_;
};

}  // namespace kiteline::relay
