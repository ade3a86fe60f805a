// The child processes of --authdomain auth apps (spec 8.3): started with posix_spawn, their
// stdout (and for SERVER apps their stdin) on one end of a socketpair that Asio reads and
// writes, their exit watched through a pidfd, so nothing here blocks a worker. A socket
// rather than a pipe: a write to an app that died is EPIPE, never SIGPIPE.
#pragma once

#include "net/asio.hpp"

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace kiteline::relay {

/// A running app. Owns the process: destroying it before reap() kills (SIGKILL) and reaps the
/// child (blocking, short: the child cannot ignore SIGKILL). Move-only.
class app_child {
 public:
  app_child() = default;
  ~app_child();
  app_child(app_child&& o) noexcept;
  app_child& operator=(app_child&& o) noexcept;
  app_child(const app_child&) = delete;
  app_child& operator=(const app_child&) = delete;

  /// Starts `path args...` with the relay's environment, signals at their defaults and none
  /// blocked. The app's stdout (and its stdin when `with_stdin`, else /dev/null) is the other
  /// end of io(); its stderr is the relay's. Errors say what failed (ENOENT, EACCES, ...).
  static std::optional<app_child> spawn(asio::any_io_executor ex, const std::string& path,
                                        const std::vector<std::string>& args, bool with_stdin,
                                        std::string& error);

  [[nodiscard]] bool running() const noexcept { return pid_ > 0; }
  [[nodiscard]] pid_t pid() const noexcept { return pid_; }
  /// The app's stdout (and stdin), our end.
  [[nodiscard]] asio::local::stream_protocol::socket& io() noexcept { return *io_; }
  /// SIGKILL (the app is then reaped by reap()).
  void kill() noexcept;
  /// Waits for the app to exit (its pidfd readable) and reaps it: its wait status (as
  /// waitpid gives it); nullopt when the wait was cancelled (the app still runs) or there is
  /// no app. On the executor given to spawn().
  net::awaitable<std::optional<int>> reap();

 private:
  pid_t pid_ = -1;
  std::optional<asio::local::stream_protocol::socket> io_;
  std::optional<asio::posix::stream_descriptor> exited_;  ///< the pidfd
};

/// Words for a wait status: "exited with status 3", "was killed by signal 9".
[[nodiscard]] std::string describe_exit(int status);

/// What one run of a one-shot app gave.
struct app_run {
  bool ok = false;     ///< exited 0 within the time with at most `limit` bytes of output
  std::string output;  ///< its stdout
  std::string error;   ///< when !ok: why (spawn error, timeout, exit status, too much output)
};

/// Runs `path args...` once, with stdin /dev/null, and collects its stdout until it exits.
/// Past `timeout` it is killed and the run fails. On the calling coroutine's executor.
net::awaitable<app_run> run_app_once(std::string path, std::vector<std::string> args,
                                     std::chrono::milliseconds timeout, std::size_t limit);

}  // namespace kiteline::relay
