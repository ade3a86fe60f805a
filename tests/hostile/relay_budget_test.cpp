// Hostile connectors against a relay process: floods that make the relay answer (PING → PONG,
// bad Z frame → ZRST) while never reading, ZChunk bombs, and many unauthenticated tunnels.
// Rows 1 and 2 of the hardening issue. Each test keeps a probe visiting a healthy kite served
// by a real kiteline connector and asserts zero failed visits.
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <regex>
#include <string>
#include <vector>

#include "hostile/hostile_support.hpp"
#include "support/connector_fixture.hpp"

namespace kiteline::hostile {
namespace {

/// A relay with a healthy kite (healthy.test, served from an http_origin through a kiteline
/// connector process) and a probe visiting it.
struct healthy_relay {
  explicit healthy_relay(relay_setup setup = {}) : relay(setup) {
    raise_fd_limit();
    if (relay.ok()) {
      connector = std::make_unique<connector_process>(relay.port(), "healthy.test", origin.port());
    }
  }
  [[nodiscard]] bool ok() const { return relay.ok() && connector && connector->ok(); }
  void start_probe() { probe = std::make_unique<prober>(relay.port(), "healthy.test"); }

  test::http_origin origin;
  relay_process relay;
  std::unique_ptr<connector_process> connector;
  std::unique_ptr<prober> probe;
};

void expect_probe_clean(prober& p, std::string_view row) {
  p.stop();
  report(row, "probe visits ok / failed (slowest)",
         std::to_string(p.successes()) + " / " + std::to_string(p.failures()) + " (" +
             std::to_string(p.slowest_ms()) + " ms)");
  EXPECT_EQ(p.failures(), 0U) << p.first_failure();
  EXPECT_GT(p.successes(), 0U);
}

const std::string ping_chunk = frame("NOOP: 1\r\nPING: 1\r\n\r\n!");

// Row 1: a tunnel that authenticated nothing sends NOOP+PING and never reads. Today every PONG
// (padded with pagekite.py's frame filler) was queued: 76 MB sent → 3.2 GB of relay RSS. Now
// the tunnel is on probation (64 KiB outbox): the relay stops reading it, the flood stalls,
// and --auth_timeout closes it.
TEST(HostileRelay, Row1UnauthenticatedPingFloodStallsWithinTheProbationBudget) {
  healthy_relay h({{"--auth_timeout=5"}});
  ASSERT_TRUE(h.ok()) << h.relay.proc().tail();
  h.start_probe();
  ASSERT_TRUE(h.probe->wait_successes(2));
  const std::uint64_t base = h.relay.proc().rss_kib();

  raw_tunnel t;
  ASSERT_TRUE(t.connect_flow_b(h.relay.port(), "evil.test")) << t.head();
  const auto r = flood(t.fd(), ping_chunk, std::chrono::seconds(10), 300ULL << 20);
  const std::uint64_t peak = h.relay.proc().peak_rss_kib();
  report("row 1 ping flood", "bytes sent before the relay stopped reading",
         std::to_string(r.sent));
  report("row 1 ping flood", "relay RSS before / peak", mib(base) + " / " + mib(peak));
  EXPECT_TRUE(r.stalled) << "the relay kept reading " << r.sent << " bytes of PINGs";
  // Probation: 64 KiB outbox (+ one batch in flight) and 64 KiB frames. 16 MiB covers the
  // allocator's slack and the probe's own streams.
  EXPECT_LT(peak, base + 16 * 1024) << mib(peak) << " against " << mib(base);
  EXPECT_TRUE(h.relay.proc().wait_output({"closed: no kite signed within 5 s"}, 15000ms));
  expect_probe_clean(*h.probe, "row 1 ping flood");
}

// Row 1, authenticated: bad Z frames each make the relay send a ZRST; the connector never
// reads. The outbox limit (2 MiB) holds the relay's memory.
TEST(HostileRelay, Row1ZrstFloodOfAnAuthenticatedTunnelStallsAtTheOutboxLimit) {
  healthy_relay h;
  ASSERT_TRUE(h.ok()) << h.relay.proc().tail();
  h.start_probe();
  ASSERT_TRUE(h.probe->wait_successes(2));
  const std::uint64_t base = h.relay.proc().rss_kib();

  raw_tunnel t;
  ASSERT_TRUE(t.connect_flow_a(h.relay.port(), "evil.test", "s3cret", true)) << t.head();
  // "SID..." that does not inflate: a Z frame of 16 garbage bytes claiming 64 bytes.
  const std::string bad_z = "40Z10\r\n" + std::string(16, '\x5a');
  const auto r = flood(t.fd(), bad_z, std::chrono::seconds(10), 600ULL << 20);
  const std::uint64_t peak = h.relay.proc().peak_rss_kib();
  report("row 1 ZRST flood", "bytes sent before the relay stopped reading",
         std::to_string(r.sent));
  report("row 1 ZRST flood", "relay RSS before / peak", mib(base) + " / " + mib(peak));
  EXPECT_TRUE(r.stalled) << "the relay kept reading " << r.sent << " bytes of bad Z frames";
  // 2 MiB outbox + 2 MiB being written + 16 MiB receive budget (unused here) + slack.
  EXPECT_LT(peak, base + 32 * 1024) << mib(peak) << " against " << mib(base);
  expect_probe_clean(*h.probe, "row 1 ZRST flood");
}

// Row 2: Z frames that reset zlib and inflate a little into a lot of zeros for a stream that
// does not exist. 1 MiB frames are over the ZChunk cap (64 KiB) and close the tunnel at once;
// 60 KiB frames are inflated, but what reaches no stream is capped (16x the compressed bytes
// plus 4 MiB per second), and the tunnel is closed.
TEST(HostileRelay, Row2ZChunkBombsAreCappedBySizeAndWaste) {
  healthy_relay h;
  ASSERT_TRUE(h.ok()) << h.relay.proc().tail();
  h.start_probe();
  ASSERT_TRUE(h.probe->wait_successes(2));

  {
    raw_tunnel t;
    ASSERT_TRUE(t.connect_flow_a(h.relay.port(), "evil.test", "s3cret", true)) << t.head();
    // Just under the frame size cap (1 MiB), far over the ZChunk cap (64 KiB).
    const std::string big = zframe("SID: 77\r\n\r\n" + std::string((1 << 20) - 64, '\0'));
    report("row 2 Z bomb", "1 MiB of zeros as a Z frame (bytes on the wire)",
           std::to_string(big.size()));
    const auto r = flood(t.fd(), big, std::chrono::seconds(5), 64ULL << 20);
    EXPECT_TRUE(r.reset || r.stalled);
    ASSERT_TRUE(h.relay.proc().wait_output(
        {"framing error: compressed chunk larger than the ZChunk size cap"}));
  }
  raw_tunnel t;
  ASSERT_TRUE(t.connect_flow_a(h.relay.port(), "evil.test", "s3cret", true)) << t.head();
  const std::string bomb = zframe("SID: 77\r\n\r\n" + std::string(60 * 1024, '\0'));
  const auto r = flood(t.fd(), bomb, std::chrono::seconds(10), 64ULL << 20);
  ASSERT_TRUE(h.relay.proc().wait_output({"inflated from ZChunks reached no stream"}));
  const std::string out = h.relay.proc().output();
  std::smatch m;
  ASSERT_TRUE(std::regex_search(out, m, std::regex(R"((\d+) bytes inflated from ZChunks reached no stream \((\d+) inflated)")));
  const auto inflated = std::stoull(m[2].str());
  report("row 2 Z bomb", "60 KiB bombs sent (bytes) / inflated by the relay before it closed",
         std::to_string(r.sent) + " / " + std::to_string(inflated));
  // The allowance (4 MiB, refilled each second) plus 16x what was sent, plus one frame.
  EXPECT_LE(inflated, (4ULL << 20) * 3 + 16 * r.sent + (64U << 10));
  expect_probe_clean(*h.probe, "row 2 Z bomb");
}

// Row 2, many unauthenticated tunnels each holding a partial 1 MiB Z frame (300 of them held
// 440 MB). Now at most --max_unauth_tunnels (256, 16 per address) wait for a kite, and a Z frame
// before any kite is accepted closes the tunnel at its size line.
TEST(HostileRelay, Row2UnauthenticatedTunnelsAreCappedAndRefuseZFrames) {
  healthy_relay h;
  ASSERT_TRUE(h.ok()) << h.relay.proc().tail();
  h.start_probe();
  ASSERT_TRUE(h.probe->wait_successes(2));
  const std::uint64_t base = h.relay.proc().rss_kib();

  std::vector<std::unique_ptr<raw_tunnel>> tunnels;
  std::size_t refused = 0;
  for (int i = 0; i < 300; ++i) {
    // 20 source addresses, 15 tunnels each: only the total cap applies.
    const std::string src = "127.0.1." + std::to_string(1 + i % 20);
    auto t = std::make_unique<raw_tunnel>();
    if (t->connect_flow_b(h.relay.port(), "evil" + std::to_string(i) + ".test", true, src)) {
      tunnels.push_back(std::move(t));
    } else {
      refused += t->head().rfind("HTTP/1.0 503", 0) == 0 ? 1U : 0U;
    }
  }
  const std::size_t admitted = tunnels.size();
  // Every admitted tunnel now starts a 1 MiB Z frame and sends half of it.
  const std::string partial = "100000Z100000R\r\n" + std::string(512 * 1024, '\x42');
  for (auto& t : tunnels) {
    (void)flood(t->fd(), partial, 2000ms, partial.size(), 500ms);
  }
  EXPECT_TRUE(test::wait_for(
      [&] { return h.relay.proc().count("compressed chunk without ZChunks") >= admitted; },
      20000ms, "every Z frame refused"));
  const std::uint64_t peak = h.relay.proc().peak_rss_kib();
  report("row 2 unauthenticated tunnels", "admitted / refused with 503",
         std::to_string(admitted) + " / " + std::to_string(refused));
  report("row 2 unauthenticated tunnels", "relay RSS before / peak", mib(base) + " / " + mib(peak));
  EXPECT_EQ(admitted, 256U);
  EXPECT_EQ(refused, 44U);
  EXPECT_LT(peak, base + 32 * 1024) << mib(peak) << " against " << mib(base);
  expect_probe_clean(*h.probe, "row 2 unauthenticated tunnels");
}

// The per-address cap: 17 tunnels from one address, the 17th refused with 503 and a log line
// naming the limit; another address still gets in.
TEST(HostileRelay, Row2UnauthenticatedTunnelsPerAddressCap) {
  relay_process relay;
  ASSERT_TRUE(relay.ok()) << relay.proc().tail();
  std::vector<std::unique_ptr<raw_tunnel>> tunnels;
  for (int i = 0; i < 16; ++i) {
    tunnels.push_back(std::make_unique<raw_tunnel>());
    ASSERT_TRUE(tunnels.back()->connect_flow_b(relay.port(), "a.test", false, "127.0.2.1"))
        << i << ": " << tunnels.back()->head();
  }
  raw_tunnel over;
  EXPECT_FALSE(over.connect_flow_b(relay.port(), "a.test", false, "127.0.2.1"));
  EXPECT_EQ(over.head().rfind("HTTP/1.0 503 Unavailable", 0), 0U) << over.head();
  EXPECT_TRUE(relay.proc().wait_output(
      {"tunnel refused peer=127.0.2.1", "from this address (16)", "--max_unauth_tunnels"}));
  raw_tunnel other;
  EXPECT_TRUE(other.connect_flow_b(relay.port(), "a.test", false, "127.0.2.2")) << other.head();
  // A tunnel that leaves (closed) gives its place back.
  tunnels.front()->close();
  EXPECT_TRUE(test::wait_for(
      [&] {
        raw_tunnel again;
        return again.connect_flow_b(relay.port(), "a.test", false, "127.0.2.1");
      },
      10000ms, "a place freed by a closed tunnel"));
}

}  // namespace
}  // namespace kiteline::hostile
