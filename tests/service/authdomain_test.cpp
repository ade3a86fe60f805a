// DNS-delegated authentication (issue 23 items 1-2) on real processes: a kiteline relay with
// --authdomain asks a real PowerDNS (pipe backend tests/support/pagekite_authority.py, which
// recomputes pagekite.py's signatures from its secrets table) on a loopback port the kernel
// picked. Good secret -> OK with the quota headers; wrong secret, unknown user, quota 0, an
// error label, authority down, authority slow past the timeout -> refused with the reason in
// the answer and the log (fail closed); a quota used up mid-tunnel drops the tunnel; re-checks
// push `Quota:` chunks.
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "hostile/hostile_support.hpp"
#include "service/pdns_support.hpp"
#include "support/test_env.hpp"
#include "support/wait.hpp"

namespace kiteline::hostile {
namespace {

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

class AuthDomain : public pdns_test {};

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
