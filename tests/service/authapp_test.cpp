// External auth apps (issue 23 item 1, spec 8.3) on real processes: a kiteline relay with
// --authdomain=/path/app runs tests/support/pagekite_auth_app.py (through a wrapper script
// that sets its capabilities) in each mode: AUTH (one process per kite; the relay checks the
// signature with the secret the app answers), ZK-AUTH (the app answers like a DNS authority)
// and SERVER (one process kept running, one request line each, restarted when it dies). Good
// secret -> OK with the quota headers; wrong secret, reasons, quota 0, an app that crashes,
// answers no JSON, no secret or too late -> refused with the reason and a log line (fail
// closed); a missing or capability-less app stops the relay at start.
#include <filesystem>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "hostile/hostile_support.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

namespace kiteline::hostile {
namespace {

/// A wrapper script around pagekite_auth_app.py that fixes its capabilities, its request log
/// and how long slow.* kites take.
class auth_app_script {
 public:
  explicit auth_app_script(const std::string& caps, int slow_seconds = 4) {
    path_ = dir_.write(
        "app.sh", "#!/bin/sh\nexec /usr/bin/python3 " + std::string(KITELINE_SOURCE_DIR) +
                      "/tests/support/pagekite_auth_app.py --caps '" + caps + "' --log " +
                      dir_.file("app.log") + " --slow " + std::to_string(slow_seconds) +
                      " \"$@\"\n");
    std::filesystem::permissions(path_, std::filesystem::perms::owner_all |
                                            std::filesystem::perms::group_read |
                                            std::filesystem::perms::group_exec);
  }
  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  /// The requests the app saw, one "PID MODE ARG" line each.
  [[nodiscard]] std::vector<std::string> requests() const {
    std::vector<std::string> out;
    const std::string text = test::read_file(dir_.file("app.log"));
    std::size_t at = 0;
    while (at < text.size()) {
      const auto eol = text.find('\n', at);
      out.push_back(text.substr(at, eol - at));
      at = eol == std::string::npos ? text.size() : eol + 1;
    }
    return out;
  }
  [[nodiscard]] std::size_t count(const std::string& needle) const {
    std::size_t n = 0;
    for (const auto& l : requests()) {
      n += l.find(needle) != std::string::npos ? 1U : 0U;
    }
    return n;
  }

