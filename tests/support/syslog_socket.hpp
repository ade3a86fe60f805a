// A unix datagram socket a test binds in a temp dir: the syslog daemon that net::syslog_writer
// and `kiteline --logfile=syslog` (through $KITELINE_SYSLOG_SOCKET) are pointed at.
#pragma once

#include <string>
#include <string_view>

#include "support/temp_dir.hpp"

namespace kiteline::test {

class syslog_socket {
 public:
  syslog_socket();
  ~syslog_socket();
  syslog_socket(const syslog_socket&) = delete;
  syslog_socket& operator=(const syslog_socket&) = delete;

  [[nodiscard]] bool ok() const noexcept { return fd_ >= 0; }
  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  /// Reads datagrams until one contains `needle` and returns it; "" when none did within the
  /// test timeout (the others are dropped).
  [[nodiscard]] std::string receive_until(std::string_view needle);
  /// Closes and removes the socket (a daemon going away).
  void close();

 private:
  temp_dir dir_{"syslog"};
  std::string path_;
  int fd_ = -1;
};

}  // namespace kiteline::test
