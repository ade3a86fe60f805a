// A hostile connector that saw one clear-text tunnel handshake replays its kite line (row 4):
// (a) while the owner is offline, (b) in-tunnel on a tunnel authenticated for another kite with
// a token from an earlier relay process, (c) while the owner is online with a new session.
#include <poll.h>
#include <sys/socket.h>

#include <string>
#include <vector>

#include "hostile/hostile_support.hpp"
#include "wire/handshake.hpp"

namespace kiteline::hostile {
namespace {

/// The first `X-PageKite:` line of a captured request, parsed.
wire::kite_request kite_line_of(const std::string& request) {
  const auto at = request.find("\r\nX-PageKite: ");
  const auto from = at + 14;
  auto k = wire::parse_kite_line(request.substr(from, request.find("\r\n", from) - from));
  return k ? *k : wire::kite_request{};
}

/// Reads from `fd` until `needle` arrived, EOF, or the timeout; returns what was read.
std::string read_until(int fd, std::string_view needle, milliseconds timeout) {
  std::string in;
  const auto deadline = test::clock::now() + timeout;
  while (in.find(needle) == std::string::npos && test::clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) {
      continue;
    }
    char buf[4096];
    const auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) {
      break;
    }
    in.append(buf, static_cast<std::size_t>(n));
  }
  return in;
}

bool refused_unauthorized(const std::string& text) {
  return text.find("X-PageKite-Invalid-Why: ") != std::string::npos &&
         text.find(";unauthorized") != std::string::npos &&
         text.find("X-PageKite-OK") == std::string::npos;
}

TEST(HostileConnectors, Row4ReplayedKiteLinesAreRefused) {
  // A signed kite line from a relay process that is gone now.
  std::string earlier;
  {
    relay_process first;
    ASSERT_TRUE(first.ok()) << first.proc().tail();
    raw_tunnel t;
    ASSERT_TRUE(t.connect_flow_a(first.port(), "victim.test")) << t.head();
    earlier = t.request();
  }
  relay_process relay;
  ASSERT_TRUE(relay.ok()) << relay.proc().tail();

  // (a) The owner registers and leaves; its signed round is replayed on a new connection.
  {
    raw_tunnel owner;
    ASSERT_TRUE(owner.connect_flow_a(relay.port(), "victim.test")) << owner.head();
    const std::string captured = owner.request();
    owner.close();
    raw_tunnel replayer;
    ASSERT_TRUE(replayer.replay(relay.port(), captured));
    EXPECT_TRUE(refused_unauthorized(replayer.head())) << replayer.head();
    report("row 4 replay", "(a) owner offline",
           refused_unauthorized(replayer.head()) ? "refused (unauthorized)" : "ACCEPTED");
  }
  // (c) The owner is online with a new session; its line is replayed.
  raw_tunnel owner;
  ASSERT_TRUE(owner.connect_flow_a(relay.port(), "victim.test")) << owner.head();
  {
    raw_tunnel replayer;
    ASSERT_TRUE(replayer.replay(relay.port(), owner.request()));
    EXPECT_TRUE(refused_unauthorized(replayer.head())) << replayer.head();
    // Nothing was accepted: the relay closes the replayer's connection after its answer.
    EXPECT_EQ(read_until(replayer.fd(), "never", 5000ms), "");
    report("row 4 replay", "(c) owner online",
           refused_unauthorized(replayer.head()) ? "refused (unauthorized)" : "ACCEPTED");
  }
  // (b) A tunnel authenticated for another kite sends the earlier process's line in-tunnel.
  raw_tunnel other;
  ASSERT_TRUE(other.connect_flow_a(relay.port(), "other.test")) << other.head();
  const std::vector<wire::kite_request> replayed{kite_line_of(earlier)};
  const std::string round = wire::format_kite_round_payload("1.5.2.201011", replayed);
  ASSERT_TRUE(send_all(other.fd(), frame(round)));
  const std::string answer = read_until(other.fd(), ";unauthorized", 10000ms);
  EXPECT_TRUE(refused_unauthorized(answer)) << answer;
  report("row 4 replay", "(b) earlier relay's token, in-tunnel",
         refused_unauthorized(answer) ? "refused (unauthorized)" : "ACCEPTED");
  EXPECT_TRUE(relay.proc().wait_output({"kite refused", "kite=http:victim.test",
                                        "not from this relay"}));
  EXPECT_GE(relay.proc().count("reason=unauthorized"), 3U);
}

}  // namespace
}  // namespace kiteline::hostile