 private:
  test::temp_dir dir_{"authapp"};
  std::string path_;
};

std::vector<std::string> app_options(const auth_app_script& app, std::vector<std::string> more = {}) {
  std::vector<std::string> v{"--authdomain=" + app.path(), "--authdns_timeout=5"};
  v.insert(v.end(), more.begin(), more.end());
  return v;
}

/// The reason of the relay's "X-PageKite-Invalid-Why: http:DOMAIN:BSALT;REASON" line for
/// `domain` ("<none>" without one).
std::string invalid_why(const raw_tunnel& t, const std::string& domain) {
  const std::string& h = t.head();
  const auto at = h.find("X-PageKite-Invalid-Why: http:" + domain + ":");
  if (at == std::string::npos) {
    return "<none>";
  }
  const auto line = h.substr(at, h.find("\r\n", at) - at);
  return line.substr(line.rfind(';') + 1);
}

bool has_header(const raw_tunnel& t, const std::string& line) {
  return t.head().find(line + "\r\n") != std::string::npos;
}

TEST(AuthApp, AuthModeGoodSecretIsAcceptedWithTheQuotaAndCached) {
  auth_app_script app("AUTH");
  relay_process relay({app_options(app)});
  ASSERT_TRUE(relay.ok()) << relay.proc().tail();
  EXPECT_TRUE(relay.proc().wait_output({"auth app " + app.path(), "capabilities AUTH",
                                        "--auth DOMAIN", "one process per request"}));
  raw_tunnel t;
  ASSERT_TRUE(t.connect_flow_a(relay.port(), "good.kites.example", "goodsecret")) << t.head();
  EXPECT_TRUE(has_header(t, "X-PageKite-Quota: 1024")) << t.head();
  EXPECT_TRUE(relay.proc().wait_output({"kite authenticated by authority", "good.kites.example",
                                        "answered a secret (quota 1024 kB)"}));
  // A second tunnel (a new token, a new signature) is checked against the cached answer.
  raw_tunnel again;
  ASSERT_TRUE(again.connect_flow_a(relay.port(), "good.kites.example", "goodsecret"));
  EXPECT_EQ(app.count(" --auth good.kites.example"), 1u);
  EXPECT_EQ(app.count(" --capabilities"), 1u);
}

TEST(AuthApp, AuthModeExtrasGiveQConnsQDaysAndIPsPerSec) {
  auth_app_script app("AUTH");
  relay_process relay({app_options(app)});
  ASSERT_TRUE(relay.ok()) << relay.proc().tail();
  raw_tunnel t;
  ASSERT_TRUE(t.connect_flow_a(relay.port(), "extra.kites.example", "extrasecret")) << t.head();
  EXPECT_TRUE(has_header(t, "X-PageKite-QConns: 5")) << t.head();
  EXPECT_TRUE(has_header(t, "X-PageKite-QDays: 30"));
  EXPECT_TRUE(has_header(t, "X-PageKite-IPsPerSec: 3/900"));
  EXPECT_TRUE(has_header(t, "X-PageKite-Quota: 65536"));
  EXPECT_TRUE(relay.proc().wait_output(
      {"limits quota_kb=65536 qconns=5 qdays=30 ips_per_sec=3/900"}));
}

TEST(AuthApp, AuthModeRefusalsCarryTheReasonAndFailClosed) {
  auth_app_script app("AUTH");
  relay_process relay({app_options(app)});
  ASSERT_TRUE(relay.ok()) << relay.proc().tail();
  struct refusal {
    std::string domain, secret, reason, log;
  };
  const std::vector<refusal> cases{
      {"good.kites.example", "wrongsecret", "signature",
       "its secret does not verify the kite's signature"},
      {"nodays.kites.example", "nodayssecret", "nodays", "refused: nodays"},
      {"zero.kites.example", "zerosecret", "quota", "answered quota_kb 0 (no quota left)"},
      {"nobody.kites.example", "whatever", "unauthorized", "refused: unauthorized"},
      {"broken.kites.example", "brokensecret", "unauthorized", "answer is not JSON"},
      {"crash.kites.example", "crashsecret", "unauthorized", "exited with status 3"},
      {"nosecret.kites.example", "nosecretsecret", "unauthorized", "gave no secret"},
  };
  for (const auto& c : cases) {
    raw_tunnel t;
    EXPECT_FALSE(t.connect_flow_a(relay.port(), c.domain, c.secret)) << c.domain;
    EXPECT_EQ(invalid_why(t, c.domain), c.reason) << c.domain << "\n" << t.head();
    EXPECT_TRUE(relay.proc().wait_output({"kite http:" + c.domain + " refused: auth app ",
                                          c.log, "reason=" + c.reason}));
  }
  // The app's own failures are "fail closed"; its refusals are plain refusals.
  EXPECT_EQ(relay.proc().count("(fail closed)"), 3u) << relay.proc().tail();
}

TEST(AuthApp, AuthModeSlowAppTimesOutAndFailsClosed) {
  auth_app_script app("AUTH", 3);
  relay_process relay({app_options(app, {"--authdns_timeout=1"})});
  ASSERT_TRUE(relay.ok()) << relay.proc().tail();
  raw_tunnel t;
  EXPECT_FALSE(t.connect_flow_a(relay.port(), "slow.kites.example", "slowsecret"));
  EXPECT_EQ(invalid_why(t, "slow.kites.example"), "unauthorized") << t.head();
  EXPECT_TRUE(relay.proc().wait_output({"kite http:slow.kites.example refused: auth app",
                                        "timed out after 1 s", "(fail closed)"}));
}

TEST(AuthApp, FailOpenAcceptsWhenTheAppFailsAndWarns) {
  auth_app_script app("AUTH");
  relay_process relay({app_options(app, {"--authfail_open"})});
  ASSERT_TRUE(relay.ok()) << relay.proc().tail();
  raw_tunnel t;
  EXPECT_TRUE(t.connect_flow_a(relay.port(), "crash.kites.example", "anything")) << t.head();
  EXPECT_TRUE(relay.proc().wait_output(
      {"accepted without authority", "exited with status 3", "(--authfail_open)"}));
  // A refusal is still a refusal.
  raw_tunnel wrong;
  EXPECT_FALSE(wrong.connect_flow_a(relay.port(), "good.kites.example", "wrongsecret"));
  EXPECT_EQ(invalid_why(wrong, "good.kites.example"), "signature");
}

TEST(AuthApp, ZkAuthModeAnswersLikeADnsAuthority) {
  auth_app_script app("ZK-AUTH");
  relay_process relay({app_options(app)});
  ASSERT_TRUE(relay.ok()) << relay.proc().tail();
  raw_tunnel good;
  ASSERT_TRUE(good.connect_flow_a(relay.port(), "good.kites.example", "goodsecret"))
      << good.head();
  EXPECT_TRUE(has_header(good, "X-PageKite-Quota: 1024")) << good.head();
  EXPECT_TRUE(relay.proc().wait_output(
      {"kite authenticated by authority", "(zk-auth)", "0.0.4.0 (quota 1024 kB)"}));
  raw_tunnel extra;
  ASSERT_TRUE(extra.connect_flow_a(relay.port(), "extra.kites.example", "extrasecret"));
  EXPECT_TRUE(has_header(extra, "X-PageKite-QConns: 5")) << extra.head();
  EXPECT_TRUE(has_header(extra, "X-PageKite-IPsPerSec: 3/900"));
  EXPECT_TRUE(has_header(extra, "X-PageKite-Quota: 65536"));
  for (const auto& [domain, secret, reason] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"good.kites.example", "wrongsecret", "unauthorized"},
           {"nodays.kites.example", "nodayssecret", "nodays"},
           {"nobody.kites.example", "x", "unauthorized"}}) {
    raw_tunnel t;
    EXPECT_FALSE(t.connect_flow_a(relay.port(), domain, secret));
    EXPECT_EQ(invalid_why(t, domain), reason) << t.head();
  }
  // The app saw pagekite.py's query name: BSALT.FSALT.SIGNATURE.http.DOMAIN.<its path>.
  bool seen = false;
  for (const auto& r : app.requests()) {
    seen = seen || (r.find(" --zk-auth ") != std::string::npos &&
                    r.ends_with(".http.good.kites.example." + app.path() + "."));
  }
  EXPECT_TRUE(seen);
}

