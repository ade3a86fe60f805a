// accesslog::sink: lines reach a file in order, reopen() after a rename starts a new file
// (logrotate), and the syslog target sends one datagram per line to $KITELINE_SYSLOG_SOCKET.
#include <gtest/gtest.h>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "accesslog/sink.hpp"
#include "support/temp_dir.hpp"

namespace kiteline::accesslog {
namespace {

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

record sample(std::string path) {
  record r;
  r.time = std::chrono::system_clock::now();
  r.role = "connector";
  r.remote_ip = "127.0.0.1";
  r.kite = "k.test";
  r.proto = "http";
  r.method = "GET";
  r.path = std::move(path);
  r.status = 200;
  return r;
}

TEST(AccesslogSink, NoneAndEmptyGiveNoSink) {
  auto a = sink::open("none", format::text);
  ASSERT_TRUE(a);
  EXPECT_EQ(*a, nullptr);
  auto b = sink::open("", format::json);
  ASSERT_TRUE(b);
  EXPECT_EQ(*b, nullptr);
}

TEST(AccesslogSink, MissingDirectoryIsAnError) {
  test::temp_dir dir("accesslog");
  auto s = sink::open(dir.file("no/such/dir/access.log"), format::text);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error(), std::errc::no_such_file_or_directory);
}

TEST(AccesslogSink, FileGetsEveryLineInOrderAndReopensAfterRename) {
  test::temp_dir dir("accesslog");
  const std::string path = dir.file("access.log");
  auto opened = sink::open(path, format::json);
  ASSERT_TRUE(opened);
  auto& s = **opened;
  for (int i = 0; i < 100; ++i) {
    s.write(sample("/" + std::to_string(i)));
  }
  s.flush();
  std::string all = read_all(path);
  std::istringstream lines(all);
  std::string line;
  int n = 0;
  while (std::getline(lines, line)) {
    EXPECT_NE(line.find("\"path\":\"/" + std::to_string(n) + "\""), std::string::npos) << line;
    ++n;
  }
  EXPECT_EQ(n, 100);

  std::filesystem::rename(path, path + ".1");
  s.write(sample("/old"));
  s.flush();
  ASSERT_TRUE(s.reopen());
  EXPECT_TRUE(std::filesystem::exists(path));
  s.write(sample("/new"));
  s.flush();
  EXPECT_NE(read_all(path + ".1").find("\"path\":\"/old\""), std::string::npos);
  const std::string fresh = read_all(path);
  EXPECT_NE(fresh.find("\"path\":\"/new\""), std::string::npos) << fresh;
  EXPECT_EQ(fresh.find("/old"), std::string::npos) << fresh;
}

TEST(AccesslogSink, SyslogSendsOneDatagramPerLine) {
  test::temp_dir dir("accesslog");
  const std::string sock_path = dir.file("log.sock");
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  ASSERT_LT(sock_path.size(), sizeof(addr.sun_path));
  std::copy(sock_path.begin(), sock_path.end(), addr.sun_path);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ::setenv("KITELINE_SYSLOG_SOCKET", sock_path.c_str(), 1);
  auto opened = sink::open("syslog", format::text);
  ::unsetenv("KITELINE_SYSLOG_SOCKET");
  ASSERT_TRUE(opened);
  (*opened)->write(sample("/one"));
  (*opened)->write(sample("/two"));
  (*opened)->flush();
  for (const char* want : {"path=/one", "path=/two"}) {
    char buf[4096];
    const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    ASSERT_GT(n, 0);
    const std::string dgram(buf, static_cast<std::size_t>(n));
    EXPECT_EQ(dgram.rfind("<30>", 0), 0U) << dgram;  // LOG_DAEMON | LOG_INFO
    EXPECT_NE(dgram.find(" kiteline-access["), std::string::npos) << dgram;
    EXPECT_NE(dgram.find(want), std::string::npos) << dgram;
    EXPECT_EQ(dgram.find('\n'), std::string::npos) << dgram;
  }
  ::close(fd);
}

}  // namespace
}  // namespace kiteline::accesslog
