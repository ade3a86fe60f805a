// DNS-delegated authentication (issue 23 items 1-2) on real processes: a kiteline relay with
// --authdomain asks a real PowerDNS (pipe backend tests/support/pagekite_authority.py, which
// recomputes pagekite.py's signatures from its secrets table) on a loopback port the kernel
// picked. Good secret -> OK with the quota headers; wrong secret, unknown user, quota 0, an
// error label, authority down, authority slow past the timeout -> refused with the reason in
// the answer and the log (fail closed); a quota used up mid-tunnel drops the tunnel; re-checks
// push `Quota:` chunks.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "hostile/hostile_support.hpp"
#include "support/temp_dir.hpp"
#include "support/test_env.hpp"
#include "support/wait.hpp"

extern char** environ;

namespace kiteline::hostile {
namespace {

const std::string zone = "auth.test";

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

/// PowerDNS serving the pagekite authority zone on 127.0.0.1:port().
class pdns_authority {
 public:
  pdns_authority() {
    (void)dir_.write("pdns.conf", "");
    const std::string script =
        std::string(KITELINE_SOURCE_DIR) + "/tests/support/pagekite_authority.py";
    for (int attempt = 0; attempt < 5 && port_ == 0; ++attempt) {
      const std::uint16_t p = free_udp_tcp_port();
      if (p == 0) {
        continue;
      }
      pid_ = test::spawn_logged(
          {"/usr/sbin/pdns_server", "--config-dir=" + dir_.path().string(), "--launch=pipe",
           "--pipe-command=" + script + " " + zone + " 4", "--pipe-timeout=10000",
           "--local-address=127.0.0.1", "--local-port=" + std::to_string(p),
           "--socket-dir=" + dir_.path().string(), "--guardian=no", "--daemon=no",
           "--disable-syslog", "--write-pid=no", "--cache-ttl=0", "--query-cache-ttl=0",
           "--negquery-cache-ttl=0", "--zone-cache-refresh-interval=0",
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
  ~pdns_authority() { stop(); }
  pdns_authority(const pdns_authority&) = delete;
  pdns_authority& operator=(const pdns_authority&) = delete;

  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
  [[nodiscard]] std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  void stop() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      (void)test::reap_child(pid_, test::milliseconds(5000));
      pid_ = -1;
    }
  }

 private:
  test::temp_dir dir_{"pdns"};
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
};

std::vector<std::string> auth_options(const std::string& dns, std::vector<std::string> more = {}) {
  std::vector<std::string> v{"--authdomain=" + zone, "--authdns=" + dns, "--authdns_timeout=2"};
  v.insert(v.end(), more.begin(), more.end());
  return v;
}

/// A kite's refusal as the relay answers it: "X-PageKite-Invalid-Why: http:DOMAIN:...;REASON".
testing::AssertionResult refused_with(const raw_tunnel& t, const std::string& domain,
                                      const std::string& reason) {
  const std::string& h = t.head();
  const auto at = h.find("X-PageKite-Invalid-Why: http:" + domain + ":");
  if (at == std::string::npos) {
    return testing::AssertionFailure() << "no Invalid-Why for " << domain << " in:\n" << h;
  }
  const auto eol = h.find("\r\n", at);
  const std::string line = h.substr(at, eol - at);
  if (!line.ends_with(";" + reason)) {
    return testing::AssertionFailure() << "wanted reason " << reason << ", got: " << line;
  }
  return testing::AssertionSuccess();
}

class AuthDomain : public testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists("/usr/sbin/pdns_server")) {
      GTEST_SKIP() << "pdns-server not installed (scripts/install-deps.sh)";
    }
    ASSERT_NE(dns_.port(), 0) << "PowerDNS did not start";
  }
  pdns_authority dns_;
};

TEST_F(AuthDomain, GoodSecretIsAcceptedWithTheQuota) {
  relay_process relay({auth_options(dns_.address())});
  ASSERT_TRUE(relay.ok());
  raw_tunnel t;
  ASSERT_TRUE(t.connect_flow_a(relay.port(), "good.kites.example", "goodsecret")) << t.head();
  EXPECT_NE(t.head().find("X-PageKite-OK: http:good.kites.example:"), std::string::npos);
  EXPECT_NE(t.head().find("X-PageKite-Quota: 1024\r\n"), std::string::npos) << t.head();
  EXPECT_TRUE(relay.proc().wait_output({"kite authenticated by authority", "good.kites.example",
                                        "0.0.4.0 (quota 1024 kB)"}));
}

TEST_F(AuthDomain, CnameExtrasGiveQConnsQDaysAndIPsPerSec) {
  relay_process relay({auth_options(dns_.address())});
  ASSERT_TRUE(relay.ok());
  raw_tunnel t;
  ASSERT_TRUE(t.connect_flow_a(relay.port(), "extra.kites.example", "extrasecret")) << t.head();
  EXPECT_NE(t.head().find("X-PageKite-QConns: 5\r\n"), std::string::npos) << t.head();
  EXPECT_NE(t.head().find("X-PageKite-QDays: 30\r\n"), std::string::npos);
  EXPECT_NE(t.head().find("X-PageKite-IPsPerSec: 3/900\r\n"), std::string::npos);
  EXPECT_NE(t.head().find("X-PageKite-Quota: 65536\r\n"), std::string::npos);
  EXPECT_TRUE(relay.proc().wait_output(
      {"limits quota_kb=65536 qconns=5 qdays=30 ips_per_sec=3/900"}));
}

TEST_F(AuthDomain, RefusalsCarryTheAuthoritysReason) {
  relay_process relay({auth_options(dns_.address())});
  ASSERT_TRUE(relay.ok());
  struct refusal {
    std::string domain, secret, reason, log;
  };
  const std::vector<refusal> cases{
      {"good.kites.example", "wrongsecret", "unauthorized", "255.255.255.1"},
      {"nobody.kites.example", "whatever", "unauthorized", "255.255.255.0 (user unknown)"},
      {"zero.kites.example", "zerosecret", "quota", "0.0.0.0 (no quota left)"},
      {"nodays.kites.example", "nodayssecret", "nodays", "255.255.255.2 (nodays)"},
  };
  for (const auto& c : cases) {
    raw_tunnel t;
    EXPECT_FALSE(t.connect_flow_a(relay.port(), c.domain, c.secret)) << c.domain;
    EXPECT_TRUE(refused_with(t, c.domain, c.reason));
    EXPECT_TRUE(relay.proc().wait_output({"kite http:" + c.domain + " refused", c.log}));
  }
}

TEST_F(AuthDomain, AuthorityDownFailsClosed) {
  const std::string addr = dns_.address();
  dns_.stop();
  relay_process relay({auth_options(addr)});
  ASSERT_TRUE(relay.ok());
  raw_tunnel t;
  EXPECT_FALSE(t.connect_flow_a(relay.port(), "good.kites.example", "goodsecret"));
  EXPECT_TRUE(refused_with(t, "good.kites.example", "unauthorized"));
  EXPECT_TRUE(relay.proc().wait_output({"kite http:good.kites.example refused", "(fail closed)"}));
}

TEST_F(AuthDomain, AuthoritySlowerThanTheTimeoutFailsClosed) {
  relay_process relay({auth_options(dns_.address(), {"--authdns_timeout=1"})});
  ASSERT_TRUE(relay.ok());
  raw_tunnel t;
  EXPECT_FALSE(t.connect_flow_a(relay.port(), "slow.kites.example", "slowsecret"));
  EXPECT_TRUE(refused_with(t, "slow.kites.example", "unauthorized"));
  EXPECT_TRUE(relay.proc().wait_output(
      {"kite http:slow.kites.example refused: authority timeout after 1 s", "(fail closed)"}));
}

TEST_F(AuthDomain, FailOpenAcceptsWhenTheAuthorityIsDownAndWarns) {
  const std::string addr = dns_.address();
  dns_.stop();
  relay_process relay({auth_options(addr, {"--authfail_open"})});
  ASSERT_TRUE(relay.ok());
  EXPECT_TRUE(relay.proc().wait_output({"--authfail_open"}));
  raw_tunnel t;
  EXPECT_TRUE(t.connect_flow_a(relay.port(), "good.kites.example", "goodsecret")) << t.head();
  EXPECT_TRUE(relay.proc().wait_output({"accepted without authority", "(--authfail_open)"}));
}

TEST_F(AuthDomain, LocalSecretStillWinsAndAQuotaUsedUpDropsTheTunnel) {
  relay_process relay({auth_options(dns_.address())});
  ASSERT_TRUE(relay.ok());
  // --domain=...:*.test:s3cret (relay_process) authenticates without asking the authority.
  raw_tunnel local;
  ASSERT_TRUE(local.connect_flow_a(relay.port(), "local.test", "s3cret")) << local.head();
  EXPECT_EQ(local.head().find("X-PageKite-Quota"), std::string::npos);
  // exhaust.kites.example has a 4 kB quota: a visitor sending 8 kB uses it up.
  raw_tunnel t;
  ASSERT_TRUE(t.connect_flow_a(relay.port(), "exhaust.kites.example", "exhaustsecret"));
  EXPECT_NE(t.head().find("X-PageKite-Quota: 4\r\n"), std::string::npos) << t.head();
  // The relay registers the kite just after its answer: wait for that before visiting.
  ASSERT_TRUE(relay.proc().wait_output({"kite up", "kite=http:exhaust.kites.example"}));
  const int v = connect_loopback(relay.port());
  ASSERT_GE(v, 0);
  std::string req = "POST / HTTP/1.1\r\nHost: exhaust.kites.example\r\nContent-Length: 8192\r\n\r\n";
  req += std::string(8192, 'x');
  ASSERT_TRUE(send_all(v, req));
  EXPECT_TRUE(relay.proc().wait_output({"closed: quota of 4 kB used up", "exhaust.kites.example"}));
  ::close(v);
}

TEST_F(AuthDomain, RecheckPushesTheQuota) {
  relay_process relay({auth_options(dns_.address(), {"--authdomain_recheck_seconds=1"})});
  ASSERT_TRUE(relay.ok());
  raw_tunnel t;
  ASSERT_TRUE(t.connect_flow_a(relay.port(), "good.kites.example", "goodsecret")) << t.head();
  EXPECT_TRUE(relay.proc().wait_output({"quota re-checked: 1024 kB"}));
  // The chunk itself: NOOP + Quota on the tunnel.
  std::string got;
  EXPECT_TRUE(test::wait_for(
      [&] {
        char buf[4096];
        const auto n = ::recv(t.fd(), buf, sizeof buf, MSG_DONTWAIT);
        if (n > 0) {
          got.append(buf, static_cast<std::size_t>(n));
        }
        return got.find("Quota: 1024\r\n") != std::string::npos;
      },
      "a Quota chunk"))
      << got;
}

}  // namespace
}  // namespace kiteline::hostile
