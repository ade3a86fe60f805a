#include "app/service.hpp"

#include <cerrno>
#include <cstdint>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#if KITELINE_WITH_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "app/errc.hpp"
#include "app/log_sinks.hpp"

namespace kiteline::app {

namespace {

void notify(const std::string& state) {
#if KITELINE_WITH_SYSTEMD
  (void)::sd_notify(0, state.c_str());
#else
  (void)state;
#endif
}

/// Microseconds between WATCHDOG=1 pings when systemd asked for them, else 0.
unsigned long long watchdog_interval_us() {
#if KITELINE_WITH_SYSTEMD
  std::uint64_t usec = 0;
  if (::sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
    return usec / 2;
  }
#endif
  return 0;
}

bool write_all(int fd, const char* data, std::size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(fd, data, n);
    if (w < 0) {
      if (errno == EINTR) {
        continue;
      }
      return false;
    }
    data += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

/// Copies what is in `from` now to `to`; false at EOF (or error), true when it would block.
bool copy_available(int from, int to) {
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(from, buf, sizeof buf);
    if (n > 0) {
      (void)write_all(to, buf, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) {
      continue;
    }
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }
}

/// The process the shell started, after the daemon was forked: relays the daemon's stdout and
/// stderr until it reports ready (exit 0) or goes away without doing so (exit 1).
[[noreturn]] void run_foreground(int out, int err, int ready) {
  for (int fd : {out, err}) {
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  }
  pollfd fds[3] = {{out, POLLIN, 0}, {err, POLLIN, 0}, {ready, POLLIN, 0}};
  for (;;) {
    if (::poll(fds, 3, -1) < 0) {
      if (errno == EINTR) {
        continue;
      }
      ::_exit(1);
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd >= 0 && fds[i].revents != 0 && !copy_available(fds[i].fd, i + 1)) {
        fds[i].fd = -1;  // EOF: poll ignores it from now on
      }
    }
    if (fds[2].revents != 0) {
      char c = 0;
      const ssize_t n = ::read(ready, &c, 1);
      if (n < 0 && errno == EINTR) {
        continue;
      }
      // Whatever the daemon printed before it answered is in the pipes now. A key process it
      // started may hold them open, so never wait for their EOF.
      (void)copy_available(out, 1);
      (void)copy_available(err, 2);
      ::_exit(n == 1 && c == 'R' ? 0 : 1);
    }
  }
}

bool logs_to_stdio(const std::string& logfile) {
  return logfile.empty() || logfile == "stdio" || logfile == "stderr" || logfile == "-" ||
         logfile == "stdout";
}

}  // namespace

service::service(const config::process_config& cfg, std::shared_ptr<spdlog::logger> log)
    : cfg_(cfg), log_(std::move(log)) {
  cfg_.pidfile = absolute_path(cfg_.pidfile);  // removed at exit, whatever the directory is then
}

service::~service() {
  {
    const std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (watchdog_.joinable()) {
    watchdog_.join();
  }
  if (ready_fd_ >= 0) {
    ::close(ready_fd_);  // never ready: the foreground process exits 1
  }
  if (pidfile_written_) {
    // Only our own: a newer instance may have written its pid since.
    std::ifstream in(cfg_.pidfile);
    long pid = 0;
    if (in >> pid && pid == static_cast<long>(::getpid())) {
      (void)::unlink(cfg_.pidfile.c_str());
    }
  }
}

outcome<void> service::detach() {
  if (!cfg_.daemonize) {
    return {};
  }
  if (logs_to_stdio(cfg_.logfile)) {
    std::fprintf(stderr,
                 "kiteline: warning: --daemonize with the log on stdio: once running, log lines "
                 "go to /dev/null (give --logfile=FILE or --logfile=syslog)\n");
  }
  int out[2];
  int err[2];
  int ready[2];
  if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0 ||
      ::pipe2(ready, O_CLOEXEC) != 0) {
    return failure(errc::cannot_daemonize, std::string("--daemonize: pipe: ") +
                                               std::strerror(errno));
  }
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t child = ::fork();
  if (child < 0) {
    return failure(errc::cannot_daemonize, std::string("--daemonize: fork: ") +
                                               std::strerror(errno));
  }
  if (child > 0) {
    ::close(out[1]);
    ::close(err[1]);
    ::close(ready[1]);
    int st = 0;
    while (::waitpid(child, &st, 0) < 0 && errno == EINTR) {
    }
    run_foreground(out[0], err[0], ready[0]);
  }
  // The first child: a new session without a terminal, then a second fork so the daemon is
  // not a session leader and can never get a controlling terminal again.
  ::close(out[0]);
  ::close(err[0]);
  ::close(ready[0]);
  if (::setsid() < 0) {
    const std::string why = std::string("kiteline: --daemonize: setsid: ") +
                            std::strerror(errno) + "\n";
    (void)write_all(err[1], why.data(), why.size());
    ::_exit(1);
  }
  const pid_t daemon = ::fork();
  if (daemon != 0) {
    if (daemon < 0) {
      const std::string why = std::string("kiteline: --daemonize: fork: ") +
                              std::strerror(errno) + "\n";
      (void)write_all(err[1], why.data(), why.size());
    }
    ::_exit(daemon < 0 ? 1 : 0);
  }
  // The daemon: until ready(), what it prints reaches the terminal through the foreground.
  const int null = ::open("/dev/null", O_RDWR);
  ::dup2(null, 0);
  ::dup2(out[1], 1);
  ::dup2(err[1], 2);
  for (int fd : {null, out[1], err[1]}) {
    if (fd > 2) {
      ::close(fd);
    }
  }
  ready_fd_ = ready[1];
  return {};
}

outcome<void> service::write_pidfile() {
  if (cfg_.pidfile.empty()) {
    return {};
  }
  const std::string text = std::to_string(::getpid()) + "\n";
  const int fd = ::open(cfg_.pidfile.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0 || !write_all(fd, text.data(), text.size())) {
    const int e = errno;
    if (fd >= 0) {
      ::close(fd);
    }
    return failure(errc::cannot_write_pidfile,
                   "cannot write --pidfile=" + cfg_.pidfile + ": " + std::strerror(e));
  }
  ::close(fd);
  pidfile_written_ = true;
  return {};
}

void service::ready(const std::string& status) {
  if (ready_fd_ >= 0) {
    std::fflush(stdout);
    std::fflush(stderr);
    const int null = ::open("/dev/null", O_RDWR);
    for (int fd = 0; fd <= 2; ++fd) {
      ::dup2(null, fd);
    }
    if (null > 2) {
      ::close(null);
    }
    (void)write_all(ready_fd_, "R", 1);
    ::close(ready_fd_);
    ready_fd_ = -1;
    log_->info("daemonized: pid={}", static_cast<long>(::getpid()));
  }
  notify("READY=1\nMAINPID=" + std::to_string(::getpid()) + "\nSTATUS=" + status);
  if (const auto interval = watchdog_interval_us(); interval > 0 && !watchdog_.joinable()) {
    log_->info("systemd watchdog: WATCHDOG=1 every {} ms", interval / 1000);
    watchdog_ = std::thread([this, interval] { watchdog_loop(interval); });
  }
}

void service::status(const std::string& status) { notify("STATUS=" + status); }

void service::stopping(const std::string& why) { notify("STOPPING=1\nSTATUS=" + why); }

void service::watchdog_loop(unsigned long long interval_us) {
  std::unique_lock lock(mu_);
  for (;;) {
    notify("WATCHDOG=1");
    if (cv_.wait_for(lock, std::chrono::microseconds(interval_us), [this] { return stop_; })) {
      return;
    }
  }
}

}  // namespace kiteline::app
