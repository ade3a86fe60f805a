// Process hygiene with the real binary (issue #22 item 5): a second relay on a port already
// bound fails with a message naming it while the first keeps serving; --pidfile; --daemonize;
// --logfile=syslog to a socket the test binds; SIGHUP reopening the log after a rename; a log
// directory that does not exist refused and never created.
#include <gtest/gtest.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hostile/hostile_support.hpp"
#include "support/syslog_socket.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

namespace kiteline::hostile {
namespace {

namespace fs = std::filesystem;

/// The relay options of relay_process, with the log where the test wants it.
std::vector<std::string> relay_args(std::vector<std::string> extra) {
  std::vector<std::string> a{"--isfrontend", "--host=127.0.0.1", "--protos=http",
                             "--domain=http:*.test:s3cret"};
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

/// The port of a "kiteline relay ready ports=N" line in `p`'s output, 0 if none yet.
std::uint16_t ready_port(const process& p) {
  const auto rest = p.line_after("kiteline relay ready ports=");
  return rest ? static_cast<std::uint16_t>(std::atoi(rest->c_str())) : 0;
}

/// The relay on `port` answers a visitor: a request for a kite nobody serves gets its 503.
testing::AssertionResult relay_answers(std::uint16_t port) {
  const int fd = connect_loopback(port);
  if (fd < 0) {
    return testing::AssertionFailure() << "cannot connect to port " << port;
  }
  const bool sent = send_all(fd, "GET / HTTP/1.1\r\nHost: nobody.test\r\n\r\n");
  const std::string head = read_head(fd, test::test_timeout());
  ::close(fd);
  if (sent && head.rfind("HTTP/1.1 503", 0) == 0) {
    return testing::AssertionSuccess();
  }
  return testing::AssertionFailure() << "no 503 from port " << port << ": [" << head << "]";
}

std::size_t lines_with(const std::string& text, std::string_view needle) {
  std::size_t n = 0;
  for (std::size_t at = text.find(needle); at != std::string::npos;
       at = text.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

TEST(process_hygiene, a_second_relay_on_the_same_port_fails_naming_it_and_the_first_serves) {
  relay_process first;
  ASSERT_TRUE(first.ok()) << first.proc().tail();
  const std::string port = std::to_string(first.port());
  process second(relay_args({"--ports=" + port, "--logfile=stdio"}));
  ASSERT_TRUE(test::wait_for([&] { return !second.alive(); }, "the second relay exits"))
      << second.tail();
  EXPECT_EQ(second.count("kiteline: cannot listen on 127.0.0.1:" + port +
                         ": port already in use by another process (is another relay "
                         "running?)"),
            1U)
      << second.tail();
  EXPECT_EQ(second.count("kiteline relay ready"), 0U);
  // Every visitor still reaches the first relay (before, SO_REUSEPORT gave the second a share).
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(relay_answers(first.port())) << i;
  }
  EXPECT_TRUE(first.proc().alive());
}

TEST(process_hygiene, pidfile_holds_the_pid_and_is_removed_at_exit) {
  test::temp_dir dir("pidfile");
  const std::string pidfile = dir.file("relay.pid");
  process relay(relay_args({"--ports=0", "--logfile=stdio", "--pidfile=" + pidfile}));
  ASSERT_TRUE(relay.wait_output({"kiteline relay ready ports="})) << relay.tail();
  EXPECT_EQ(test::read_file(pidfile), std::to_string(relay.pid()) + "\n");
  ::kill(relay.pid(), SIGTERM);
  ASSERT_TRUE(test::wait_for([&] { return !relay.alive(); }, "the relay exits")) << relay.tail();
  EXPECT_FALSE(fs::exists(pidfile));
}

TEST(process_hygiene, an_unwritable_pidfile_is_refused_clearly) {
  test::temp_dir dir("pidfile");
  const std::string pidfile = dir.file("missing/relay.pid");
  process relay(relay_args({"--ports=0", "--logfile=stdio", "--pidfile=" + pidfile}));
  ASSERT_TRUE(test::wait_for([&] { return !relay.alive(); }, "the relay exits")) << relay.tail();
  EXPECT_EQ(relay.count("kiteline: cannot write --pidfile=" + pidfile +
                        ": No such file or directory"),
            1U)
      << relay.tail();
  EXPECT_FALSE(fs::exists(dir.file("missing")));
}

TEST(process_hygiene, daemonize_returns_once_serving_and_the_pidfile_names_the_daemon) {
  // The daemon is re-parented to the nearest subreaper: this test, so it can reap it.
  ASSERT_EQ(::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), 0);
  test::temp_dir dir("daemon");
  const std::string pidfile = dir.file("relay.pid");
  const std::string log = dir.file("relay.log");
  process fg(relay_args({"--ports=0", "--daemonize", "--logfile=" + log, "--pidfile=" + pidfile}));
  // The command returns (exit 0) only when the daemon serves; its ready line reached "the
  // terminal" (fg's output) through the foreground process.
  ASSERT_TRUE(test::wait_for([&] { return !fg.alive(); }, "the foreground process exits"))
      << fg.tail();
  const std::uint16_t port = ready_port(fg);
  ASSERT_NE(port, 0) << fg.tail();
  const std::string text = test::read_file(pidfile);
  const pid_t daemon = static_cast<pid_t>(std::atol(text.c_str()));
  ASSERT_GT(daemon, 0) << text;
  EXPECT_NE(daemon, fg.pid());
  EXPECT_EQ(text, std::to_string(daemon) + "\n");
  EXPECT_EQ(::kill(daemon, 0), 0);
  EXPECT_NE(::getsid(daemon), ::getsid(0)) << "the daemon has a session of its own";
  EXPECT_TRUE(relay_answers(port));
  EXPECT_EQ(lines_with(test::read_file(log), "daemonized: pid=" + std::to_string(daemon)), 1U);
  ASSERT_EQ(::kill(daemon, SIGTERM), 0);
  const int status = test::reap_child(daemon, test::test_timeout());
  ::prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_FALSE(fs::exists(pidfile));
  EXPECT_EQ(lines_with(test::read_file(log), "drain over, stopping"), 1U);
}

TEST(process_hygiene, daemonize_start_errors_still_reach_the_terminal) {
  relay_process holder;
  ASSERT_TRUE(holder.ok());
  test::temp_dir dir("daemon");
  const std::string port = std::to_string(holder.port());
  process fg(relay_args({"--ports=" + port, "--daemonize", "--logfile=" + dir.file("r.log"),
                         "--pidfile=" + dir.file("r.pid")}));
  ASSERT_TRUE(test::wait_for([&] { return !fg.alive(); }, "the foreground process exits"));
  EXPECT_EQ(fg.count("kiteline: cannot listen on 127.0.0.1:" + port + ": port already in use"),
            1U)
      << fg.tail();
  EXPECT_FALSE(fs::exists(dir.file("r.pid")));
}

TEST(process_hygiene, logfile_syslog_sends_the_log_to_the_syslog_socket) {
  test::syslog_socket daemon;
  ASSERT_TRUE(daemon.ok());
  ::setenv("KITELINE_SYSLOG_SOCKET", daemon.path().c_str(), 1);
  process relay(relay_args({"--ports=0", "--logfile=syslog"}));
  ::unsetenv("KITELINE_SYSLOG_SOCKET");
  ASSERT_TRUE(relay.wait_output({"kiteline relay ready ports="})) << relay.tail();
  const std::string port = std::to_string(ready_port(relay));
  const std::string ready = daemon.receive_until("relay ready ports=");
  const std::string tag = "kiteline[" + std::to_string(relay.pid()) + "]: relay: ";
  // <30> = facility daemon (3) * 8 + severity info (6); then "Mmm dd hh:mm:ss ".
  EXPECT_EQ(ready.substr(0, 4), "<30>") << ready;
  EXPECT_NE(ready.find(tag + "relay ready ports=" + port + " "), std::string::npos) << ready;
  EXPECT_EQ(relay.count("relay ready ports=" + port + " uuid"), 0U) << "not on stderr too";
  ::kill(relay.pid(), SIGTERM);
  const std::string stopping = daemon.receive_until("SIGTERM received");
  EXPECT_NE(stopping.find(tag + "SIGTERM received: draining for up to 30 s"), std::string::npos)
      << stopping;
}

TEST(process_hygiene, systemd_notifications_ready_watchdog_stopping) {
  // What systemd gives a Type=notify service with WatchdogSec: a socket and the interval.
  test::syslog_socket systemd;  // any unix datagram socket will do
  ASSERT_TRUE(systemd.ok());
  ::setenv("NOTIFY_SOCKET", systemd.path().c_str(), 1);
  ::setenv("WATCHDOG_USEC", "200000", 1);
  process relay(relay_args({"--ports=0", "--logfile=stdio"}));
  ::unsetenv("NOTIFY_SOCKET");
  ::unsetenv("WATCHDOG_USEC");
  ASSERT_TRUE(relay.wait_output({"kiteline relay ready ports="})) << relay.tail();
  const std::string ready = systemd.receive_until("READY=1");
  EXPECT_EQ(ready, "READY=1\nMAINPID=" + std::to_string(relay.pid()) +
                       "\nSTATUS=relay ready ports=" + std::to_string(ready_port(relay)))
      << relay.tail();
  // Half of WATCHDOG_USEC apart; two in a row prove it is periodic.
  EXPECT_EQ(systemd.receive_until("WATCHDOG=1"), "WATCHDOG=1");
  EXPECT_EQ(systemd.receive_until("WATCHDOG=1"), "WATCHDOG=1");
  EXPECT_EQ(relay.count("systemd watchdog: WATCHDOG=1 every 100 ms"), 1U) << relay.tail();
  ::kill(relay.pid(), SIGTERM);
  EXPECT_EQ(systemd.receive_until("STOPPING=1"), "STOPPING=1\nSTATUS=draining (signal 15)");
}

TEST(process_hygiene, sighup_reopens_the_log_file_after_a_rename) {
  test::temp_dir dir("logrotate");
  const std::string log = dir.file("relay.log");
  const std::string rotated = dir.file("relay.log.1");
  process relay(relay_args({"--ports=0", "--logfile=" + log}));
  ASSERT_TRUE(relay.wait_output({"kiteline relay ready ports="})) << relay.tail();
  ASSERT_TRUE(test::wait_for([&] { return lines_with(test::read_file(log), "relay ready") == 1; },
                             "the ready line in the log file"));
  fs::rename(log, rotated);  // what logrotate does
  ::kill(relay.pid(), SIGHUP);
  ASSERT_TRUE(test::wait_for(
      [&] { return lines_with(test::read_file(log), "SIGHUP received") == 1; },
      "the SIGHUP line in a new file"))
      << test::read_file(rotated);
  const std::string old_text = test::read_file(rotated);
  EXPECT_EQ(lines_with(old_text, "relay ready ports="), 1U);
  EXPECT_EQ(lines_with(old_text, "SIGHUP"), 0U) << old_text;
  ::kill(relay.pid(), SIGHUP);
  ::kill(relay.pid(), SIGTERM);
  ASSERT_TRUE(test::wait_for([&] { return !relay.alive(); }, "the relay exits"));
  const std::string new_text = test::read_file(log);
  EXPECT_EQ(lines_with(new_text, "SIGHUP received"), 2U) << new_text;
  EXPECT_EQ(lines_with(new_text, "drain over, stopping"), 1U) << new_text;
  EXPECT_EQ(test::read_file(rotated), old_text) << "the renamed file stopped growing";
}

TEST(process_hygiene, a_daemonized_connector_registers_its_kite_and_reopens_its_log) {
  relay_process relay;
  ASSERT_TRUE(relay.ok()) << relay.proc().tail();
  silent_origin origin;
  ASSERT_EQ(::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), 0);
  test::temp_dir dir("connector");
  const std::string log = dir.file("connector.log");
  const std::string pidfile = dir.file("connector.pid");
  process fg({"--frontend=127.0.0.1:" + std::to_string(relay.port()),
              "--service_on=http:daemon.test:127.0.0.1:" + std::to_string(origin.port()) +
                  ":s3cret",
              "--daemonize", "--logfile=" + log, "--pidfile=" + pidfile});
  ASSERT_TRUE(test::wait_for([&] { return !fg.alive(); }, "the foreground process exits"))
      << fg.tail();
  const pid_t daemon = static_cast<pid_t>(std::atol(test::read_file(pidfile).c_str()));
  ASSERT_GT(daemon, 0) << fg.tail();
  EXPECT_NE(daemon, fg.pid());
  // The relay sees the daemon's kite.
  EXPECT_TRUE(relay.proc().wait_output({"kite up", "kite=http:daemon.test"}))
      << relay.proc().tail();
  ASSERT_TRUE(test::wait_for(
      [&] { return lines_with(test::read_file(log), "daemonized: pid=") == 1; }, "the log"));
  fs::rename(log, log + ".1");
  ::kill(daemon, SIGHUP);
  EXPECT_TRUE(test::wait_for(
      [&] { return lines_with(test::read_file(log), "SIGHUP received: log reopened") == 1; },
      "the SIGHUP line in a new file"));
  ::kill(daemon, SIGTERM);
  const int status = test::reap_child(daemon, test::test_timeout());
  ::prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_FALSE(fs::exists(pidfile));
  EXPECT_EQ(lines_with(test::read_file(log), "drain over, stopping"), 1U);
}

TEST(process_hygiene, a_log_directory_that_does_not_exist_is_refused_and_not_created) {
  test::temp_dir dir("logdir");
  const std::string missing = dir.file("missing");
  for (const std::string& dir_path : {missing, std::string("/nonexistent/dir")}) {
    const std::string file = dir_path + "/x.log";
    process relay(relay_args({"--ports=0", "--logfile=" + file}));
    ASSERT_TRUE(test::wait_for([&] { return !relay.alive(); }, "the relay exits"));
    EXPECT_EQ(relay.count("kiteline: cannot open log file " + file + ": directory " + dir_path +
                          " does not exist (kiteline does not create it)"),
              1U)
        << relay.tail();
    EXPECT_EQ(relay.count("relay ready"), 0U);
    EXPECT_FALSE(fs::exists(dir_path)) << dir_path;
  }
}

}  // namespace
}  // namespace kiteline::hostile
