// The console as an operator meets it: a real relay and connector process with --httpd, scraped
// by a real Prometheus (its HTTP API answers kiteline_relay_tunnels), both outputs checked by
// `promtool check metrics`, the relay's status page loaded in headless Chromium (screenshot kept
// as an artifact, DOM checked, a refused <script> kite name stays text), Basic auth, SIGUSR1.
#include <fcntl.h>
#include <netinet/in.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "core/text.hpp"
#include "hostile/hostile_support.hpp"
#include "support/connector_fixture.hpp"
#include "support/fake_visitor.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

extern char** environ;

namespace kiteline::hostile {
namespace {

/// Another program (Prometheus, promtool, Chromium) as a child: stdout and stderr to `log`.
/// The destructor sends SIGTERM and reaps it (SIGKILL after 5 s).
class child {
 public:
  child(std::vector<std::string> args, const std::string& log, const std::string& stdin_file = "")
      : log_(log),
        pid_(test::spawn_logged(std::move(args), log,
                                stdin_file.empty() ? "/dev/null" : stdin_file, environ)) {}
  ~child() {
    if (pid_ > 0 && !done_) {
      ::kill(pid_, SIGTERM);
      (void)test::reap_child(pid_, milliseconds(5000));
    }
  }
  child(const child&) = delete;
  child& operator=(const child&) = delete;

