// A local syslog client: one datagram per message to the syslog socket (RFC 3164 framing, as
// glibc's syslog(3) sends it), without syslog(3)'s process-global state, so the log and the
// access log can each have their own ident and facility and tests can point it at a socket of
// their own. Shared by --logfile=syslog and --accesslog=syslog.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace kiteline::net {

/// $KITELINE_SYSLOG_SOCKET when set (tests open their own socket), else /dev/log.
[[nodiscard]] std::string default_syslog_socket();

/// Severity values of RFC 5424 §6.2.1 (those of <syslog.h>).
enum class syslog_severity : int { err = 3, warning = 4, notice = 5, info = 6, debug = 7 };

/// Writes "<PRI>Mmm dd hh:mm:ss ident[pid]: message" datagrams. Thread-safe. A message that
/// cannot be sent (no daemon, socket full) is dropped: logging never blocks the caller. When
/// the daemon restarts, the next write reconnects once.
class syslog_writer {
 public:
  /// Connects a datagram socket to `path`; fails with the errno of socket()/connect().
  /// `facility` is a <syslog.h> LOG_* facility value (LOG_DAEMON = 3 << 3).
  static result<std::unique_ptr<syslog_writer>> open(std::string ident, int facility,
                                                      std::string path = default_syslog_socket());
  ~syslog_writer();
  syslog_writer(const syslog_writer&) = delete;
  syslog_writer& operator=(const syslog_writer&) = delete;

  void write(syslog_severity severity, std::string_view message) noexcept;
  [[nodiscard]] const std::string& path() const noexcept { return path_; }

 private:
  syslog_writer(std::string ident, int facility, std::string path, int fd);
  bool reconnect() noexcept;

  std::mutex mu_;
  std::string ident_;
  int facility_;
  std::string path_;
  int fd_;
};

/// The datagram syslog_writer sends (pure; tests check the framing): `<PRI>` + timestamp in
/// local time ("Dec  7 09:45:01") + " ident[pid]: " + message (line breaks become spaces).
[[nodiscard]] std::string format_syslog_datagram(int facility, syslog_severity severity,
                                                 std::string_view ident, long pid,
                                                 std::string_view timestamp,
                                                 std::string_view message);

}  // namespace kiteline::net
