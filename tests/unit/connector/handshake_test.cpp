// Tests of connector::handshake, the connector's side of the PageKite handshake (spec §4):
// both flows, every refusal reason, byte-by-byte input, and pagekite.py's captured replies.
#include <gtest/gtest.h>

#include "support/vectors.hpp"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "connector/handshake.hpp"
#include "connector/kite_signing.hpp"
#include "core/text.hpp"
#include "wire/handshake.hpp"
#include "wire/head.hpp"
#include "wire/kite_auth.hpp"

namespace kiteline::connector {
namespace {

namespace fs = std::filesystem;
using step = handshake::step;

using kiteline::test::read_vector;
const fs::path vectors_dir = kiteline::test::vectors_dir();

config::service make_service(std::string proto, std::string name, std::string secret) {
  config::service s;
  s.proto = std::move(proto);
  s.kite_name = std::move(name);
  s.kite_secret = config::secret(std::move(secret));
  return s;
}

/// Two kites, fixed salts: a deterministic handshake.
struct fixture {
  std::vector<config::service> services{make_service("http", "foo.test", "s3cret"),
                                        make_service("raw", "ssh.test", "s3cret")};
  std::vector<std::string> bsalts{std::string(36, 'a'), std::string(36, 'b')};
  std::vector<std::uint64_t> salts{1, 2, 3, 4};
  bool force_flow_a = false;

  fixture() { services[1].public_port = 22; }

