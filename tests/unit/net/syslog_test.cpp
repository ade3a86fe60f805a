// Unit tests for net::format_syslog_datagram (the RFC 3164 framing glibc's syslog(3) sends) and
// net::syslog_writer against a unix datagram socket the test binds in a temp dir.
#include "net/syslog.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "support/syslog_socket.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

namespace kiteline::net {
namespace {

constexpr int log_daemon = 3 << 3;
constexpr int log_local0 = 16 << 3;

TEST(format_syslog_datagram, priority_timestamp_ident_pid_message) {
  EXPECT_EQ(format_syslog_datagram(log_daemon, syslog_severity::info, "kiteline", 4242,
                                   "Dec  7 09:45:01", "relay ready ports=80"),
            "<30>Dec  7 09:45:01 kiteline[4242]: relay ready ports=80");
  EXPECT_EQ(format_syslog_datagram(log_local0, syslog_severity::err, "kl", 1, "Jan 10 00:00:00",
                                   "x"),
            "<131>Jan 10 00:00:00 kl[1]: x");
  EXPECT_EQ(format_syslog_datagram(0, syslog_severity::debug, "a", 7, "T", ""), "<7>T a[7]: ");
}

TEST(format_syslog_datagram, line_breaks_become_spaces) {
  EXPECT_EQ(format_syslog_datagram(log_daemon, syslog_severity::warning, "k", 2, "T",
                                   "one\ntwo\r\nthree"),
            "<28>T k[2]: one two  three");
}

/// "<PRI>Mmm dd hh:mm:ss " is 4 + 16 characters for a one-digit facility|severity of two digits.
std::string after_timestamp(const std::string& dgram) {
  const auto close = dgram.find('>');
  return close == std::string::npos || dgram.size() < close + 17 ? dgram
                                                                   : dgram.substr(close + 17);
}

TEST(syslog_writer, sends_one_datagram_per_message_to_the_socket) {
  test::syslog_socket daemon;
  ASSERT_TRUE(daemon.ok());
  auto writer = syslog_writer::open("kiteline-test", log_daemon, daemon.path());
  ASSERT_TRUE(writer) << writer.error().message();
  EXPECT_EQ((*writer)->path(), daemon.path());
  (*writer)->write(syslog_severity::info, "first line");
  (*writer)->write(syslog_severity::err, "second\nline");
  const std::string pid = std::to_string(::getpid());
  const std::string one = daemon.receive_until("first");
  EXPECT_EQ(one.substr(0, 4), "<30>") << one;
  EXPECT_EQ(after_timestamp(one), "kiteline-test[" + pid + "]: first line") << one;
  const std::string two = daemon.receive_until("second");
  EXPECT_EQ(two.substr(0, 4), "<27>") << two;
  EXPECT_EQ(after_timestamp(two), "kiteline-test[" + pid + "]: second line") << two;
}

TEST(syslog_writer, open_fails_when_nothing_listens) {
  test::temp_dir dir("syslog");
  auto writer = syslog_writer::open("k", log_daemon, dir.file("no-daemon"));
  ASSERT_FALSE(writer);
  EXPECT_EQ(writer.error(), std::errc::no_such_file_or_directory) << writer.error().message();
}

TEST(syslog_writer, reconnects_once_the_daemon_is_back) {
  test::syslog_socket daemon;
  ASSERT_TRUE(daemon.ok());
  const std::string path = daemon.path();
  auto writer = syslog_writer::open("k", log_daemon, path);
  ASSERT_TRUE(writer);
  (*writer)->write(syslog_severity::info, "before");
  EXPECT_NE(daemon.receive_until("before"), "");
  // The daemon restarts: a new socket at the same path (the old one is gone).
  daemon.close();
  (*writer)->write(syslog_severity::info, "lost while it is down");  // dropped, no throw
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  path.copy(addr.sun_path, sizeof(addr.sun_path) - 1);
  ASSERT_EQ(::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr), 0);
  (*writer)->write(syslog_severity::info, "after");
  char buf[512];
  pollfd p{fd, POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, static_cast<int>(test::test_timeout().count())), 1);
  const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
  ASSERT_GT(n, 0);
  EXPECT_NE(std::string(buf, static_cast<std::size_t>(n)).find("k[" + std::to_string(::getpid()) +
                                                                 "]: after"),
            std::string::npos);
  ::close(fd);
  ::unlink(path.c_str());
}

TEST(default_syslog_socket, environment_overrides_dev_log) {
  const char* old = std::getenv("KITELINE_SYSLOG_SOCKET");
  const std::string saved = old != nullptr ? old : "";
  ::unsetenv("KITELINE_SYSLOG_SOCKET");
  EXPECT_EQ(default_syslog_socket(), "/dev/log");
  ::setenv("KITELINE_SYSLOG_SOCKET", "/tmp/x.sock", 1);
  EXPECT_EQ(default_syslog_socket(), "/tmp/x.sock");
  if (old != nullptr) {
    ::setenv("KITELINE_SYSLOG_SOCKET", saved.c_str(), 1);
  } else {
    ::unsetenv("KITELINE_SYSLOG_SOCKET");
  }
}

}  // namespace
}  // namespace kiteline::net
