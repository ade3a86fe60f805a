#include "relay/auth_app_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <utility>

#include <fmt/format.h>

extern char** environ;

namespace kiteline::relay {

using namespace asio::experimental::awaitable_operators;
using net::use_tuple;

namespace {

/// Closes an fd on scope exit unless released.
struct fd_guard {
  int fd = -1;
  ~fd_guard() {
    if (fd >= 0) {
      ::close(fd);
    }
  }
  int release() noexcept { return std::exchange(fd, -1); }
};

/// The spawn attributes: no signal blocked, the ones the relay handles or ignores at their
/// defaults (an ignored SIGPIPE would be inherited through exec).
struct spawn_attrs {
  posix_spawnattr_t attr{};
  spawn_attrs() {
    posix_spawnattr_init(&attr);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attr, &none);
    sigset_t defaults;
    sigemptyset(&defaults);
    for (int s : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGCHLD}) {
      sigaddset(&defaults, s);
    }
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  }
  ~spawn_attrs() { posix_spawnattr_destroy(&attr); }
  spawn_attrs(const spawn_attrs&) = delete;
  spawn_attrs& operator=(const spawn_attrs&) = delete;
};

struct file_actions {
  posix_spawn_file_actions_t fa{};
  file_actions() { posix_spawn_file_actions_init(&fa); }
  ~file_actions() { posix_spawn_file_actions_destroy(&fa); }
  file_actions(const file_actions&) = delete;
  file_actions& operator=(const file_actions&) = delete;
};

// (Formatted outside the coroutines: GCC 12 miscompiles fmt's compile-time format strings
// inside a coroutine body.)
std::string timeout_text(const std::string& path, std::chrono::milliseconds timeout) {
  return fmt::format("{} timed out after {:g} s", path,
                     std::chrono::duration<double>(timeout).count());
}

std::string too_long_text(const std::string& path, std::size_t limit) {
  return fmt::format("{} wrote more than {} bytes", path, limit);
}

}  // namespace

app_child::~app_child() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int st = 0;
    while (::waitpid(pid_, &st, 0) < 0 && errno == EINTR) {
    }
  }
}

app_child::app_child(app_child&& o) noexcept
    : pid_(std::exchange(o.pid_, -1)), io_(std::move(o.io_)), exited_(std::move(o.exited_)) {}

app_child& app_child::operator=(app_child&& o) noexcept {
  if (this != &o) {
    app_child old(std::move(*this));
    pid_ = std::exchange(o.pid_, -1);
    io_ = std::move(o.io_);
    exited_ = std::move(o.exited_);
  }
  return *this;
}

std::optional<app_child> app_child::spawn(asio::any_io_executor ex, const std::string& path,
                                          const std::vector<std::string>& args, bool with_stdin,
                                          std::string& error) {
  std::array<int, 2> sv{-1, -1};
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv.data()) != 0) {
    error = std::string("socketpair: ") + std::strerror(errno);
    return std::nullopt;
  }
  fd_guard ours{sv[0]};
  fd_guard theirs{sv[1]};
  file_actions fa;
  if (with_stdin) {
    posix_spawn_file_actions_adddup2(&fa.fa, theirs.fd, STDIN_FILENO);
  } else {
    posix_spawn_file_actions_addopen(&fa.fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  }
  posix_spawn_file_actions_adddup2(&fa.fa, theirs.fd, STDOUT_FILENO);
  // Nothing else of the relay's: Asio's sockets are not close-on-exec, and an app holding a
  // copy of a tunnel or a listener would keep it open past the relay's close.
  posix_spawn_file_actions_addclosefrom_np(&fa.fa, STDERR_FILENO + 1);
  spawn_attrs attrs;
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(path.c_str()));
  for (const auto& a : args) {
    argv.push_back(const_cast<char*>(a.c_str()));
  }
  argv.push_back(nullptr);
  pid_t pid = -1;
  if (const int rc = ::posix_spawn(&pid, path.c_str(), &fa.fa, &attrs.attr, argv.data(), environ);
      rc != 0) {
    error = std::strerror(rc);
    return std::nullopt;
  }
  app_child c;
  c.pid_ = pid;  // from here on the destructor kills and reaps it
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) {
    error = std::string("pidfd_open: ") + std::strerror(errno);
    return std::nullopt;
  }
  c.exited_.emplace(ex, pidfd);
  std::error_code ec;
  c.io_.emplace(ex);
  c.io_->assign(asio::local::stream_protocol(), ours.fd, ec);
  if (ec) {
    error = "assign: " + ec.message();
    return std::nullopt;
  }
  (void)ours.release();
  return c;
}

void app_child::kill() noexcept {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
  }
}

net::awaitable<std::optional<int>> app_child::reap() {
  if (pid_ <= 0 || !exited_) {
    co_return std::nullopt;
  }
  if (auto [ec] = co_await exited_->async_wait(asio::posix::descriptor_base::wait_read, use_tuple);
      ec) {
    co_return std::nullopt;  // cancelled: the app may still run (the destructor kills it)
  }
  int st = 0;
  pid_t r = 0;
  while ((r = ::waitpid(pid_, &st, WNOHANG)) < 0 && errno == EINTR) {
  }
  if (r != pid_) {
    co_return std::nullopt;
  }
  pid_ = -1;
  co_return st;
}

std::string describe_exit(int status) {
  if (WIFEXITED(status)) {
    return fmt::format("exited with status {}", WEXITSTATUS(status));
  }
  if (WIFSIGNALED(status)) {
    return fmt::format("was killed by signal {}", WTERMSIG(status));
  }
  return fmt::format("ended with wait status {}", status);
}

net::awaitable<app_run> run_app_once(std::string path, std::vector<std::string> args,
                                     std::chrono::milliseconds timeout, std::size_t limit) {
  app_run out;
  auto ex = co_await asio::this_coro::executor;
  std::string error;
  auto child = app_child::spawn(ex, path, args, false, error);
  if (!child) {
    out.error = "cannot run " + path + ": " + error;
    co_return out;
  }
  asio::steady_timer timer(ex);
  timer.expires_after(timeout);
  bool timed_out = false;
  bool too_long = false;
  std::array<char, 4096> buf{};
  while (true) {
    auto r = co_await (child->io().async_read_some(asio::buffer(buf), use_tuple) ||
                       timer.async_wait(use_tuple));
    if (r.index() == 1) {
      timed_out = true;
      break;
    }
    const auto [ec, n] = std::get<0>(r);
    if (out.output.size() + n > limit) {
      too_long = true;
      break;
    }
    out.output.append(buf.data(), n);
    if (ec) {
      break;  // EOF: the app closed its stdout (normally: it exited)
    }
  }
  if (!timed_out && !too_long) {
    // Its stdout is closed; it may still be running (a child of it could hold the socket
    // open no longer, but it may linger): the same deadline applies to its exit.
    auto r = co_await (child->reap() || timer.async_wait(use_tuple));
    if (r.index() == 0 && std::get<0>(r)) {
      const int st = *std::get<0>(r);
      if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
        out.ok = true;
      } else {
        out.error = path + " " + describe_exit(st);
      }
      co_return out;
    }
    timed_out = true;
  }
  child->kill();
  (void)co_await child->reap();
  out.output.clear();
  out.error = timed_out ? timeout_text(path, timeout) : too_long_text(path, limit);
  co_return out;
}

}  // namespace kiteline::relay