  handshake make(std::string session = "") const {
    handshake_params p;
    p.services = services;
    p.bsalts = bsalts;
    p.salts = salts;
    p.force_flow_a = force_flow_a;
    p.session_id = std::move(session);
    return handshake(std::move(p));
  }
  std::string key(std::size_t i) const {
    return wire::kite_key(sign_kite(services[i], bsalts[i], "", "00000000"));
  }
};

wire::kite_result res(wire::kite_status status, std::string kite, std::string fsalt = "",
                      std::string why = "") {
  wire::kite_result r;
  r.status = status;
  r.kite = std::move(kite);
  r.fsalt = std::move(fsalt);
  r.why = std::move(why);
  return r;
}

wire::handshake_response reply(std::vector<wire::kite_result> results, bool add_kites = true) {
  wire::handshake_response r;
  r.zchunks = true;
  r.add_kites = add_kites;
  r.results = std::move(results);
  r.session_id = "1:abc";
  return r;
}

/// Feeds `bytes` one byte at a time; returns the last step.
step feed_bytewise(handshake& h, std::string_view bytes) {
  step st = step::read;
  for (char c : bytes) {
    st = h.on_bytes(as_bytes(std::string_view(&c, 1)));
    if (st != step::read) {
      break;
    }
  }
  return st;
}

/// Runs a one-round handshake with `head` fed at every split point; all splits must agree.
handshake one_round(const fixture& f, const std::string& head) {
  handshake whole = f.make();
  EXPECT_EQ(whole.start(), step::write);
  EXPECT_EQ(whole.on_written(), step::read);
  const step want = whole.on_bytes(as_bytes(head));
  for (std::size_t cut = 0; cut <= head.size(); ++cut) {
    handshake h = f.make();
    (void)h.start();
    (void)h.on_written();
    step st = h.on_bytes(as_bytes(std::string_view(head).substr(0, cut)));
    if (st == step::read) {
      st = h.on_bytes(as_bytes(std::string_view(head).substr(cut)));
    }
    EXPECT_EQ(st, want) << cut;
    EXPECT_EQ(h.verdict(), whole.verdict()) << cut;
  }
  handshake bytewise = f.make();
  (void)bytewise.start();
  (void)bytewise.on_written();
  EXPECT_EQ(feed_bytewise(bytewise, head), want);
  EXPECT_EQ(bytewise.verdict(), whole.verdict());
  return whole;
}

TEST(connector_handshake, first_request_is_pagekite_py_shaped_and_signed) {
  fixture f;
  handshake h = f.make("7:old");
  ASSERT_EQ(h.start(), step::write);
  auto req = wire::parse_handshake_request(h.to_write());
  ASSERT_TRUE(req.has_value()) << req.error().message();
  EXPECT_TRUE(req->add_kites);
  EXPECT_TRUE(req->zchunks);
  EXPECT_EQ(req->replace, "7:old");
  ASSERT_EQ(req->kites.size(), 2U);
  EXPECT_EQ(req->kites[0].proto, "http");
  EXPECT_EQ(req->kites[1].proto, "raw-22");
  EXPECT_EQ(req->kites[0].fsalt, "");
  EXPECT_EQ(req->kites[0].signature.substr(0, 8), make_salt8(1));
  EXPECT_EQ(req->kites[1].signature.substr(0, 8), make_salt8(3));
  for (const auto& k : req->kites) {
    EXPECT_TRUE(wire::verify_kite_signature("s3cret", k));
  }
}

TEST(connector_handshake, disabled_services_are_not_asked_for) {
  fixture f;
  f.services[1].enabled = false;
  handshake h = f.make();
  (void)h.start();
  auto req = wire::parse_handshake_request(h.to_write());
  ASSERT_TRUE(req.has_value());
  EXPECT_EQ(req->kites.size(), 1U);
}

TEST(connector_handshake, ok_without_challenge_is_live_in_flow_a) {
  fixture f;
  const std::string head = wire::format_handshake_response(
      reply({res(wire::kite_status::ok, f.key(0), "", ""), res(wire::kite_status::ssl_ok, f.key(0))}));
  handshake h = one_round(f, head + "tunnel bytes");
  EXPECT_EQ(h.verdict(), handshake_verdict::live);
  EXPECT_EQ(h.flow(), "A");
  EXPECT_TRUE(h.relay_zchunks());
  EXPECT_EQ(h.session_id(), "1:abc");
  EXPECT_EQ(h.round().ok, 1U);
  ASSERT_EQ(h.round().kites.size(), 2U);
  EXPECT_EQ(h.round().kites[0].service, std::optional<std::size_t>(0));
  EXPECT_EQ(as_text(h.leftover()), "tunnel bytes");
}

TEST(connector_handshake, every_refusal_reason) {
  fixture f;
  struct row {
    std::vector<wire::kite_result> results;
    handshake_verdict want;
  };
  const std::vector<row> rows = {
      {{res(wire::kite_status::invalid, f.key(0), "", "signature")}, handshake_verdict::rejected},
      {{res(wire::kite_status::invalid, f.key(0), "", "unauthorized"),
        res(wire::kite_status::duplicate, f.key(1))},
       handshake_verdict::rejected},
      {{res(wire::kite_status::invalid, f.key(0))}, handshake_verdict::rejected},
      {{res(wire::kite_status::duplicate, f.key(0))}, handshake_verdict::duplicate},
      {{res(wire::kite_status::ssl_ok, f.key(0))}, handshake_verdict::no_kite},
      {{res(wire::kite_status::ok, "http:other.test:" + std::string(36, 'c'))},
       handshake_verdict::no_kite},  // unknown kite: not ours
      {{}, handshake_verdict::no_kite},
      {{res(wire::kite_status::ok, f.key(1)), res(wire::kite_status::invalid, f.key(0), "", "x")},
       handshake_verdict::live},
  };
  for (const row& r : rows) {
    const handshake h = one_round(f, wire::format_handshake_response(reply(r.results)));
    EXPECT_EQ(h.verdict(), r.want);
    EXPECT_EQ(h.round().verdict(), r.want);
  }
  // The unknown kite is reported without a service; the Invalid reason is carried.
  const handshake h = one_round(
      f, wire::format_handshake_response(
             reply({res(wire::kite_status::invalid, f.key(0), "", "signature"),
                    res(wire::kite_status::ok, "http:other.test:" + std::string(36, 'c'))})));
  ASSERT_EQ(h.round().kites.size(), 2U);
  EXPECT_EQ(h.round().kites[0].result.why, "signature");
  EXPECT_FALSE(h.round().kites[1].service.has_value());
  EXPECT_TRUE(h.round().any_invalid);
}

TEST(connector_handshake, quota_fields_do_not_change_the_verdict) {
  fixture f;
  auto r = reply({res(wire::kite_status::ok, f.key(0))});
  r.quota = 0;
  r.qconns = 1;
  r.qdays = 2;
  EXPECT_EQ(one_round(f, wire::format_handshake_response(r)).verdict(), handshake_verdict::live);
}

TEST(connector_handshake, refused_and_bad_replies) {
  fixture f;
  const handshake refused = one_round(f, "HTTP/1.1 403 Forbidden\r\nX-Foo: 1\r\n\r\n");
  EXPECT_EQ(refused.verdict(), handshake_verdict::refused);
  EXPECT_EQ(refused.refusal_line(), "HTTP/1.1 403 Forbidden");
  EXPECT_TRUE(refused.error());

  handshake big = f.make();
  (void)big.start();
  (void)big.on_written();
  const std::string junk(20 * 1024, 'x');
  EXPECT_EQ(big.on_bytes(as_bytes(junk)), step::done);
  EXPECT_EQ(big.verdict(), handshake_verdict::bad_reply);
  EXPECT_TRUE(big.error());
  EXPECT_TRUE(big.has_reply_bytes());
}

/// The challenge reply, then Flow A or B.
std::string challenge(const fixture& f, bool add_kites) {
  return wire::format_handshake_response(
      reply({res(wire::kite_status::sign_this, f.key(0), "tFS0", ""),
             res(wire::kite_status::sign_this, f.key(1), "tFS1", "")},
            add_kites));
}

TEST(connector_handshake, flow_a_reconnects_with_the_signed_request) {
  for (const bool add_kites : {false, true}) {
    fixture f;
    f.force_flow_a = add_kites;  // AddKites offered but Flow A forced, or not offered at all
    handshake h = f.make();
    (void)h.start();
    (void)h.on_written();
    ASSERT_EQ(feed_bytewise(h, challenge(f, add_kites)), step::reconnect);
    EXPECT_EQ(h.session_id(), "1:abc");
    ASSERT_EQ(h.on_reconnected(), step::write);
    auto req = wire::parse_handshake_request(h.to_write());
    ASSERT_TRUE(req.has_value());
    EXPECT_EQ(req->replace, "1:abc");
    ASSERT_EQ(req->kites.size(), 2U);
    EXPECT_EQ(req->kites[0].fsalt, "tFS0");
    EXPECT_EQ(req->kites[1].fsalt, "tFS1");
    EXPECT_EQ(req->kites[0].signature.substr(0, 8), make_salt8(2));
    EXPECT_TRUE(wire::verify_kite_signature("s3cret", req->kites[1]));
    ASSERT_EQ(h.on_written(), step::read);
    const std::string second = wire::format_handshake_response(
        reply({res(wire::kite_status::ok, f.key(0)), res(wire::kite_status::duplicate, f.key(1))}));
    ASSERT_EQ(feed_bytewise(h, second), step::done);
    EXPECT_EQ(h.verdict(), handshake_verdict::live);
    EXPECT_EQ(h.flow(), "A");
    EXPECT_TRUE(h.round().any_duplicate);
  }
}

TEST(connector_handshake, flow_a_second_challenge_is_not_a_kite) {
  fixture f;
  f.force_flow_a = true;
  handshake h = f.make();
  (void)h.start();
  (void)h.on_written();
  ASSERT_EQ(h.on_bytes(as_bytes(challenge(f, true))), step::reconnect);
  (void)h.on_reconnected();
  (void)h.on_written();
  ASSERT_EQ(h.on_bytes(as_bytes(challenge(f, true))), step::done);
  EXPECT_EQ(h.verdict(), handshake_verdict::no_kite);
}

std::vector<wire::header_field> fields_of(std::string_view payload) {
  std::vector<wire::header_field> out;
  wire::line_reader lines(payload.substr(0, payload.find("\r\n\r\n") + 2));
  std::string_view line;
  while (lines.next(line) && !line.empty()) {
    if (auto f = wire::split_header_line(line)) {
      out.push_back(*f);
    }
  }
  return out;
}

/// "<hex>\r\n<payload>" -> payload.
std::string_view unframe(std::string_view chunk) {
  const std::size_t eol = chunk.find("\r\n");
  return chunk.substr(eol + 2, std::stoul(std::string(chunk.substr(0, eol)), nullptr, 16));
}

TEST(connector_handshake, flow_b_sends_the_kite_round_in_the_tunnel) {
  fixture f;
  handshake h = f.make();
  (void)h.start();
  (void)h.on_written();
  ASSERT_EQ(feed_bytewise(h, challenge(f, true)), step::start_link);
  EXPECT_TRUE(h.awaiting_result());
  EXPECT_EQ(h.flow(), "B");
  const std::string chunk(h.to_write());
  const auto round = wire::parse_kite_round(fields_of(unframe(chunk)));
  ASSERT_TRUE(round.has_value()) << round.error().message();
  ASSERT_EQ(round->kites.size(), 2U);
  EXPECT_EQ(round->kites[1].fsalt, "tFS1");
  EXPECT_TRUE(wire::verify_kite_signature("s3cret", round->kites[0]));

  // A control chunk without handshake fields changes nothing.
  const std::vector<wire::header_field> ping = {{"NOOP", "1"}, {"PING", "1"}};
  EXPECT_EQ(h.on_result_fields(ping), step::start_link);
  auto result = reply({res(wire::kite_status::invalid, f.key(0), "", "signature"),
                       res(wire::kite_status::invalid, f.key(1), "", "signature")});
  result.session_id = "2:def";
  const std::string payload = wire::format_result_payload(result);
  ASSERT_EQ(h.on_result_fields(fields_of(payload)), step::done);
  EXPECT_EQ(h.verdict(), handshake_verdict::rejected);
  EXPECT_EQ(h.session_id(), "2:def");
  EXPECT_FALSE(h.awaiting_result());
}

TEST(connector_handshake, flow_b_bad_result_chunk) {
  fixture f;
  handshake h = f.make();
  (void)h.start();
  (void)h.on_written();
  ASSERT_EQ(h.on_bytes(as_bytes(challenge(f, true))), step::start_link);
  const std::vector<wire::header_field> bad = {{"X-PageKite-Quota", "lots"}};
  ASSERT_EQ(h.on_result_fields(bad), step::done);
  EXPECT_EQ(h.verdict(), handshake_verdict::bad_result);
  EXPECT_TRUE(h.error());
}

TEST(connector_handshake, calls_out_of_order_do_nothing) {
  fixture f;
  handshake h = f.make();
  EXPECT_EQ(h.on_bytes(as_bytes("HTTP/1.1 200 OK\r\n\r\n")), step::read);
  EXPECT_EQ(h.on_reconnected(), step::read);
  EXPECT_EQ(h.verdict(), handshake_verdict::pending);
}

/// A fixture whose kites are the captured request's (same BSALTs), so the captured reply's
/// result keys are ours.
fixture from_capture(const std::string& be2fe, const std::string& secret) {
  const auto end = wire::find_head_end(be2fe, 16 * 1024);
  auto req = wire::parse_handshake_request(std::string_view(be2fe).substr(0, end->end));
  EXPECT_TRUE(req.has_value());
  fixture f;
  f.services.clear();
  f.bsalts.clear();
  for (const auto& k : req->kites) {
    auto pp = wire::split_proto(k.proto);
    config::service s = make_service(std::string(pp->base), k.domain, secret);
    if (pp->port) {
      s.public_port = *pp->port;
    }
    f.services.push_back(s);
    f.bsalts.push_back(k.bsalt);
  }
  f.salts.assign(2 * f.services.size(), 7);
  return f;
}

TEST(connector_handshake, pagekite_py_replies_flow_a) {
  // nozchunks scenarios: round one on tunnel1, the signed round on tunnel2.
  const struct {
    const char* scenario;
    const char* secret;
    handshake_verdict want;
    const char* why;
  } rows[] = {{"01-handshake-get", "s3cret", handshake_verdict::live, ""},
              {"08-wrong-secret", "wrong-secret", handshake_verdict::rejected, "signature"},
              {"09-unknown-kite", "s3cret", handshake_verdict::rejected, "unauthorized"}};
  for (const auto& r : rows) {
    SCOPED_TRACE(r.scenario);
    const fs::path dir = vectors_dir / "nozchunks";
    const std::string base = r.scenario;
    fixture f = from_capture(read_vector(dir / (base + ".tunnel1.be2fe.bin")), r.secret);
    f.force_flow_a = true;
    handshake h = f.make();
    (void)h.start();
    (void)h.on_written();
    ASSERT_EQ(feed_bytewise(h, read_vector(dir / (base + ".tunnel1.fe2be.bin"))), step::reconnect);
    ASSERT_EQ(h.on_reconnected(), step::write);
    // Our signed request answers the captured challenges.
    auto req = wire::parse_handshake_request(h.to_write());
    ASSERT_TRUE(req.has_value());
    const std::string want_req = read_vector(dir / (base + ".tunnel2.be2fe.bin"));
    auto captured = wire::parse_handshake_request(
        std::string_view(want_req).substr(0, wire::find_head_end(want_req, 16384)->end));
    ASSERT_TRUE(captured.has_value());
    ASSERT_EQ(req->kites.size(), captured->kites.size());
    for (std::size_t i = 0; i < req->kites.size(); ++i) {
      EXPECT_EQ(req->kites[i].fsalt, captured->kites[i].fsalt);
      EXPECT_EQ(wire::kite_key(req->kites[i]), wire::kite_key(captured->kites[i]));
    }
    (void)h.on_written();
    const std::string fe2be = read_vector(dir / (base + ".tunnel2.fe2be.bin"));
    ASSERT_EQ(feed_bytewise(h, fe2be), step::done);
    EXPECT_EQ(h.verdict(), r.want);
    ASSERT_FALSE(h.round().kites.empty());
    EXPECT_TRUE(h.round().kites[0].service.has_value());
    EXPECT_EQ(h.round().kites[0].result.why, r.why);
  }
}

TEST(connector_handshake, pagekite_py_replies_flow_b) {
  const fs::path dir = vectors_dir / "zchunks";
  std::size_t seen = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.find(".tunnel1.be2fe.bin") == std::string::npos) {
      continue;
    }
    SCOPED_TRACE(name);
    ++seen;
    const std::string base = name.substr(0, name.find(".be2fe.bin"));
    fixture f = from_capture(read_vector(e.path()), "s3cret");
    const std::string fe2be = read_vector(dir / (base + ".fe2be.bin"));
    handshake bytewise = f.make();
    (void)bytewise.start();
    (void)bytewise.on_written();
    ASSERT_EQ(feed_bytewise(bytewise, fe2be), step::start_link);  // at the head's last byte
    EXPECT_TRUE(bytewise.leftover().empty());
    handshake h = f.make();
    (void)h.start();
    (void)h.on_written();
    ASSERT_EQ(h.on_bytes(as_bytes(fe2be)), step::start_link);
    // The first tunnel bytes are the relay's result chunk.
    const std::string leftover(as_text(h.leftover()));
    ASSERT_FALSE(leftover.empty());
    EXPECT_EQ(h.on_result_fields(fields_of(unframe(leftover))), step::done);
    EXPECT_EQ(h.verdict(), handshake_verdict::live);
    EXPECT_EQ(h.round().ok, f.services.size());
  }
  EXPECT_GE(seen, 7U);
}

}  // namespace
}  // namespace kiteline::connector
