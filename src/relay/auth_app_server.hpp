// relay::app_server: one SERVER auth app (spec 8.3) kept running as `APP --server`, fed one
// request line at a time on its stdin, its one-line answers read from its stdout. Lives on one
// worker (its home); requests come from any worker and are answered on the requester's own
// executor. Internal to relay/auth_app.cpp.
#pragma once

#include "net/asio.hpp"
#include "relay/auth_app_answer.hpp"
#include "relay/auth_app_process.hpp"

#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <string>

#include <spdlog/logger.h>

namespace kiteline::relay {

/// One request to a SERVER app. Made by the requester on its executor; the home worker fills
/// the answer and then cancels `wake` on the requester's executor (so the requester reads the
/// answer after its wait ends, on its own thread).
struct app_request {
  explicit app_request(const asio::any_io_executor& ex) : wake(ex), requester(ex) {
    wake.expires_at(asio::steady_timer::time_point::max());
  }
  asio::steady_timer wake;
  asio::any_io_executor requester;
  std::string line;                                ///< "--auth DOMAIN\n"
  std::chrono::steady_clock::time_point deadline;  ///< answered by then, or failed
  bool ok = false;
  std::string text;  ///< ok: the answer line; else why it failed
};

class app_server : public std::enable_shared_from_this<app_server> {
 public:
  /// At most this many starts of the app within restart_window; beyond, requests fail until
  /// the oldest start leaves the window.
  static constexpr std::size_t max_starts = 5;
  static constexpr std::chrono::seconds restart_window{60};

  app_server(asio::io_context& home, std::string path, std::size_t answer_limit,
             std::shared_ptr<spdlog::logger> log);
  /// Starts the request loop on the home worker (the app itself starts with the first
  /// request, after the relay dropped its privileges).
  void start();
  /// Queues `r` (any thread). Its answer comes by r->wake.
  void submit(std::shared_ptr<app_request> r);
  /// Fails what is queued and ends the loop (any thread); the app is killed and reaped.
  void stop();

 private:
  net::awaitable<void> run();
  /// Asks the running app (starting it first if needed) one request.
  net::awaitable<void> serve(std::shared_ptr<app_request> r);
  /// Kills and reaps the app; how it ended, for the log.
  net::awaitable<std::string> end_child();
  void finish(const std::shared_ptr<app_request>& r, bool ok, std::string text);

  asio::io_context& home_;
  const std::string path_;
  std::shared_ptr<spdlog::logger> log_;
  // Home worker only:
  std::deque<std::shared_ptr<app_request>> queue_;
  asio::steady_timer wake_;
  bool stopping_ = false;
  std::optional<app_child> child_;
  auth_app_output out_;
  std::deque<std::chrono::steady_clock::time_point> starts_;
};

}  // namespace kiteline::relay
