// Relay integration: a kite line seen once on a clear-text tunnel cannot be replayed (hardening
// issue, item 3). The relay's challenge token is checked in every round, is valid only on the
// relay process that issued it and for a few minutes, and is accepted once. Honest connectors
// (Flow A across two connections, Flow B, later AddKites rounds, several connectors sharing a
// kite) keep working because they always sign a fresh token.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/fake_connector.hpp"
#include "support/fake_visitor.hpp"
#include "support/loopback_relay.hpp"
#include "wire/handshake.hpp"

namespace kiteline::test {
namespace {

/// "proto:domain:bsalt" of a captured kite line (how results name the kite).
std::string key_of_line(const std::string& line) {
  auto k = wire::parse_kite_line(line);
  return k ? wire::kite_key(*k) : std::string();
}

/// The refusal pagekite.py gives a bad challenge token: Invalid + Invalid-Why ...;unauthorized
/// for the kite, and no OK.
void expect_unauthorized(const handshake_outcome& out, const std::string& line,
                         const std::string& text) {
  const std::string key = key_of_line(line);
  ASSERT_FALSE(key.empty()) << line;
  EXPECT_FALSE(out.tunnel_up);
  EXPECT_EQ(out.count(wire::kite_status::ok), 0U) << text;
  EXPECT_EQ(out.count(wire::kite_status::invalid), 1U) << text;
  EXPECT_EQ(out.why(), "unauthorized") << text;
  EXPECT_NE(text.find("X-PageKite-Invalid: " + key + "\r\n"), std::string::npos) << text;
  EXPECT_NE(text.find("X-PageKite-Invalid-Why: " + key + ";unauthorized\r\n"), std::string::npos)
      << text;
}

/// The result chunk of an in-tunnel round as text (the controls are parsed; rebuild the lines).
std::string result_text(const handshake_outcome& out) {
  return wire::format_result_payload(out.response);
}

connector_options replying(std::vector<kite_spec> kites, std::string body,
                           bool add_kites = true) {
  auto o = with_kites(std::move(kites));
  o.add_kites = add_kites;
  o.handler = behaviour::fixed_reply("HTTP/1.0 200 OK\r\n\r\n" + body);
  return o;
}

/// Visitors for `host` answered by the connector replying `body`; every visitor must be answered.
int visitors_answered_by(std::uint16_t port, const std::string& host, const std::string& body,
                         int visitors) {
  int n = 0;
  for (int i = 0; i < visitors; ++i) {
    const auto r = http_exchange(port, http_get(host));
    EXPECT_EQ(r.status, 200) << r.head;
    n += r.body_text() == body ? 1 : 0;
  }
  return n;
}

// (a) The owner signed a kite line (Flow A, as libpagekite) and went offline; the same line
// replayed on a new connection within the token's life is refused: the token was used.
TEST(RelayReplay, OwnerOfflineReplayOnNewConnectionIsRefused) {
  loopback_relay relay;
  ASSERT_TRUE(relay.ok()) << relay.error();
  std::vector<std::string> captured;
  {
    fake_connector owner(relay.port(), replying({{"http", "foo.test"}}, "owner", false));
    auto out = owner.connect_flow_a();
    ASSERT_TRUE(out.tunnel_up) << out.error << out.head;
    captured = owner.signed_kite_lines_sent();
    ASSERT_EQ(captured.size(), 1U);
    owner.kill();
  }
  ASSERT_TRUE(relay.wait_for_route("http", "foo.test", false));

  fake_connector replayer(relay.port(), replying({}, "replayer"));
  auto out = replayer.connect_with_lines(captured);
  ASSERT_TRUE(out.error.empty()) << out.error;
  expect_unauthorized(out, captured[0], out.head);
  EXPECT_TRUE(relay.wait_for_log(
      {"kite refused", "kite=http:foo.test", "reason=unauthorized", "challenge token reused"}));
  // The replayer serves nobody: no route, visitors get the relay's 503 page.
  EXPECT_TRUE(relay.wait_for_route("http", "foo.test", false));
  EXPECT_EQ(http_exchange(relay.port(), http_get("foo.test")).status, 503);
  EXPECT_EQ(replayer.stream_count(), 0U);
  EXPECT_TRUE(wait_for([&] { return relay.server().tunnel_count() == 0; }, "no tunnel"));
}

// (b) A token from an EARLIER relay process, replayed in a round on a tunnel already
// authenticated for another kite (the relay used to check tokens only in a connection's first
// successful round), is refused: it is not from this relay.
TEST(RelayReplay, TokenFromAnEarlierRelayProcessRefusedOnAuthenticatedTunnel) {
  std::vector<std::string> captured;
  {
    loopback_relay earlier;
    ASSERT_TRUE(earlier.ok()) << earlier.error();
    fake_connector owner(earlier.port(), replying({{"http", "foo.test"}}, "owner"));
    ASSERT_TRUE(owner.connect_flow_b().tunnel_up);
    captured = owner.signed_kite_lines_sent();
    ASSERT_EQ(captured.size(), 1U);
  }  // the earlier relay stops here

  loopback_relay relay;
  ASSERT_TRUE(relay.ok()) << relay.error();
  fake_connector attacker(relay.port(), replying({{"http", "mine.test"}}, "attacker"));
  ASSERT_TRUE(attacker.connect_flow_b().tunnel_up);
  ASSERT_TRUE(relay.wait_for_route("http", "mine.test", true));
  auto out = attacker.add_kite_lines(captured);
  ASSERT_TRUE(out.error.empty()) << out.error;
  expect_unauthorized(out, captured[0], result_text(out));
  EXPECT_TRUE(relay.wait_for_log({"kite refused", "kite=http:foo.test", "reason=unauthorized",
                                  "challenge token not from this relay"}));
  // A round whose only kite is refused closes the tunnel (spec §4.5); foo.test never routes.
  EXPECT_TRUE(attacker.wait_tunnel_closed());
  EXPECT_TRUE(relay.wait_for_route("http", "foo.test", false));
  EXPECT_EQ(http_exchange(relay.port(), http_get("foo.test")).status, 503);
  EXPECT_EQ(attacker.stream_count(), 0U);
}

// (b') The same with a token of THIS relay that the owner already used: refused as reused.
TEST(RelayReplay, UsedTokenRefusedOnAnotherAuthenticatedTunnel) {
  loopback_relay relay;
  ASSERT_TRUE(relay.ok()) << relay.error();
  std::vector<std::string> captured;
  {
    fake_connector owner(relay.port(), replying({{"http", "foo.test"}}, "owner"));
    ASSERT_TRUE(owner.connect_flow_b().tunnel_up);
    captured = owner.signed_kite_lines_sent();
    ASSERT_EQ(captured.size(), 1U);
  }
  ASSERT_TRUE(relay.wait_for_route("http", "foo.test", false));
  fake_connector attacker(relay.port(), replying({{"http", "mine.test"}}, "attacker"));
  ASSERT_TRUE(attacker.connect_flow_b().tunnel_up);
  auto out = attacker.add_kite_lines(captured);
  ASSERT_TRUE(out.error.empty()) << out.error;
  expect_unauthorized(out, captured[0], result_text(out));
  EXPECT_TRUE(relay.wait_for_log({"kite refused", "kite=http:foo.test", "reason=unauthorized",
                                  "challenge token reused"}));
  EXPECT_TRUE(attacker.wait_tunnel_closed());
  EXPECT_EQ(http_exchange(relay.port(), http_get("foo.test")).status, 503);
  EXPECT_EQ(attacker.stream_count(), 0U);
}

// (c) The owner is online again with a new session (a new BSALT, as libpagekite): a replay of
// its old line used to be accepted as another connector of the kite and took half the
// visitors. Now it is refused and the owner keeps every visitor.
TEST(RelayReplay, OwnerOnlineKeepsEveryVisitor) {
  loopback_relay relay;
  ASSERT_TRUE(relay.ok()) << relay.error();
  std::vector<std::string> captured;
  {
    fake_connector first_session(relay.port(), replying({{"http", "foo.test"}}, "owner"));
    ASSERT_TRUE(first_session.connect_flow_b().tunnel_up);
    captured = first_session.signed_kite_lines_sent();
    ASSERT_EQ(captured.size(), 1U);
  }
  ASSERT_TRUE(relay.wait_for_route("http", "foo.test", false));
  fake_connector owner(relay.port(), replying({{"http", "foo.test"}}, "owner"));
  ASSERT_TRUE(owner.connect_flow_b().tunnel_up);
  ASSERT_NE(key_of_line(owner.signed_kite_lines_sent().at(0)), key_of_line(captured[0]));

  fake_connector replayer(relay.port(), replying({}, "replayer"));
  auto out = replayer.connect_with_lines(captured);
  ASSERT_TRUE(out.error.empty()) << out.error;
  expect_unauthorized(out, captured[0], out.head);
  EXPECT_TRUE(relay.wait_for_log(
      {"kite refused", "kite=http:foo.test", "reason=unauthorized", "challenge token reused"}));
  EXPECT_TRUE(wait_for([&] { return relay.server().tunnel_count() == 1; }, "one tunnel"));
  constexpr int visitors = 6;
  EXPECT_EQ(visitors_answered_by(relay.port(), "foo.test", "owner", visitors), visitors);
  EXPECT_EQ(owner.stream_count(), static_cast<std::size_t>(visitors));
  EXPECT_EQ(replayer.stream_count(), 0U);
  EXPECT_FALSE(owner.tunnel_closed());
}

// Flow A (libpagekite): the challenge comes on one connection and is signed on the next, which
// another worker may accept. With two workers, every connector gets its kite.
TEST(RelayReplay, FlowAAcrossConnectionsAndWorkers) {
  relay_options ro;
  ro.threads = 2;
  loopback_relay relay(ro);
  ASSERT_TRUE(relay.ok()) << relay.error();
  constexpr int connectors = 6;
  std::vector<std::unique_ptr<fake_connector>> cs;
  for (int i = 0; i < connectors; ++i) {
    const std::string name = "a" + std::to_string(i) + ".test";
    cs.push_back(std::make_unique<fake_connector>(relay.port(),
                                                  replying({{"http", name}}, name, false)));
    auto out = cs.back()->connect_flow_a();
    ASSERT_TRUE(out.error.empty()) << out.error;
    EXPECT_TRUE(out.tunnel_up) << out.head << relay.log_dump();
    EXPECT_EQ(out.count(wire::kite_status::ok), 1U) << out.head;
  }
  for (int i = 0; i < connectors; ++i) {
    const std::string name = "a" + std::to_string(i) + ".test";
    EXPECT_EQ(http_exchange(relay.port(), http_get(name)).body_text(), name);
  }
  EXPECT_EQ(relay.log().count("challenge token"), 0U) << relay.log_dump();
}

// Flow B, then a later AddKites round (spec §4.8): the new kite is challenged in-tunnel and
// accepted with a fresh token; replaying that AddKites line elsewhere is refused.
TEST(RelayReplay, FlowBAndLaterAddKitesRound) {
  loopback_relay relay;
  ASSERT_TRUE(relay.ok()) << relay.error();
  fake_connector c(relay.port(), replying({{"http", "one.test"}}, "c"));
  auto out = c.connect_flow_b();
  ASSERT_TRUE(out.tunnel_up) << out.error;
  // A new kite: no token yet, so the round is a challenge (the tunnel stays up).
  out = c.add_kites({{"http", "two.test"}});
  ASSERT_TRUE(out.error.empty()) << out.error;
  ASSERT_EQ(out.count(wire::kite_status::sign_this), 1U) << result_text(out);
  EXPECT_FALSE(c.tunnel_closed());
  // Signed with the fresh token: OK.
  out = c.add_kites({{"http", "two.test"}});
  ASSERT_TRUE(out.error.empty()) << out.error;
  EXPECT_EQ(out.count(wire::kite_status::ok), 1U) << result_text(out);
  EXPECT_TRUE(relay.wait_for_route("http", "two.test", true));
  EXPECT_EQ(http_exchange(relay.port(), http_get("two.test")).body_text(), "c");
  const auto lines = c.signed_kite_lines_sent();
  ASSERT_EQ(lines.size(), 2U);  // one.test (Flow B round), two.test (AddKites round)
  fake_connector replayer(relay.port(), replying({}, "replayer"));
  auto replay = replayer.connect_with_lines({lines[1]});
  ASSERT_TRUE(replay.error.empty()) << replay.error;
  expect_unauthorized(replay, lines[1], replay.head);
  EXPECT_FALSE(c.tunnel_closed());
}

// Several connectors may serve one kite (issue 3 item 5), each with its own fresh signature
// over its own token: Flow A and Flow B side by side, visitors spread over both.
TEST(RelayReplay, TwoConnectorsWithFreshSignaturesShareAKite) {
  loopback_relay relay;
  ASSERT_TRUE(relay.ok()) << relay.error();
  fake_connector one(relay.port(), replying({{"http", "ha.test"}}, "one", false));
  ASSERT_TRUE(one.connect_flow_a().tunnel_up);
  fake_connector two(relay.port(), replying({{"http", "ha.test"}}, "two"));
  auto out = two.connect_flow_b();
  ASSERT_TRUE(out.tunnel_up) << out.error << result_text(out);
  EXPECT_EQ(relay.server().tunnel_count(), 2U);
  int ones = 0;
  int twos = 0;
  for (int i = 0; i < 6; ++i) {
    const auto body = http_exchange(relay.port(), http_get("ha.test")).body_text();
    ones += body == "one" ? 1 : 0;
    twos += body == "two" ? 1 : 0;
  }
  EXPECT_EQ(ones + twos, 6);
  EXPECT_GE(ones, 1);
  EXPECT_GE(twos, 1);
  EXPECT_EQ(relay.log().count("challenge token"), 0U) << relay.log_dump();
}

}  // namespace
}  // namespace kiteline::test
