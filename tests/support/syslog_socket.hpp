// A local syslog socket for tests: a unix datagram socket bound in a temp dir, to point
// $KITELINE_SYSLOG_SOCKET at (net::syslog_writer, --logfile=syslog, --accesslog=syslog).
#pragma once

#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>

namespace kiteline::test {

/// Binds `path` (shorter than sun_path) on construction; ok() says whether that worked.
/// Closed (the path left to the temp dir) on destruction.
class syslog_socket {
 public:
  explicit syslog_socket(std::string path) : path_(std::move(path)) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (fd_ < 0 || path_.size() >= sizeof(addr.sun_path)) {
      return;
    }
    std::copy(path_.begin(), path_.end(), addr.sun_path);
    bound_ = ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~syslog_socket() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  syslog_socket(const syslog_socket&) = delete;
  syslog_socket& operator=(const syslog_socket&) = delete;

  [[nodiscard]] bool ok() const noexcept { return bound_; }
  [[nodiscard]] const std::string& path() const noexcept { return path_; }

  /// The next datagram, or nullopt after `timeout` without one.
  [[nodiscard]] std::optional<std::string> receive(std::chrono::milliseconds timeout) const {
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    char buf[65536];
    const ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n < 0) {
      return std::nullopt;
    }
    return std::string(buf, static_cast<std::size_t>(n));
  }

 private:
  std::string path_;
  int fd_ = -1;
  bool bound_ = false;
};

}  // namespace kiteline::test
