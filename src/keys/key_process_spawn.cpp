// The key process's life, as the key_client sees it: fork + exec with its channels, restart
// after it died (loading every key again and checking it is the same pair), stop.
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <thread>

#include "keys/key_client.hpp"

extern char** environ;  // NOLINT: POSIX, for fexecve

namespace kiteline::keys {

namespace {

using key_protocol::op;
using key_protocol::request_head;
using namespace std::chrono_literals;

std::string describe_wait_status(int status) {
  if (WIFSIGNALED(status)) {
    return "was killed by signal " + std::to_string(WTERMSIG(status));
  }
  if (WIFEXITED(status)) {
    return "exited with status " + std::to_string(WEXITSTATUS(status));
  }
  return "stopped";
}

}  // namespace

key_client::~key_client() {
  std::lock_guard lk(mu_);
  stop_locked();
  if (exe_fd_ >= 0) {
    ::close(exe_fd_);
  }
}

void key_client::stop_locked() {
  for (int fd : idle_) {
    ::close(fd);
    channels_.erase(fd);  // a channel in use keeps its buffer: its holder closes and erases it
  }
  idle_.clear();
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
  }
  alive_ = false;
}

outcome<void> key_client::spawn_locked() {
  last_spawn_ = std::chrono::steady_clock::now();
  const auto n = static_cast<int>(opts_.channels);
  std::vector<int> parent_fds;
  std::vector<int> child_fds;
  auto close_all = [&] {
    for (int fd : parent_fds) {
      ::close(fd);
    }
    for (int fd : child_fds) {
      ::close(fd);
    }
  };
  for (int i = 0; i < n; ++i) {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
      const int err = errno;
      close_all();
      return failure(errc::cannot_start, std::string("socketpair: ") + std::strerror(err));
    }
    parent_fds.push_back(sv[0]);
    child_fds.push_back(sv[1]);
  }
  // Everything the child needs is allocated now: between fork and exec it may only make
  // async-signal-safe calls (other threads may hold malloc or OpenSSL locks).
  std::vector<std::string> args{"kiteline", key_process_flag, std::to_string(n)};
  args.insert(args.end(), opts_.pem_files.begin(), opts_.pem_files.end());
  std::vector<char*> argv;
  for (auto& a : args) {
    argv.push_back(a.data());
  }
  argv.push_back(nullptr);
  std::vector<int> tmp(static_cast<std::size_t>(n) + 1);
  const int first = key_protocol::first_channel_fd;
  const int exe_target = first + n;
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int err = errno;
    close_all();
    return failure(errc::cannot_start, std::string("fork: ") + std::strerror(err));
  }
  if (pid == 0) {
    // Child. Move every fd we keep above the target range first, so dup2 cannot clobber one.
    for (int i = 0; i < n; ++i) {
      tmp[static_cast<std::size_t>(i)] = ::fcntl(child_fds[static_cast<std::size_t>(i)],
                                                 F_DUPFD, exe_target + 1);
    }
    tmp[static_cast<std::size_t>(n)] = ::fcntl(exe_fd_, F_DUPFD_CLOEXEC, exe_target + 1);
    for (int i = 0; i < n; ++i) {
      ::dup2(tmp[static_cast<std::size_t>(i)], first + i);  // dup2 clears FD_CLOEXEC
    }
    ::dup2(tmp[static_cast<std::size_t>(n)], exe_target);
    ::fcntl(exe_target, F_SETFD, FD_CLOEXEC);
    // Listeners, tunnels, log files: none of them belong in the key process.
    if (::close_range(static_cast<unsigned>(exe_target + 1), ~0U, 0) != 0) {
      for (int fd = exe_target + 1; fd < 65536; ++fd) {
        ::close(fd);
      }
    }
    sigset_t none;
    ::sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::fexecve(exe_target, argv.data(), environ);
    ::_exit(127);
  }
  for (int fd : child_fds) {
    ::close(fd);
  }
  pid_ = pid;
  idle_ = std::move(parent_fds);
  alive_ = true;
  ++generation_;
  if (opts_.log) {
    opts_.log->info("key process started pid={} channels={} keys={}", pid, n,
                    opts_.pem_files.size());
  }
  return {};
}

outcome<void> key_client::restart_locked() {
  const pid_t old = pid_;
  std::string how = "stopped answering";
  if (pid_ > 0) {
    // Its channels close before the kernel turns it into a zombie: give it a moment (bounded)
    // so the log can say how it ended.
    int status = 0;
    for (int tries = 0; tries < 50; ++tries) {
      const pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        how = describe_wait_status(status);
        pid_ = -1;
        break;
      }
      if (r < 0 && errno != EINTR) {
        break;
      }
      std::this_thread::sleep_for(1ms);
    }
  }
  stop_locked();  // kills and reaps it if it is still there
  if (outcome<void> spawned = spawn_locked(); !spawned) {
    if (opts_.log) {
      opts_.log->error("key process pid={} {}; restart failed: {}", old, how,
                       spawned.error().message());
    }
    return spawned;
  }
  // Load every key again on the first channel, and check it is still the same pair.
  std::size_t reloaded = 0;
  for (auto it = loaded_.begin(); it != loaded_.end();) {
    std::vector<std::uint8_t> out;
    std::string e;
    request_head h{static_cast<std::uint32_t>(op::load), it->first, it->second.file, 0};
    bool same = false;
    auto& first = channels_[idle_.front()];
    if (!first.reply) {
      first.reply.reset(new std::uint8_t[key_protocol::max_message]);  // NOLINT: uninitialised
    }
    const outcome<std::uint32_t> got = exchange(idle_.front(), first.reply.get(), h, {}, out);
    if (!got) {
      // E.g. the exec failed: inside --chroot without kiteline's loader and libraries.
      alive_ = false;
      if (opts_.log) {
        opts_.log->error("key process pid={} {}; restarted as pid={} but it does not answer: {}",
                         old, how, pid_, got.error().message());
      }
      return got.error();
    }
    const std::uint32_t status = *got;
    if (status == 0) {
      std::span<const std::uint8_t> in(out);
      bool ok = true;
      get_u32(in, ok);
      const std::uint32_t len = get_u32(in, ok);
      // An empty leaf_der is a load still in flight: it has nothing to compare yet.
      same = ok && len <= in.size() &&
             (it->second.leaf_der.empty() ||
              std::equal(in.begin(), in.begin() + len, it->second.leaf_der.begin(),
                         it->second.leaf_der.end()));
    } else {
      e.assign(out.begin(), out.end());
    }
    if (!same) {
      if (opts_.log) {
        opts_.log->warn("key process: key {} ({}) not reloaded: {}", it->first,
                        opts_.pem_files.at(it->second.file),
                        status == 0 ? "the file now holds another certificate" : e);
      }
      it = loaded_.erase(it);
      continue;
    }
    ++reloaded;
    ++it;
  }
  if (opts_.log) {
    opts_.log->warn("key process pid={} {}; restarted as pid={} ({} keys reloaded)", old, how,
                    pid_, reloaded);
  }
  return {};
}

}  // namespace kiteline::keys
