// accesslog::sink: lines reach a file in order, reopen() after a rename starts a new file
// (logrotate), and the syslog target sends one datagram per line to $KITELINE_SYSLOG_SOCKET.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "accesslog/sink.hpp"
#include "support/syslog_socket.hpp"
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

TEST(AccesslogSink, ConcurrentWritersAndReopensLoseAndTearNoLine) {
  test::temp_dir dir("accesslog");
  const std::string path = dir.file("access.log");
  auto opened = sink::open(path, format::text);
  ASSERT_TRUE(opened);
  auto& s = **opened;
  constexpr int threads = 4;
  constexpr int per_thread = 500;
  std::vector<std::thread> writers;
  for (int t = 0; t < threads; ++t) {
    writers.emplace_back([&s, t] {
      for (int i = 0; i < per_thread; ++i) {
        s.write(sample("/t" + std::to_string(t) + "/" + std::to_string(i)));
      }
    });
  }
  // Rotations while they write: every line lands whole in one of the files.
  for (int r = 1; r <= 3; ++r) {
    std::filesystem::rename(path, path + "." + std::to_string(r));
    ASSERT_TRUE(s.reopen());
  }
  for (auto& w : writers) {
    w.join();
  }
  s.flush();
  std::vector<int> seen(threads * per_thread, 0);
  for (const std::string suffix : {"", ".1", ".2", ".3"}) {
    std::istringstream in(read_all(path + suffix));
    std::string line;
    while (std::getline(in, line)) {
      ASSERT_EQ(line.rfind("ts=", 0), 0U) << line;
      const auto at = line.find("; path=/t");
      ASSERT_NE(at, std::string::npos) << line;
      const int t = std::stoi(line.substr(at + 9));
      const int i = std::stoi(line.substr(line.find('/', at + 9) + 1));
      ASSERT_TRUE(t >= 0 && t < threads && i >= 0 && i < per_thread) << line;
      ++seen[static_cast<std::size_t>(t * per_thread + i)];
    }
  }
  for (std::size_t k = 0; k < seen.size(); ++k) {
    ASSERT_EQ(seen[k], 1) << "line " << k;
  }
  EXPECT_EQ(s.dropped(), 0U);
}

TEST(AccesslogSink, SyslogSendsOneDatagramPerLine) {
  test::syslog_socket log;
  ASSERT_TRUE(log.ok());
  ::setenv("KITELINE_SYSLOG_SOCKET", log.path().c_str(), 1);
  auto opened = sink::open("syslog", format::text);
  ::unsetenv("KITELINE_SYSLOG_SOCKET");
  ASSERT_TRUE(opened);
  (*opened)->write(sample("/one"));
  (*opened)->write(sample("/two"));
  (*opened)->flush();
  for (const char* want : {"path=/one", "path=/two"}) {
    const std::string dgram = log.receive_until(want);
    ASSERT_FALSE(dgram.empty()) << "no datagram with " << want;
    EXPECT_EQ(dgram.rfind("<30>", 0), 0U) << dgram;  // LOG_DAEMON | LOG_INFO
    EXPECT_NE(dgram.find(" kiteline-access["), std::string::npos) << dgram;
    EXPECT_NE(dgram.find(want), std::string::npos) << dgram;
    EXPECT_EQ(dgram.find('\n'), std::string::npos) << dgram;
  }
}

}  // namespace
}  // namespace kiteline::accesslog