TEST(AuthApp, ServerModeKeepsOneProcessAndRestartsItWhenItDies) {
  auth_app_script app("SERVER AUTH");
  relay_process relay({app_options(app)});
  ASSERT_TRUE(relay.ok()) << relay.proc().tail();
  raw_tunnel good;
  ASSERT_TRUE(good.connect_flow_a(relay.port(), "good.kites.example", "goodsecret"))
      << good.head();
  EXPECT_TRUE(has_header(good, "X-PageKite-Quota: 1024"));
  raw_tunnel extra;
  ASSERT_TRUE(extra.connect_flow_a(relay.port(), "extra.kites.example", "extrasecret"));
  EXPECT_TRUE(has_header(extra, "X-PageKite-QConns: 5"));
  // One --server process answered both, on its stdin.
  EXPECT_EQ(relay.proc().count("started as a server"), 1u) << relay.proc().tail();
  EXPECT_EQ(app.count(" --server"), 1u);
  EXPECT_EQ(app.count(" --auth "), 2u);
  // It dies on crash.*: that kite is refused, and the next request starts it again.
  raw_tunnel crash;
  EXPECT_FALSE(crash.connect_flow_a(relay.port(), "crash.kites.example", "crashsecret"));
  EXPECT_EQ(invalid_why(crash, "crash.kites.example"), "unauthorized");
  EXPECT_TRUE(relay.proc().wait_output(
      {"kite http:crash.kites.example refused", "closed its stdout without answering",
       "(fail closed)"}));
  EXPECT_TRUE(relay.proc().wait_output({"exited with status 3", "started again"}));
  // (nodays.* was never asked: not an answer from the cache.)
  raw_tunnel wrong;
  EXPECT_FALSE(wrong.connect_flow_a(relay.port(), "nodays.kites.example", "wrongsecret"));
  EXPECT_EQ(invalid_why(wrong, "nodays.kites.example"), "signature");
  EXPECT_EQ(relay.proc().count("started as a server"), 2u) << relay.proc().tail();
  EXPECT_EQ(app.count(" --server"), 2u);
}

