// Relay integration: relay ping and the tunnel handshake (Flow A, Flow B, refusals, Duplicate,
// Replace), with refusal heads compared to pagekite.py's captured replies.
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "support/fake_connector.hpp"
#include "support/fake_visitor.hpp"
#include "support/loopback_relay.hpp"
#include "support/vectors.hpp"
#include "wire/head.hpp"
#include "wire/ping.hpp"

namespace kiteline::test {
namespace {

/// Header names of an HTTP head, in order (the status line first, as "<status>").
std::vector<std::string> header_names(std::string_view head) {
  std::vector<std::string> out;
  wire::line_reader lines(head);
  std::string_view line;
  if (lines.next(line)) {
    out.emplace_back(line);
  }
  while (lines.next(line)) {
    if (line.empty()) {
      break;
    }
    auto f = wire::split_header_line(line);
    out.push_back(f ? std::string(f->name) + (f->name == "X-PageKite-Features"
                                                  ? ": " + std::string(f->value)
                                                  : std::string())
                    : "?");
  }
  return out;
}

/// kiteline does not advertise pagekite.py's WebSockets feature (tunnels over WebSocket are not
/// implemented); everything else must match.
std::vector<std::string> without_websockets(std::vector<std::string> v) {
  std::erase(v, "X-PageKite-Features: WebSockets");
  return v;
}

TEST(RelayPing, AnswersLikePagekite) {
  loopback_relay relay;
  ASSERT_TRUE(relay.ok()) << relay.error();
  auto r = http_exchange(relay.port(), wire::ping_request());
  EXPECT_EQ(r.head.rfind("HTTP/1.1 503 Unavailable\r\n", 0), 0U) << r.head;
  EXPECT_EQ(r.header("X-PageKite-UUID"), relay.server().uuid());
  EXPECT_TRUE(r.eof);
  // Byte-exact with the codec's reply (itself pinned to the capture by unit tests).
  EXPECT_EQ(r.head + r.body_text(), wire::format_ping_reply(relay.server().uuid()));
  EXPECT_EQ(relay.server().counters().pings.load(), 1U);
}

TEST(RelayHandshake, FlowAChallengeThenOk) {
  loopback_relay relay;
  ASSERT_TRUE(relay.ok()) << relay.error();
  auto opts = with_kites({{"http", "foo.test"}, {"raw-22", "ssh.test"}});
  opts.add_kites = false;
  fake_connector c(relay.port(), opts);
  auto out = c.connect_flow_a();
  ASSERT_TRUE(out.error.empty()) << out.error;
  auto first = wire::parse_handshake_response(out.first_head);
  ASSERT_TRUE(first);
  ASSERT_EQ(first->results.size(), 2U);
  for (const auto& res : first->results) {
    EXPECT_EQ(res.status, wire::kite_status::sign_this);
    EXPECT_EQ(res.fsalt.size(), 36U);
    EXPECT_EQ(res.fsalt[0], 't');
  }
  EXPECT_EQ(out.count(wire::kite_status::ok), 2U) << out.head;
  EXPECT_TRUE(out.tunnel_up);
  EXPECT_FALSE(out.response.session_id.empty());
  EXPECT_TRUE(relay.wait_for_route("http", "foo.test", true));
  EXPECT_TRUE(relay.wait_for_log({"tunnel up", "flow=A"}));
  EXPECT_EQ(relay.server().tunnel_count(), 1U);
}

TEST(RelayHandshake, FlowBNoopRound) {
  loopback_relay relay;
  ASSERT_TRUE(relay.ok()) << relay.error();
  fake_connector c(relay.port(), with_kites({{"http", "foo.test"}}));
  auto out = c.connect_flow_b();
  ASSERT_TRUE(out.error.empty()) << out.error;
  EXPECT_EQ(out.count(wire::kite_status::ok), 1U);
  EXPECT_FALSE(out.response.session_id.empty());
  EXPECT_TRUE(relay.wait_for_route("http", "foo.test", true));
  EXPECT_TRUE(relay.wait_for_log({"kite up", "kite=http:foo.test"}));
  // The kite serves: a visitor reaches the fake connector.
  EXPECT_FALSE(c.tunnel_closed());
}

TEST(RelayHandshake, WrongSecretIsRefusedLikePagekite) {
  loopback_relay relay;
  ASSERT_TRUE(relay.ok()) << relay.error();
  auto opts = with_kites({{"http", "foo.test", "wrong-secret"}});
  opts.add_kites = false;
  fake_connector c(relay.port(), opts);
  auto out = c.connect_flow_a();
  ASSERT_TRUE(out.error.empty()) << out.error;
  EXPECT_FALSE(out.tunnel_up);
  EXPECT_EQ(out.why(), "signature");
  EXPECT_NE(out.head.find("X-PageKite-Invalid-Why: http:foo.test:"), std::string::npos);
  EXPECT_NE(out.head.find(";signature\r\n"), std::string::npos);
  auto captured = read_vector("nozchunks", "08-wrong-secret.tunnel2.fe2be.bin");
  ASSERT_FALSE(captured.empty());
  EXPECT_EQ(header_names(out.head), without_websockets(header_names(captured)));
  EXPECT_TRUE(relay.wait_for_log({"kite refused", "reason=signature"}));
  EXPECT_TRUE(relay.wait_for_route("http", "foo.test", false));
}

TEST(RelayHandshake, UnknownKiteIsUnauthorizedLikePagekite) {
  loopback_relay relay;
  ASSERT_TRUE(relay.ok()) << relay.error();
  auto opts = with_kites({{"http", "foo.example"}});
  opts.add_kites = false;
  fake_connector c(relay.port(), opts);
  auto out = c.connect_flow_a();
  ASSERT_TRUE(out.error.empty()) << out.error;
  EXPECT_FALSE(out.tunnel_up);
  EXPECT_EQ(out.why(), "unauthorized");
  EXPECT_NE(out.head.find(";unauthorized\r\n"), std::string::npos);
  auto captured = read_vector("nozchunks", "09-unknown-kite.tunnel2.fe2be.bin");
  ASSERT_FALSE(captured.empty());
  EXPECT_EQ(header_names(out.head), without_websockets(header_names(captured)));
  EXPECT_TRUE(relay.wait_for_log({"kite refused", "kite=http:foo.example", "unauthorized"}));
}

// The same connector (same BSALT, as a reconnecting pagekite.py process sends) registering a
// kite that its old tunnel still serves gets Duplicate (spec §4.6 step 8).
TEST(RelayHandshake, DuplicateKiteFromTheSameConnector) {
  loopback_relay relay;
  ASSERT_TRUE(relay.ok()) << relay.error();
  auto first_opts = with_kites({{"http", "foo.test"}});
  first_opts.bsalt = "244695ef30b8d4efea04972ab412885e5c10";
  fake_connector first(relay.port(), first_opts);
  ASSERT_TRUE(first.connect_flow_b().tunnel_up);
  auto opts = with_kites({{"http", "foo.test"}});
  opts.bsalt = first_opts.bsalt;
  opts.add_kites = false;
  fake_connector second(relay.port(), opts);
  auto out = second.connect_flow_a();
  ASSERT_TRUE(out.error.empty()) << out.error;
  EXPECT_FALSE(out.tunnel_up);
  EXPECT_EQ(out.count(wire::kite_status::duplicate), 1U) << out.head;
  EXPECT_NE(out.head.find("X-PageKite-Duplicate: http:foo.test:"), std::string::npos);
  EXPECT_TRUE(relay.wait_for_log({"kite refused", "reason=duplicate"}));
  // The first connector keeps its kite.
  EXPECT_FALSE(first.tunnel_closed());
  EXPECT_TRUE(relay.wait_for_route("http", "foo.test", true));
  EXPECT_EQ(relay.server().tunnel_count(), 1U);
}

TEST(RelayHandshake, ReplaceClosesTheOldTunnel) {
  loopback_relay relay;
  ASSERT_TRUE(relay.ok()) << relay.error();
  fake_connector old_tunnel(relay.port(), with_kites({{"http", "foo.test"}}));
  ASSERT_TRUE(old_tunnel.connect_flow_b().tunnel_up);
  const std::string sid = old_tunnel.session_id();
  ASSERT_FALSE(sid.empty());
  auto opts = with_kites({{"http", "foo.test"}});
  opts.replace = sid;
  fake_connector fresh(relay.port(), opts);
  auto out = fresh.connect_flow_b();
  ASSERT_TRUE(out.error.empty()) << out.error;
  EXPECT_TRUE(old_tunnel.wait_tunnel_closed());
  EXPECT_TRUE(relay.wait_for_log({"replaced by a reconnecting connector"}));
  // The kite is served by the new tunnel once the old one is gone (it may have been refused as
  // a duplicate if the replace raced the round; then a second round succeeds).
  if (out.count(wire::kite_status::ok) == 0) {
    ASSERT_TRUE(wait_for([&] { return relay.server().tunnel_count() == 1; }, "old tunnel gone"));
    out = fresh.add_kites({{"http", "foo.test"}});
  }
  EXPECT_EQ(out.count(wire::kite_status::ok), 1U);
  EXPECT_TRUE(relay.wait_for_route("http", "foo.test", true));
}

}  // namespace
}  // namespace kiteline::test
