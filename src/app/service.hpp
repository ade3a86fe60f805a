// The process around a running role: --daemonize (with errors still reaching the terminal until
// the ports are bound), --pidfile, and the systemd notifications (READY, STOPPING, WATCHDOG,
// STATUS through libsystemd's sd_notify; nothing is sent when not run by systemd).
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <spdlog/spdlog.h>

#include "config/process_config.hpp"
#include "core/outcome.hpp"

namespace kiteline::app {

/// One per run of a role, on main's thread. Call order: detach(), write_pidfile(), ready(),
/// stopping(); the destructor stops the watchdog and removes the pidfile.
class service {
 public:
  service(const config::process_config& cfg, std::shared_ptr<spdlog::logger> log);
  ~service();
  service(const service&) = delete;
  service& operator=(const service&) = delete;

  /// --daemonize: forks into a new session and returns in the daemon; the process the shell
  /// started stays in the foreground, copies the daemon's stdout/stderr to its own until
  /// ready() (so start-up errors still reach the terminal), then exits 0, or 1 when the
  /// daemon exits before ready(). Must run before any thread or child process exists.
  /// Without --daemonize, does nothing.
  outcome<void> detach();

  /// --pidfile: writes this process's id ("PID\n"); errc::cannot_write_pidfile when it cannot.
  /// Call once the ports are bound and before privileges are dropped (the file's directory,
  /// /run for example, is often root's).
  outcome<void> write_pidfile();

  /// The role is serving: a daemon's stdin/stdout/stderr become /dev/null and the foreground
  /// process is released; systemd gets READY=1 and STATUS=`status`, and WATCHDOG=1 every half
  /// of its WatchdogSec from a thread of this object.
  void ready(const std::string& status);

  /// STATUS=`status` (systemd only).
  void status(const std::string& status);

  /// SIGTERM/SIGINT: STOPPING=1 and STATUS=`why` (systemd only).
  void stopping(const std::string& why);

 private:
  void watchdog_loop(unsigned long long interval_us);

  config::process_config cfg_;
  std::shared_ptr<spdlog::logger> log_;
  int ready_fd_ = -1;           ///< daemon: the write end the foreground process waits on
  bool pidfile_written_ = false;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread watchdog_;
};

}  // namespace kiteline::app