TEST(AuthApp, ServerModeAnswerTooLateRestartsTheApp) {
  auth_app_script app("SERVER ZK-AUTH", 3);
  relay_process relay({app_options(app, {"--authdns_timeout=1"})});
  ASSERT_TRUE(relay.ok()) << relay.proc().tail();
  raw_tunnel slow;
  EXPECT_FALSE(slow.connect_flow_a(relay.port(), "slow.kites.example", "slowsecret"));
  EXPECT_EQ(invalid_why(slow, "slow.kites.example"), "unauthorized");
  EXPECT_TRUE(relay.proc().wait_output(
      {"kite http:slow.kites.example refused", "timed out", "(fail closed)"}));
  raw_tunnel good;
  ASSERT_TRUE(good.connect_flow_a(relay.port(), "good.kites.example", "goodsecret"))
      << good.head();
  EXPECT_TRUE(has_header(good, "X-PageKite-Quota: 1024"));
  EXPECT_EQ(relay.proc().count("started as a server"), 2u) << relay.proc().tail();
}

TEST(AuthApp, RecheckAsksTheAppAgainAndPushesTheQuota) {
  auth_app_script app("SERVER AUTH");
  relay_process relay({app_options(app, {"--authdomain_recheck_seconds=1"})});
  ASSERT_TRUE(relay.ok()) << relay.proc().tail();
  raw_tunnel t;
  ASSERT_TRUE(t.connect_flow_a(relay.port(), "good.kites.example", "goodsecret")) << t.head();
  EXPECT_TRUE(relay.proc().wait_output({"quota re-checked: 1024 kB"}));
  // Re-checks skip the cache: the app was asked again.
  EXPECT_TRUE(test::wait_for([&] { return app.count(" --auth good.kites.example") >= 2; },
                             "a second --auth request"));
}

TEST(AuthApp, AnAppThatCannotBeUsedStopsTheRelayAtStart) {
  {
    process p({"--isfrontend", "--host=127.0.0.1", "--ports=0", "--logfile=stdio",
               "--authdomain=/nonexistent/kite-auth"});
    const auto st = p.wait_exit(test::test_timeout());
    ASSERT_TRUE(st);
    EXPECT_NE(*st, 0);
    EXPECT_NE(p.output().find("cannot run the auth app /nonexistent/kite-auth: No such file or "
                              "directory"),
              std::string::npos)
        << p.output();
  }
  auth_app_script app("NOTHING USEFUL");
  process p({"--isfrontend", "--host=127.0.0.1", "--ports=0", "--logfile=stdio",
             "--authdomain=" + app.path()});
  const auto st = p.wait_exit(test::test_timeout());
  ASSERT_TRUE(st);
  EXPECT_NE(*st, 0);
  EXPECT_NE(p.output().find("--capabilities printed \"NOTHING USEFUL\", which names neither "
                            "AUTH nor ZK-AUTH"),
            std::string::npos)
      << p.output();
  EXPECT_EQ(p.count("kiteline relay ready"), 0u);
}

}  // namespace
}  // namespace kiteline::hostile
