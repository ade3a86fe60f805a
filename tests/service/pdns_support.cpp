// PowerDNS as the pagekite authority of the --authdomain tests (see pdns_support.hpp).
#include "service/pdns_support.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>

#include "support/wait.hpp"

extern char** environ;

namespace kiteline::hostile {
namespace {

/// A port free for both UDP and TCP on 127.0.0.1 right now (bound with port 0, then released);
/// 0 when none was found in a few tries.
std::uint16_t free_udp_tcp_port() {
  for (int attempt = 0; attempt < 20; ++attempt) {
    const int u = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (u < 0 || ::bind(u, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::getsockname(u, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      if (u >= 0) {
        ::close(u);
      }
      continue;
    }
    const int t = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const bool tcp_ok = t >= 0 && ::bind(t, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    const std::uint16_t port = ntohs(a.sin_port);
    ::close(u);
    if (t >= 0) {
      ::close(t);
    }
    if (tcp_ok) {
      return port;
    }
  }
  return 0;
}

/// Sends one DNS query for the zone's SOA to 127.0.0.1:port; true when an answer came.
bool dns_answers(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return false;
  }
  timeval tv{0, 200000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string q("\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00", 12);
  q += "\x04" "auth" "\x04" "test";
  q += std::string("\x00\x00\x06\x00\x01", 5);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  ::sendto(fd, q.data(), q.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof a);
  char buf[512];
  const auto n = ::recv(fd, buf, sizeof buf, 0);
  ::close(fd);
  return n > 12;
}

}  // namespace

pdns_authority::pdns_authority() {
  (void)dir_.write("pdns.conf", "");
  (void)dir_.write("answers/README", "one file per `file:NAME` user: its answer\n");
  const std::string script =
      std::string(KITELINE_SOURCE_DIR) + "/tests/support/pagekite_authority.py";
  for (int attempt = 0; attempt < 5 && port_ == 0; ++attempt) {
    const std::uint16_t p = free_udp_tcp_port();
    if (p == 0) {
      continue;
    }
    pid_ = test::spawn_logged(
        {"/usr/sbin/pdns_server", "--config-dir=" + dir_.path().string(), "--launch=pipe",
         "--pipe-command=" + script + " " + auth_zone + " 4 " + dir_.file("answers"),
         "--pipe-timeout=10000", "--local-address=127.0.0.1",
         "--local-port=" + std::to_string(p), "--socket-dir=" + dir_.path().string(),
         "--guardian=no", "--daemon=no", "--disable-syslog", "--write-pid=no", "--cache-ttl=0",
         "--query-cache-ttl=0", "--negquery-cache-ttl=0", "--zone-cache-refresh-interval=0",
         "--security-poll-suffix=", "--distributor-threads=2"},
        dir_.file("pdns.log"), "/dev/null", environ);
    if (pid_ > 0 && test::wait_for([&] { return dns_answers(p); }, test::milliseconds(10000),
                                   "pdns answers")) {
      port_ = p;
    } else if (pid_ > 0) {
      stop();  // the port was taken in between: try another
    }
  }
}

pdns_authority::~pdns_authority() { stop(); }

void pdns_authority::set_answer(std::string_view name, std::string_view answer) const {
  test::write_file_atomically(dir_.path() / "answers" / name, std::string(answer) + "\n");
}

void pdns_authority::stop() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    (void)test::reap_child(pid_, test::milliseconds(5000));
    pid_ = -1;
  }
}

void pdns_test::SetUp() {
  if (!std::filesystem::exists("/usr/sbin/pdns_server")) {
    GTEST_SKIP() << "pdns-server not installed (scripts/install-deps.sh)";
  }
  ASSERT_NE(dns_.port(), 0) << "PowerDNS did not start";
}

std::vector<std::string> auth_options(const std::string& dns, std::vector<std::string> more) {
  std::vector<std::string> v{"--authdomain=" + auth_zone, "--authdns=" + dns,
                             "--authdns_timeout=2"};
  v.insert(v.end(), more.begin(), more.end());
  return v;
}

}  // namespace kiteline::hostile
