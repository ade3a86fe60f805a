#include "support/syslog_socket.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "support/wait.hpp"

namespace kiteline::test {

syslog_socket::syslog_socket() : path_(dir_.file("log")) {
  fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  path_.copy(addr.sun_path, sizeof(addr.sun_path) - 1);
  if (fd_ >= 0 && ::bind(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

syslog_socket::~syslog_socket() { close(); }

void syslog_socket::close() {
  if (fd_ >= 0) {
    ::close(fd_);
    ::unlink(path_.c_str());
    fd_ = -1;
  }
}

std::string syslog_socket::receive_until(std::string_view needle) {
  std::string found;
  (void)wait_for(
      [&] {
        pollfd p{fd_, POLLIN, 0};
        while (fd_ >= 0 && ::poll(&p, 1, 0) == 1) {
          char buf[4096];
          const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
          if (n <= 0) {
            break;
          }
          std::string d(buf, static_cast<std::size_t>(n));
          if (d.find(needle) != std::string::npos) {
            found = std::move(d);
            return true;
          }
        }
        return false;
      },
      "a syslog datagram");
  return found;
}

}  // namespace kiteline::test
