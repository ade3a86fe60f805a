// Hostile visitors against a relay process (rows 3 and 8): downloads that are never read or
// read a few bytes at a time (slowhttptest -X) must not stall the other visitors of the same
// tunnel; visitors that send a request and leave while the origin never answers must not hold
// file descriptors forever.
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "hostile/hostile_support.hpp"
#include "support/connector_fixture.hpp"

namespace kiteline::hostile {
namespace {

std::string download_request(std::size_t n) {
  return "GET /bytes/" + std::to_string(n) + " HTTP/1.1\r\nHost: healthy.test\r\n\r\n";
}

// Row 3: 16 visitors ask the healthy kite for 64 MiB each and never read, and 200 more read
// 64 bytes every 250 ms through a 4 KiB receive buffer. Today every other visitor of the
// tunnel timed out while they held the receive budget. Now each stalled holder of its share is
// reset when the budget overflows, and the probe on the same kite never fails.
TEST(HostileVisitors, Row3StalledAndSlowReadersDoNotStallTheirTunnel) {
  raise_fd_limit();
  test::http_origin origin;
  relay_process relay({{"--loglevel=debug"}});
  ASSERT_TRUE(relay.ok()) << relay.proc().tail();
  connector_process connector(relay.port(), "healthy.test", origin.port());
  ASSERT_TRUE(connector.ok()) << connector.proc().tail();
  prober probe(relay.port(), "healthy.test", 256 * 1024);
  ASSERT_TRUE(probe.wait_successes(2));
  const std::uint64_t base = relay.proc().rss_kib();

  std::vector<int> stalled;
  for (int i = 0; i < 16; ++i) {
    const int fd = connect_loopback(relay.port(), 4096);
    ASSERT_GE(fd, 0);
    ASSERT_TRUE(send_all(fd, download_request(64U << 20)));
    stalled.push_back(fd);
  }
  std::vector<int> slow;
  for (int i = 0; i < 200; ++i) {
    const int fd = connect_loopback(relay.port(), 4096);
    ASSERT_GE(fd, 0);
    ASSERT_TRUE(send_all(fd, download_request(64U << 20)));
    slow.push_back(fd);
  }
  const std::uint64_t ok_before = probe.successes();
  const auto until = test::clock::now() + std::chrono::seconds(15);
  std::uint64_t slow_bytes = 0;
  while (test::clock::now() < until) {
    for (int fd : slow) {
      char buf[64];
      const ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
      slow_bytes += n > 0 ? static_cast<std::uint64_t>(n) : 0U;
    }
    std::this_thread::sleep_for(250ms);  // the attacker's pace, not a wait for an event
  }
  const std::uint64_t peak = relay.proc().peak_rss_kib();
  probe.stop();
  const std::size_t evicted = relay.proc().count("evicted:");
  report("row 3 stalled visitors", "probe visits ok / failed during 15 s of attack (slowest)",
         std::to_string(probe.successes() - ok_before) + " / " +
             std::to_string(probe.failures()) + " (" + std::to_string(probe.slowest_ms()) +
             " ms)");
  report("row 3 stalled visitors", "streams reset by the relay", std::to_string(evicted));
  report("row 3 stalled visitors", "bytes the 200 slow readers got", std::to_string(slow_bytes));
  report("row 3 stalled visitors", "relay RSS before / peak", mib(base) + " / " + mib(peak));
  EXPECT_EQ(probe.failures(), 0U) << probe.first_failure();
  EXPECT_GE(probe.successes() - ok_before, 5U);
  EXPECT_GE(evicted, 16U);
  // The receive budget (16 MiB) and the outbox (2 x 2 MiB), plus slack for 216 streams.
  EXPECT_LT(peak, base + 48 * 1024) << mib(peak) << " against " << mib(base);
  if (const char* keep = std::getenv("KL_HOSTILE_DUMP")) {
    std::ofstream(std::string(keep) + "/relay.log") << relay.proc().output();
    std::ofstream(std::string(keep) + "/connector.log") << connector.proc().output();
  }
  for (int fd : stalled) {
    ::close(fd);
  }
  for (int fd : slow) {
    ::close(fd);
  }
}

// Row 8: 2 000 visitors send GET /hang and close; the origin never answers. Today 2 014 relay
// fds and 2 009 connector fds stayed open until the tunnel went down. Now both ends reap a
// half-closed stream whose other side stays silent for --half_closed_timeout (here 3 s;
// pagekite.py and kiteline's default: 120 s).
TEST(HostileVisitors, Row8HalfClosedVisitorsOfASilentOriginAreReaped) {
  raise_fd_limit();
  silent_origin origin;
  relay_process relay({{"--half_closed_timeout=3"}});
  ASSERT_TRUE(relay.ok()) << relay.proc().tail();
  connector_process connector(relay.port(), "hang.test", origin.port(),
                              {"--half_closed_timeout=3"});
  ASSERT_TRUE(connector.ok()) << connector.proc().tail();
  const std::size_t relay_fds = relay.proc().fd_count();
  const std::size_t connector_fds = connector.proc().fd_count();

  for (int i = 0; i < 2000; ++i) {
    const int fd = connect_loopback(relay.port());
    ASSERT_GE(fd, 0) << i;
    ASSERT_TRUE(send_all(fd, "GET /hang HTTP/1.1\r\nHost: hang.test\r\n\r\n"));
    ::close(fd);
  }
  ASSERT_TRUE(test::wait_for([&] { return origin.accepted() >= 2000; }, 30000ms,
                             "every request reached the origin"))
      << origin.accepted() << "\n" << connector.proc().tail();
  const std::size_t relay_held = relay.proc().fd_count();
  const std::size_t connector_held = connector.proc().fd_count();
  report("row 8 half-closed visitors", "relay fds idle / after 2000 requests",
         std::to_string(relay_fds) + " / " + std::to_string(relay_held));
  report("row 8 half-closed visitors", "connector fds idle / after 2000 requests",
         std::to_string(connector_fds) + " / " + std::to_string(connector_held));
  EXPECT_TRUE(test::wait_for(
      [&] {
        return relay.proc().fd_count() <= relay_fds + 2 &&
               connector.proc().fd_count() <= connector_fds + 2;
      },
      30000ms, "fds back to idle"))
      << relay.proc().fd_count() << " relay, " << connector.proc().fd_count() << " connector";
  report("row 8 half-closed visitors", "relay / connector fds after the reaping",
         std::to_string(relay.proc().fd_count()) + " / " +
             std::to_string(connector.proc().fd_count()));
  EXPECT_GE(relay.proc().count("half-closed and silent for 3 s") +
                connector.proc().count("half-closed and silent for 3 s"),
            2000U);
}

}  // namespace
}  // namespace kiteline::hostile