  /// Waits for the exit (bounded by `timeout`, then killed); the exit status, -1 if killed.
  int wait(milliseconds timeout) {
    int status = 0;
    const bool exited = static_cast<bool>(test::wait_for(
        [&] { return ::waitpid(pid_, &status, WNOHANG) == pid_; }, timeout));
    if (!exited) {
      ::kill(pid_, SIGKILL);
      (void)::waitpid(pid_, &status, 0);
    }
    done_ = true;
    return exited && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  [[nodiscard]] std::string output() const {
    std::ifstream in(log_);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  [[nodiscard]] bool started() const noexcept { return pid_ > 0; }

 private:
  std::string log_;
  pid_t pid_ = -1;
  bool done_ = false;
};

/// A port nobody listens on now (bound to 0, read, closed): for programs that cannot report
/// the port they bound. The kernel does not hand it out again at once.
std::uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  (void)::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  (void)::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

/// "http://127.0.0.1:PORT/" -> PORT (0 if the text is not that).
std::uint16_t url_port(const std::string& url) {
  const auto colon = url.rfind(':');
  return colon == std::string::npos ? 0 : static_cast<std::uint16_t>(std::atoi(url.c_str() + colon + 1));
}

/// GET `path` from the console on `port`, with an Authorization line when `auth` is set.
test::http_response console_get(std::uint16_t port, const std::string& path,
                                const std::string& auth = "") {
  const std::string extra =
      auth.empty() ? std::string() : "Authorization: Basic " + base64_encode(auth) + "\r\n";
  return test::http_exchange(port, test::http_get("127.0.0.1", path, extra));
}

/// The value of the unlabelled sample `name` in a Prometheus text exposition (-1 if absent).
double sample(const std::string& text, const std::string& name) {
  const auto at = text.find("\n" + name + " ");
  return at == std::string::npos ? -1 : std::atof(text.c_str() + at + name.size() + 2);
}

std::string artifacts_dir() {
  const std::string dir = std::string(KITELINE_BUILD_DIR) + "/artifacts";
  std::filesystem::create_directories(dir);
  return dir;
}

/// A relay and a connector with consoles (the connector's behind --httppass), a kite visited
/// once, and a refused kite request named `<script>alert(1)</script>.test`.
struct console_fixture {
  console_fixture()
      : relay(relay_setup{{"--httpd=127.0.0.1:0"}}) {
    if (!relay.ok()) {
      return;
    }
    const auto ready = relay.proc().line_after("kiteline relay ready ports=");
    if (ready && ready->find(" console=") != std::string::npos) {
      relay_console = url_port(ready->substr(ready->find(" console=") + 9));
    }
    connector = std::make_unique<connector_process>(
        relay.port(), "foo.test", origin.port(),
        std::vector<std::string>{"--httpd=127.0.0.1:0", "--httppass=pw"});
    if (const auto url = connector->proc().line_after("kiteline connector console=")) {
      connector_console = url_port(*url);
    }
  }
  [[nodiscard]] bool ok() const {
    return relay.ok() && relay_console != 0 && connector && connector->ok() &&
           connector_console != 0;
  }

  test::http_origin origin;
  relay_process relay;
  std::unique_ptr<connector_process> connector;
  std::uint16_t relay_console = 0;
  std::uint16_t connector_console = 0;
};

TEST(console_service, ready_lines_name_the_consoles_and_parsers_still_read_the_port) {
  console_fixture f;
  ASSERT_TRUE(f.ok()) << f.relay.proc().tail() << (f.connector ? f.connector->proc().tail() : "");
  const auto ready = f.relay.proc().line_after("kiteline relay ready ports=");
  ASSERT_TRUE(ready);
  EXPECT_EQ(*ready, std::to_string(f.relay.port()) + " console=http://127.0.0.1:" +
                        std::to_string(f.relay_console) + "/");
  // The shell parsers of tests/interop, bench/ and scripts/demo-run.sh, on this very line.
  test::temp_dir dir("console-ready");
  const std::string line = dir.write("relay.out", "kiteline relay ready ports=" + *ready + "\n");
  for (const std::string& cmd :
       {"sed -nE 's/^kiteline relay ready ports=([0-9]+).*/\\1/p' " + line,
        "grep -oE 'ready ports=[0-9]+' " + line + " | cut -d= -f2"}) {
    child sh({"/bin/sh", "-c", cmd}, dir.file("sh.log"));
    ASSERT_EQ(sh.wait(test::test_timeout()), 0) << cmd;
    EXPECT_EQ(sh.output(), std::to_string(f.relay.port()) + "\n") << cmd;
  }
}

TEST(console_service, prometheus_scrapes_both_roles_and_promtool_accepts_them) {
  console_fixture f;
  ASSERT_TRUE(f.ok()) << f.relay.proc().tail() << (f.connector ? f.connector->proc().tail() : "");
  // A visit, so byte counters move.
  const auto visit = test::http_exchange(f.relay.port(), test::http_get("foo.test", "/bytes/1000"));
  ASSERT_EQ(visit.status, 200) << visit.head;

  test::temp_dir dir("console-prom");
  const auto relay_metrics = console_get(f.relay_console, "/metrics");
  ASSERT_EQ(relay_metrics.status, 200) << relay_metrics.head;
  EXPECT_NE(relay_metrics.header("Content-Type").find("version=0.0.4"), std::string::npos);
  EXPECT_NE(relay_metrics.body_text().find("kiteline_relay_tunnels 1\n"), std::string::npos);
  EXPECT_NE(relay_metrics.body_text().find(
                "kiteline_relay_visitor_connections_total{proto=\"http\",result=\"routed\"} 1\n"),
            std::string::npos)
      << relay_metrics.body_text();
  EXPECT_EQ(relay_metrics.body_text().find("127.0.0.1"), std::string::npos);  // no address label
  const auto connector_metrics = console_get(f.connector_console, "/metrics", "prom:pw");
  ASSERT_EQ(connector_metrics.status, 200) << connector_metrics.head;
  EXPECT_NE(connector_metrics.body_text().find("kiteline_connector_relay_up{relay=\"127.0.0.1:" +
                                               std::to_string(f.relay.port()) + "\"} 1\n"),
            std::string::npos)
      << connector_metrics.body_text();
  for (const auto& [name, body] : {std::pair{"relay", relay_metrics.body_text()},
                                   std::pair{"connector", connector_metrics.body_text()}}) {
    const std::string file = dir.write(std::string(name) + ".prom", body);
    child promtool({"/usr/bin/promtool", "check", "metrics"}, dir.file("promtool.log"), file);
    EXPECT_EQ(promtool.wait(test::test_timeout()), 0) << name << ": " << promtool.output();
    std::cout << "[console] promtool check metrics (" << name << "): exit 0, output \""
              << promtool.output() << "\"\n";
  }

  const std::uint16_t prom_port = free_port();
  const std::string config = dir.write(
      "prometheus.yml",
      "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
      "scrape_configs:\n"
      "  - job_name: kiteline-relay\n    static_configs:\n      - targets: ['127.0.0.1:" +
          std::to_string(f.relay_console) +
          "']\n"
          "  - job_name: kiteline-connector\n    basic_auth:\n      username: prom\n"
          "      password: pw\n    static_configs:\n      - targets: ['127.0.0.1:" +
          std::to_string(f.connector_console) + "']\n");
  child prom({"/usr/bin/prometheus", "--config.file=" + config,
              "--storage.tsdb.path=" + dir.file("tsdb"),
              "--web.listen-address=127.0.0.1:" + std::to_string(prom_port)},
             dir.file("prometheus.log"));
  ASSERT_TRUE(prom.started());
  const auto query = [&](const std::string& q) {
    return test::http_exchange(prom_port,
                               test::http_get("127.0.0.1", "/api/v1/query?query=" + q))
        .body_text();
  };
  std::string answer;
  const auto got = test::wait_for(
      [&] {
        answer = query("kiteline_relay_tunnels");
        return answer.find("\"kiteline_relay_tunnels\"") != std::string::npos &&
               answer.find(",\"1\"]") != std::string::npos;
      },
      test::test_timeout());
  EXPECT_TRUE(got) << "last answer: " << answer << "\n" << prom.output().substr(0, 4000);
  std::cout << "[console] Prometheus /api/v1/query?query=kiteline_relay_tunnels: " << answer
            << "\n";
  std::string up;
  EXPECT_TRUE(test::wait_for(
      [&] {
        up = query("kiteline_connector_relay_up");
        return up.find(",\"1\"]") != std::string::npos;
      },
      test::test_timeout()))
      << up;
  std::cout << "[console] Prometheus /api/v1/query?query=kiteline_connector_relay_up: " << up
            << "\n";
  const std::string targets =
      test::http_exchange(prom_port, test::http_get("127.0.0.1", "/api/v1/targets")).body_text();
  EXPECT_EQ(targets.find("\"health\":\"down\""), std::string::npos) << targets;
}

TEST(console_service, status_page_in_chromium_shows_the_tunnel_and_keeps_script_as_text) {
  console_fixture f;
  ASSERT_TRUE(f.ok()) << f.relay.proc().tail() << (f.connector ? f.connector->proc().tail() : "");
  const auto visit = test::http_exchange(f.relay.port(), test::http_get("foo.test", "/bytes/50000"));
  ASSERT_EQ(visit.status, 200) << visit.head;
  // A kite request whose name carries markup: refused (wrong secret), it lands in the refusals.
  raw_tunnel evil;
  EXPECT_FALSE(evil.connect_flow_a(f.relay.port(), "<script>alert(1)</script>.test", "wrong"));
  const auto json = console_get(f.relay_console, "/status.json");
  ASSERT_EQ(json.status, 200);
  EXPECT_NE(json.body_text().find("<script>alert(1)</script>.test"), std::string::npos)
      << json.body_text();

  test::temp_dir dir("console-chromium");
  const std::string url = "http://127.0.0.1:" + std::to_string(f.relay_console) + "/";
  const std::vector<std::string> base{"/usr/bin/chromium",
                                      "--headless",
                                      "--no-sandbox",
                                      "--disable-gpu",
                                      "--disable-quic",
                                      "--no-first-run",
                                      "--disable-background-networking",
                                      "--disable-component-update",
                                      "--disable-sync",
                                      "--user-data-dir=" + dir.file("profile")};
  auto args = base;
  args.push_back("--dump-dom");
  args.push_back(url);
  child dom(args, dir.file("dom.html"));
  ASSERT_EQ(dom.wait(test::test_timeout()), 0) << dom.output();
  const std::string text = dom.output();
  const std::string page = text.substr(std::min(text.find("<html"), text.size()));
  EXPECT_NE(page.find("kiteline relay"), std::string::npos) << text;
  EXPECT_NE(page.find("<td>http:foo.test</td>"), std::string::npos) << page;  // the kite
  EXPECT_NE(page.find("Tunnels (1)"), std::string::npos) << page;              // the tunnel
  EXPECT_NE(page.find("&lt;script&gt;alert(1)&lt;/script&gt;.test"), std::string::npos) << page;
  EXPECT_EQ(page.find("<script"), std::string::npos) << page;  // no script element at all

  const std::string shot = artifacts_dir() + "/relay-status.png";
  std::filesystem::remove(shot);
  args = base;
  args.push_back("--screenshot=" + shot);
  args.push_back("--window-size=1280,900");
  args.push_back(url);
  child screenshot(args, dir.file("screenshot.log"));
  ASSERT_EQ(screenshot.wait(test::test_timeout()), 0) << screenshot.output();
  ASSERT_TRUE(std::filesystem::exists(shot)) << screenshot.output();
  EXPECT_GT(std::filesystem::file_size(shot), 10000u);
  std::cout << "[console] status page screenshot: " << shot << "\n";
}

TEST(console_service, basic_auth_and_sigusr1_state_dump) {
  console_fixture f;
  ASSERT_TRUE(f.ok()) << f.relay.proc().tail() << (f.connector ? f.connector->proc().tail() : "");
  const auto denied = console_get(f.connector_console, "/");
  EXPECT_EQ(denied.status, 401);
  EXPECT_EQ(denied.header("WWW-Authenticate"), "Basic realm=\"kiteline console\", charset=\"UTF-8\"");
  EXPECT_EQ(console_get(f.connector_console, "/", "x:wrong").status, 401);
  const auto page = console_get(f.connector_console, "/", "anyone:pw");
  ASSERT_EQ(page.status, 200);
  EXPECT_NE(page.body_text().find("<code>http://foo.test/</code>"), std::string::npos)
      << page.body_text();
  EXPECT_EQ(console_get(f.relay_console, "/").status, 200);  // no --httppass on the relay

  ASSERT_EQ(::kill(f.relay.proc().pid(), SIGUSR1), 0);
  EXPECT_TRUE(f.relay.proc().wait_output({"state dump: relay id=", "tunnels=1"}));
  EXPECT_TRUE(f.relay.proc().wait_output({"state dump: kite http:foo.test tunnel="}));
  ASSERT_EQ(::kill(f.connector->proc().pid(), SIGUSR1), 0);
  EXPECT_TRUE(f.connector->proc().wait_output({"state dump: relay 127.0.0.1:", "state=live"}));
  EXPECT_TRUE(f.connector->proc().wait_output({"state dump: kite http:foo.test url=http://foo.test/"}));
  EXPECT_TRUE(f.relay.proc().alive());
  EXPECT_TRUE(f.connector->proc().alive());
}

TEST(console_service, byte_counters_count_a_visit_and_survive_the_tunnel) {
  console_fixture f;
  ASSERT_TRUE(f.ok()) << f.relay.proc().tail();
  const auto visit =
      test::http_exchange(f.relay.port(), test::http_get("foo.test", "/bytes/200000"));
  ASSERT_EQ(visit.status, 200) << visit.head;
  const std::string request = test::http_get("foo.test", "/bytes/200000");
  std::string before;
  ASSERT_TRUE(test::wait_for([&] {
    before = console_get(f.relay_console, "/metrics").body_text();
    return sample(before, "kiteline_relay_visitor_sent_bytes_total") >= 200000;
  })) << before;
  EXPECT_GE(sample(before, "kiteline_relay_visitor_received_bytes_total"),
            static_cast<double>(request.size()));
  EXPECT_EQ(sample(before, "kiteline_relay_tunnels"), 1);
  f.connector.reset();  // SIGTERM: the tunnel closes
  std::string after;
  ASSERT_TRUE(test::wait_for([&] {
    after = console_get(f.relay_console, "/metrics").body_text();
    return sample(after, "kiteline_relay_tunnels") == 0;
  })) << after;
  // The closed tunnel's bytes stay counted (a counter never goes back).
  EXPECT_EQ(sample(after, "kiteline_relay_visitor_sent_bytes_total"),
            sample(before, "kiteline_relay_visitor_sent_bytes_total"));
  EXPECT_EQ(sample(after, "kiteline_relay_visitor_received_bytes_total"),
            sample(before, "kiteline_relay_visitor_received_bytes_total"));
  EXPECT_EQ(sample(after, "kiteline_relay_tunnels_closed_total"), 1);
}

TEST(console_service, a_console_port_in_use_fails_naming_it) {
  console_fixture f;
  ASSERT_TRUE(f.ok()) << f.relay.proc().tail();
  process second({"--isfrontend", "--host=127.0.0.1", "--ports=0", "--protos=http",
                  "--domain=http:*.test:s3cret", "--logfile=stdio",
                  "--httpd=127.0.0.1:" + std::to_string(f.relay_console)});
  const std::string port = std::to_string(f.relay_console);
  EXPECT_TRUE(second.wait_output({"kiteline: console (--httpd): cannot listen on 127.0.0.1:" +
                                      port,
                                  "(port " + port + " is taken by another process)"}));
  EXPECT_TRUE(test::wait_for([&] { return !second.alive(); }, test::test_timeout()));
}

}  // namespace
}  // namespace kiteline::hostile
