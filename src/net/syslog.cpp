#include "net/syslog.hpp"

#include <cerrno>
#include <cstdlib>
#include <ctime>
#include <system_error>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace kiteline::net {

namespace {

int connect_unix_dgram(const std::string& path, int& err) {
  sockaddr_un addr{};
  if (path.size() >= sizeof(addr.sun_path)) {
    err = ENAMETOOLONG;
    return -1;
  }
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    err = errno;
    return -1;
  }
  addr.sun_family = AF_UNIX;
  path.copy(addr.sun_path, path.size());
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    err = errno;
    ::close(fd);
    return -1;
  }
  return fd;
}

std::string local_timestamp() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::localtime_r(&now, &tm);
  char buf[32];
  const std::size_t n = std::strftime(buf, sizeof(buf), "%b %e %H:%M:%S", &tm);
  return std::string(buf, n);
}

}  // namespace

std::string default_syslog_socket() {
  if (const char* p = std::getenv("KITELINE_SYSLOG_SOCKET"); p != nullptr && *p != '\0') {
    return p;
  }
  return "/dev/log";
}

std::string format_syslog_datagram(int facility, syslog_severity severity, std::string_view ident,
                                   long pid, std::string_view timestamp,
                                   std::string_view message) {
  std::string out = "<" + std::to_string(facility | static_cast<int>(severity)) + ">";
  out.append(timestamp);
  out += ' ';
  out.append(ident);
  out += "[" + std::to_string(pid) + "]: ";
  for (const char c : message) {
    out += (c == '\n' || c == '\r') ? ' ' : c;
  }
  return out;
}

result<std::unique_ptr<syslog_writer>> syslog_writer::open(std::string ident, int facility,
                                                            std::string path) {
  int err = 0;
  const int fd = connect_unix_dgram(path, err);
  if (fd < 0) {
    return std::error_code(err, std::system_category());
  }
  return std::unique_ptr<syslog_writer>(
      new syslog_writer(std::move(ident), facility, std::move(path), fd));
}

syslog_writer::syslog_writer(std::string ident, int facility, std::string path, int fd)
    : ident_(std::move(ident)), facility_(facility), path_(std::move(path)), fd_(fd) {}

syslog_writer::~syslog_writer() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

bool syslog_writer::reconnect() noexcept {
  int err = 0;
  const int fd = connect_unix_dgram(path_, err);
  if (fd < 0) {
    return false;
  }
  if (fd_ >= 0) {
    ::close(fd_);
  }
  fd_ = fd;
  return true;
}

void syslog_writer::write(syslog_severity severity, std::string_view message) noexcept {
  try {
    const std::string dgram = format_syslog_datagram(facility_, severity, ident_,
                                                     static_cast<long>(::getpid()),
                                                     local_timestamp(), message);
    const std::lock_guard lock(mu_);
    if (::send(fd_, dgram.data(), dgram.size(), MSG_NOSIGNAL) >= 0) {
      return;
    }
    // The daemon restarted (ECONNREFUSED/ENOTCONN): reconnect once and retry; anything else
    // (EAGAIN: its queue is full) drops the message.
    if ((errno == ECONNREFUSED || errno == ENOTCONN) && reconnect()) {
      (void)::send(fd_, dgram.data(), dgram.size(), MSG_NOSIGNAL);
    }
  } catch (...) {
    // Out of memory while formatting: the message is dropped.
  }
}

}  // namespace kiteline::net
