// Graceful drain (issue 22 item 4), on real kiteline processes: SIGTERM to a relay with 50
// downloads of 20 MiB in flight lets every one finish byte-exact while its connector moves its
// kite to a second relay before the first exits; a second SIGTERM or a SIGINT stops at once;
// the grace bounds a stalled download; SIGTERM to a connector refuses new streams and lets
// the ones in flight finish. The figures are printed as "[hostile] drain: ..." lines.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <csignal>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "hostile/hostile_support.hpp"
#include "support/connector_fixture.hpp"
#include "support/temp_dir.hpp"
#include "support/test_env.hpp"
#include "support/wait.hpp"

namespace kiteline::hostile {
namespace {

constexpr std::size_t download_size = 20 * 1024 * 1024;
/// Each download stops reading after this much body until the gate opens: it is then surely in
/// flight when the signal comes.
constexpr std::size_t paused_at = 1024 * 1024;
const std::string kite = "drain.test";
/// Relays and connectors never evict a stream whose visitor stopped reading (the paused
/// downloads would otherwise be reset while they wait at the gate).
const std::vector<std::string> no_eviction{"--evict_after=0", "--stalled_after=0"};

std::int64_t ms_since(test::clock::time_point t0) {
  return std::chrono::duration_cast<milliseconds>(test::clock::now() - t0).count();
}

/// A blocking TCP connection to ip:port ("127.0.0.1" or "::1") whose reads give up after the
/// test timeout; -1 when refused.
int connect_ip(const std::string& ip, std::uint16_t port) {
  const bool v6 = ip.find(':') != std::string::npos;
  const int fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return -1;
  }
  sockaddr_storage ss{};
  socklen_t len = 0;
  if (v6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(port);
    ::inet_pton(AF_INET6, ip.c_str(), &a->sin6_addr);
    len = sizeof(sockaddr_in6);
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    a->sin_family = AF_INET;
    a->sin_port = htons(port);
    ::inet_pton(AF_INET, ip.c_str(), &a->sin_addr);
    len = sizeof(sockaddr_in);
  }
  if (::connect(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    ::close(fd);
    return -1;
  }
  const auto limit = test::test_timeout();
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(limit.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((limit.count() % 1000) * 1000);
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

/// Where paused downloads wait until the test opens it.
class gate {
 public:
  void open() {
    {
      std::lock_guard lock(mu_);
      open_ = true;
    }
    cv_.notify_all();
  }
  /// Bounded by the test timeout (then it counts as open: the download fails its checks).
  void wait() {
    std::unique_lock lock(mu_);
    (void)cv_.wait_for(lock, test::test_timeout(), [this] { return open_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

/// One GET /bytes/N of the kite through ip:port on its own thread: the head, `paused_at` body
/// bytes, a wait at the gate, then the rest, hashed as it arrives and compared with the
/// origin's pattern.
class download {
 public:
  download(std::string ip, std::uint16_t port, std::size_t n, gate* g,
           std::atomic<std::size_t>* paused)
      : thread_([this, ip = std::move(ip), port, n, g, paused] { run(ip, port, n, g, paused); }) {}
  ~download() { join(); }
  download(const download&) = delete;
  download& operator=(const download&) = delete;

  void join() {
    if (thread_.joinable()) {
      thread_.join();
    }
  }
  [[nodiscard]] int status() const { return status_; }
  [[nodiscard]] std::size_t received() const { return received_; }
  [[nodiscard]] bool exact() const { return exact_; }

 private:
  void run(const std::string& ip, std::uint16_t port, std::size_t n, gate* g,
           std::atomic<std::size_t>* paused) {
    const int fd = connect_ip(ip, port);
    bool counted = false;
    const auto pause = [&] {
      if (!counted && paused != nullptr) {
        counted = true;
        ++*paused;
        g->wait();
      }
    };
    if (fd < 0 || !send_all(fd, test::get_request(kite, n))) {
      pause();
      if (fd >= 0) {
        ::close(fd);
      }
      return;
    }
    std::string rest;
    const std::string head = read_head(fd, test::test_timeout(), &rest);
    status_ = head.size() > 12 ? std::atoi(head.c_str() + 9) : 0;
    test::sha256 hash;
    hash.update(test::as_bytes(rest));
    std::size_t got = rest.size();
    std::vector<char> buf(256 * 1024);
    // Bounded: every read gives up after the test timeout (SO_RCVTIMEO).
    while (got < n) {
      if (got >= paused_at) {
        pause();
      }
      const ssize_t k = ::recv(fd, buf.data(), std::min(buf.size(), n - got), 0);
      if (k <= 0) {
        break;
      }
      hash.update(std::as_bytes(std::span(buf.data(), static_cast<std::size_t>(k))));
      got += static_cast<std::size_t>(k);
    }
    pause();  // a download cut before paused_at still reports in
    ::close(fd);
    received_ = got;
    exact_ = got == n && hash.hex() == test::pattern(7).sha256_of(n);
  }

  int status_ = 0;
  std::size_t received_ = 0;
  bool exact_ = false;
  std::thread thread_;
};

/// `count` downloads through ip:port, each paused at the gate once in flight.
struct download_set {
  gate g;
  std::atomic<std::size_t> paused{0};
  std::vector<std::unique_ptr<download>> all;

  download_set(const std::string& ip, std::uint16_t port, std::size_t count,
               std::size_t n = download_size) {
    for (std::size_t i = 0; i < count; ++i) {
      all.push_back(std::make_unique<download>(ip, port, n, &g, &paused));
    }
  }
  ~download_set() { finish(); }
  download_set(const download_set&) = delete;
  download_set& operator=(const download_set&) = delete;

  [[nodiscard]] testing::AssertionResult wait_paused() {
    return test::wait_for([this] { return paused.load() == all.size(); },
                          "every download in flight and paused");
  }
  void finish() {
    g.open();
    for (auto& d : all) {
      d->join();
    }
  }
  [[nodiscard]] std::size_t exact() const {
    std::size_t n = 0;
    for (const auto& d : all) {
      n += d->exact() ? 1U : 0U;
    }
    return n;
  }
};

/// A connector's options for the kite served by `origin_port`, from `relays`.
std::vector<std::string> connector_args(const std::vector<std::string>& relays,
                                        std::uint16_t origin_port) {
  std::vector<std::string> a = relays;
  a.push_back("--service_on=http:" + kite + ":127.0.0.1:" + std::to_string(origin_port) +
              ":s3cret");
  a.push_back("--logfile=stdio");
  a.insert(a.end(), no_eviction.begin(), no_eviction.end());
  return a;
}

relay_setup relay_with(std::vector<std::string> extra, std::string host = "127.0.0.1",
                       std::uint16_t port = 0) {
  relay_setup s;
  s.extra = no_eviction;
  s.extra.insert(s.extra.end(), extra.begin(), extra.end());
  s.host = std::move(host);
  s.port = port;
  return s;
}

bool exited_cleanly(const std::optional<int>& st) {
  return st && WIFEXITED(*st) && WEXITSTATUS(*st) == 0;
}

/// An origin, a relay (its options plus `relay_extra`) and a connector on it (--frontend).
struct one_relay {
  test::http_origin origin;
  relay_process relay;
  process conn;

  explicit one_relay(std::vector<std::string> relay_extra)
      : relay(relay_with(std::move(relay_extra))),
        conn(connector_args({"--frontend=127.0.0.1:" + std::to_string(relay.port())},
                            origin.port())) {}
  /// The relay runs and the connector's kite is live on it.
  [[nodiscard]] testing::AssertionResult up() {
    if (!relay.ok()) {
      return testing::AssertionFailure() << "relay did not start\n" << relay.proc().tail();
    }
    return conn.wait_output({"kiteline connector: kite", "live"}) << conn.tail();
  }
  /// One download through the relay, paused in flight (`stalled`), then SIGTERM to the relay.
  [[nodiscard]] testing::AssertionResult sigterm_with_a_stalled_download() {
    stalled.emplace("127.0.0.1", relay.port(), 1);
    if (auto paused = stalled->wait_paused(); !paused) {
      return paused;
    }
    sigterm_at = test::clock::now();
    if (::kill(relay.proc().pid(), SIGTERM) != 0) {
      return testing::AssertionFailure() << "kill failed";
    }
    return testing::AssertionSuccess();
  }

  std::optional<download_set> stalled;
  test::clock::time_point sigterm_at{};
};

}  // namespace

// Two relays, one on 127.0.0.1:P and one on [::1]:P; the connector's pool (--frontends=1:@FILE:P)
// lists both but only the first answered when it started, so it is on relay 1. SIGTERM to
// relay 1 with 50 downloads of 20 MiB in flight: relay 1 refuses new connections, the
// connector brings its kite up on relay 2 while relay 1 still runs (its downloads are paused),
// then every download finishes byte-exact and relay 1 exits.
TEST(Drain, RelayDrainFinishesDownloadsWhileTheConnectorMovesToTheSecondRelay) {
  raise_fd_limit();
  test::http_origin origin;
  relay_process r1(relay_with({}));
  ASSERT_TRUE(r1.ok()) << r1.proc().tail();
  const std::uint16_t port = r1.port();
  test::temp_dir dir("drain");
  const std::string pool = dir.write("relays", "127.0.0.1\n::1\n");
  process conn(
      connector_args({"--frontends=1:@" + pool + ":" + std::to_string(port)}, origin.port()));
  const std::string on_r1 = "relay 127.0.0.1:" + std::to_string(port);
  const std::string on_r2 = "relay [::1]:" + std::to_string(port);
  ASSERT_TRUE(conn.wait_output({"kiteline connector: kite http:" + kite + " live on " + on_r1}));
  relay_process r2(relay_with({}, "::1", port));
  ASSERT_TRUE(r2.ok()) << "second relay on [::1]:" << port << "\n" << r2.proc().tail();
  ASSERT_EQ(conn.count("live on " + on_r2), 0U) << conn.tail();

  constexpr std::size_t count = 50;
  download_set downloads("127.0.0.1", port, count);
  ASSERT_TRUE(downloads.wait_paused());

  const auto t0 = test::clock::now();
  ASSERT_EQ(::kill(r1.proc().pid(), SIGTERM), 0);
  ASSERT_TRUE(r1.proc().wait_output({"drain started", "50 stream(s) in flight"}))
      << r1.proc().tail();
  const int refused = connect_ip("127.0.0.1", port);
  EXPECT_LT(refused, 0) << "relay 1 still accepts while draining";
  if (refused >= 0) {
    ::close(refused);
  }
  ASSERT_TRUE(conn.wait_output({"kiteline connector: kite http:" + kite + " live on " + on_r2}))
      << conn.tail();
  const auto moved_ms = ms_since(t0);
  // Relay 1 cannot have exited: its 50 downloads wait at the gate.
  EXPECT_TRUE(r1.proc().alive()) << r1.proc().tail();

  downloads.finish();
  const auto done_ms = ms_since(t0);
  EXPECT_EQ(downloads.exact(), count);
  std::uint64_t bytes = 0;
  for (const auto& d : downloads.all) {
    EXPECT_EQ(d->status(), 200);
    bytes += d->received();
  }
  const auto st = r1.proc().wait_exit(test::test_timeout());
  const auto exit_ms = ms_since(t0);
  EXPECT_TRUE(exited_cleanly(st)) << r1.proc().tail();
  EXPECT_EQ(r1.proc().count("drain over: 50 of 50 stream(s) finished, 0 cut"), 1U)
      << r1.proc().tail();
  EXPECT_GE(conn.count("relay " + on_r1.substr(6) + ": the relay is draining"), 1U)
      << conn.tail();

  // The kite is served by relay 2 now.
  download_set after("::1", port, 1, 1024 * 1024);
  after.finish();
  EXPECT_EQ(after.exact(), 1U) << "a download through relay 2 after relay 1 left";

  report("drain", "relay downloads in flight at SIGTERM", std::to_string(count));
  report("drain", "relay bytes delivered byte-exact",
         std::to_string(bytes) + " (" + std::to_string(downloads.exact()) + " x " +
             std::to_string(download_size) + ")");
  report("drain", "connector kite live on relay 2 after SIGTERM", std::to_string(moved_ms) + " ms");
  report("drain", "downloads finished after SIGTERM", std::to_string(done_ms) + " ms");
  report("drain", "relay 1 exited after SIGTERM", std::to_string(exit_ms) + " ms");
}

// A second signal during the drain (SIGTERM again, or SIGINT) stops the relay at once: the
// stalled download is cut and the relay exits long before its 300-s grace.
class DrainSecondSignal : public testing::TestWithParam<int> {};

TEST_P(DrainSecondSignal, StopsAtOnce) {
  one_relay setup({"--grace_seconds=300"});
  ASSERT_TRUE(setup.up());
  auto& relay = setup.relay;
  ASSERT_TRUE(setup.sigterm_with_a_stalled_download());
  ASSERT_TRUE(relay.proc().wait_output({"drain started", "1 stream(s) in flight", "grace 300 s"}))
      << relay.proc().tail();
  ASSERT_EQ(::kill(relay.proc().pid(), GetParam()), 0);
  // Bounded by the test timeout, far below the grace.
  const auto st = relay.proc().wait_exit(test::test_timeout());
  const auto exit_ms = ms_since(setup.sigterm_at);
  ASSERT_TRUE(exited_cleanly(st)) << relay.proc().tail();
  EXPECT_EQ(relay.proc().count("signal " + std::to_string(GetParam()) +
                               " during the drain: stopping at once"),
            1U)
      << relay.proc().tail();
  setup.stalled->finish();
  EXPECT_LT(setup.stalled->all[0]->received(), download_size) << "the stalled download was not cut";
  report("drain", std::string("relay exit after a second ") +
                      (GetParam() == SIGINT ? "signal (SIGINT)" : "SIGTERM"),
         std::to_string(exit_ms) + " ms after the first SIGTERM");
}

INSTANTIATE_TEST_SUITE_P(Drain, DrainSecondSignal, testing::Values(SIGTERM, SIGINT),
                         [](const testing::TestParamInfo<int>& p) {
                           return p.param == SIGINT ? std::string("Sigint")
                                                    : std::string("Sigterm");
                         });

// The grace bounds the drain: a download that stays stalled is cut when it runs out.
TEST(Drain, GraceOverCutsWhatIsLeft) {
  one_relay setup({"--grace_seconds=1"});
  ASSERT_TRUE(setup.up());
  auto& relay = setup.relay;
  ASSERT_TRUE(setup.sigterm_with_a_stalled_download());
  const auto st = relay.proc().wait_exit(test::test_timeout());
  ASSERT_TRUE(exited_cleanly(st)) << relay.proc().tail();
  EXPECT_EQ(relay.proc().count("drain over: 0 of 1 stream(s) finished, 1 cut (grace over)"), 1U)
      << relay.proc().tail();
  setup.stalled->finish();
  EXPECT_LT(setup.stalled->all[0]->received(), download_size);
}

// SIGTERM to the connector: a new visitor gets the connector's 503 (as pagekite.py answers a
// stream it cannot serve), the 10 downloads in flight finish byte-exact, then it exits.
TEST(Drain, ConnectorDrainFinishesStreamsInFlight) {
  one_relay setup({});
  ASSERT_TRUE(setup.up());
  auto& relay = setup.relay;
  auto& conn = setup.conn;
  constexpr std::size_t count = 10;
  download_set downloads("127.0.0.1", relay.port(), count);
  ASSERT_TRUE(downloads.wait_paused());
  const auto t0 = test::clock::now();
  ASSERT_EQ(::kill(conn.pid(), SIGTERM), 0);
  ASSERT_TRUE(conn.wait_output({"drain started", "10 stream(s) in flight"})) << conn.tail();
  const auto refused =
      test::visit(relay.port(), test::get_request(kite, 1024), {}, test::test_timeout());
  EXPECT_EQ(refused.status, 503) << refused.head;
  EXPECT_TRUE(conn.alive());
  downloads.finish();
  EXPECT_EQ(downloads.exact(), count);
  const auto st = conn.wait_exit(test::test_timeout());
  const auto exit_ms = ms_since(t0);
  EXPECT_TRUE(exited_cleanly(st)) << conn.tail();
  EXPECT_EQ(conn.count("drain over: 10 of 10 stream(s) finished, 0 cut"), 1U) << conn.tail();
  report("drain", "connector downloads in flight at SIGTERM, finished byte-exact",
         std::to_string(downloads.exact()) + " of " + std::to_string(count));
  report("drain", "connector exited after SIGTERM", std::to_string(exit_ms) + " ms");
}

}  // namespace kiteline::hostile
