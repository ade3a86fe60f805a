// Scripted tests of mux::session (spec §5.3-5.10, §7.1, §11.1-11.2).
#include "mux/session.hpp"

#include <chrono>
#include <string>
#include <vector>

#include "session_script.hpp"

#include <gtest/gtest.h>

namespace kiteline::mux::test {
namespace {

using namespace std::chrono_literals;
using wire::eof_flags;

/// Chainable chunk header builder; string arguments must outlive the feed (literals do).
struct hdr {
  wire::chunk_headers h;
  hdr& noop() { h.noop = true; return *this; }
  hdr& sid(sid_t v) { h.sid = v; return *this; }
  hdr& proto(std::string_view v) { h.proto = v; return *this; }
  hdr& host(std::string_view v) { h.host = v; return *this; }
  hdr& port(std::uint32_t v) { h.port = v; return *this; }
  hdr& rip(std::string_view v) { h.rip = v; return *this; }
  hdr& rport(std::uint32_t v) { h.rport = v; return *this; }
  hdr& rtls() { h.rtls = true; return *this; }
  hdr& eof(eof_flags v) { h.eof = v; return *this; }
  hdr& ping(std::string_view v) { h.ping = v; return *this; }
  hdr& pong(std::string_view v) { h.pong = v; return *this; }
  hdr& skb(std::uint64_t v) { h.skb = v; return *this; }
  hdr& spd(std::uint64_t v) { h.spd = v; return *this; }
  hdr& zrst() { h.zrst = true; return *this; }
  hdr& quota(std::int64_t v) { h.quota = v; return *this; }
  hdr& extra(std::span<const wire::header_field> v) { h.extra = v; return *this; }
  operator const wire::chunk_headers&() const { return h; }  // NOLINT implicit
};

hdr first_hdr(sid_t sid) {
  return hdr{}.sid(sid).proto("http").host("foo.example").port(18880).rip("127.0.0.1").rport(
      41136);
}

open_local open_of(sid_t sid) {
  return open_local{sid, "http", "foo.example", 18880, "127.0.0.1", 41136, false};
}

const stream_open visitor{"http", "foo.example", 18880, "127.0.0.1", 41136, false};

// ------------------------------------------------------------------------------ relay opens

TEST(MuxSession, RelayOpenStreamEmitsFirstChunkWithAllFields) {
  session_script t(role::relay);
  const std::string req = "GET /hello HTTP/1.1\r\nHost: foo.example\r\n\r\n";
  auto sid = t.s().open_stream(visitor, bytes_of(req));
  ASSERT_TRUE(sid.has_value());
  EXPECT_EQ(*sid, 1U);
  t.expect({first_chunk(1, "http", "foo.example", 18880, "127.0.0.1", 41136, false, req)});
  EXPECT_TRUE(t.s().has_stream(1));
  EXPECT_EQ(t.s().unacked_bytes(1), req.size());

  // RTLS and an empty first chunk (raw CONNECT with nothing after the header block).
  const stream_open tls{"raw", "foo.example", 22, "::ffff:10.0.0.1", 5, true};
  sid = t.s().open_stream(tls, {});
  ASSERT_TRUE(sid.has_value());
  EXPECT_EQ(*sid, 2U);
  t.expect({first_chunk(2, "raw", "foo.example", 22, "::ffff:10.0.0.1", 5, true, "")});
}

TEST(MuxSession, RelayFirstBytesSplitAtMaxChunkDataFirstPieceKeepsHeaders) {
  session_limits l;
  l.max_chunk_data = 4;
  session_script t(role::relay, l);
  const std::string req = "0123456789";
  ASSERT_TRUE(t.s().open_stream(visitor, bytes_of(req)).has_value());
  t.expect({first_chunk(1, "http", "foo.example", 18880, "127.0.0.1", 41136, false, "0123"),
            data_chunk(1, "4567"), data_chunk(1, "89")});
  // Views point into the caller's buffer (no copy).
  ASSERT_TRUE(t.s().on_local_data(1, bytes_of(req)) == std::error_code{});
  ASSERT_EQ(t.s().actions().size(), 3U);
  EXPECT_EQ(std::get<send_chunk>(t.s().actions()[0]).data.data(),
            bytes_of(req).data());
  t.s().clear_actions();
}

TEST(MuxSession, SidAllocationNeverReusesLiveAndWraps) {
  session_limits l;
  l.max_sid = 3;
  session_script t(role::relay, l);
  EXPECT_EQ(*t.s().open_stream(visitor, {}), 1U);
  EXPECT_EQ(*t.s().open_stream(visitor, {}), 2U);
  EXPECT_EQ(t.s().close_stream(1), std::error_code{});
  EXPECT_EQ(*t.s().open_stream(visitor, {}), 3U);  // counter goes on; 1 is not reused yet
  EXPECT_EQ(*t.s().open_stream(visitor, {}), 1U);  // wrapped; 1 is free again
  EXPECT_EQ(t.s().open_stream(visitor, {}).error(), make_error_code(errc::sid_space_exhausted));
  EXPECT_EQ(t.s().close_stream(3), std::error_code{});
  EXPECT_EQ(*t.s().open_stream(visitor, {}), 3U);  // skips live 2 after wrapping past 1
  EXPECT_EQ(t.s().stream_count(), 3U);
  EXPECT_TRUE(t.s().check_invariants_for_test());
  t.s().clear_actions();
}

TEST(MuxSession, SidAllocationSkipsLiveSidsAfterWrap) {
  session_limits l;
  l.max_sid = 5;
  session_script t(role::relay, l);
  for (sid_t want = 1; want <= 5; ++want) {
    EXPECT_EQ(*t.s().open_stream(visitor, {}), want);
  }
  for (sid_t sid : {2U, 4U}) {
    EXPECT_EQ(t.s().close_stream(sid), std::error_code{});
  }
  EXPECT_EQ(*t.s().open_stream(visitor, {}), 2U);
  EXPECT_EQ(*t.s().open_stream(visitor, {}), 4U);
  t.s().clear_actions();
}

TEST(MuxSession, OpenStreamRefusedOnConnectorAndBeyondMaxStreams) {
  session_script c(role::connector);
  EXPECT_EQ(c.s().open_stream(visitor, {}).error(), make_error_code(errc::wrong_role));
  c.expect_none();

  session_limits l;
  l.max_streams = 2;
  session_script t(role::relay, l);
  EXPECT_TRUE(t.s().open_stream(visitor, {}).has_value());
  EXPECT_TRUE(t.s().open_stream(visitor, {}).has_value());
  t.s().clear_actions();
  EXPECT_EQ(t.s().open_stream(visitor, bytes_of("x")).error(),
            make_error_code(errc::too_many_streams));
  t.expect_none();
}

// --------------------------------------------------------------------- connector new streams

TEST(MuxSession, ConnectorOpensLocalOnNewSidWithProtoAndHost) {
  session_script t(role::connector);
  EXPECT_EQ(t.feed_chunk(first_hdr(7), "GET / HTTP/1.1\r\n\r\n"), std::error_code{});
  t.expect({open_of(7), deliver_of(7, "GET / HTTP/1.1\r\n\r\n")});
  EXPECT_TRUE(t.s().has_stream(7));
  EXPECT_EQ(t.s().receive_budget_used(), 18U);

  // Empty first chunk still opens (raw CONNECT without bytes); RTLS is passed on.
  t.feed_chunk(hdr{}.sid(11).proto("raw").host("foo.example").port(22).rip("::1").rport(9).rtls());
  t.expect({open_local{11, "raw", "foo.example", 22, "::1", 9, true}});

  // Later chunks of a known SID are delivered, even if they repeat Proto/Host.
  t.feed_chunk(hdr{}.sid(7), "more");
  t.feed_chunk(first_hdr(7), "again");
  t.expect({deliver_of(7, "more"), deliver_of(7, "again")});
  t.feed_chunk(hdr{}.sid(7), "");
  t.expect_none("empty data chunk ignored");
}

TEST(MuxSession, RelayRefusesNewStreamsFromConnector) {
  session_script t(role::relay);
  t.feed_chunk(first_hdr(9), "GET /");
  t.expect({eof_chunk(9, eof_flags::both)});
  EXPECT_FALSE(t.s().has_stream(9));
  t.feed_chunk(hdr{}.sid(9), "rest of it");
  t.expect_none("refused once; stray data for it is not answered again");
}

TEST(MuxSession, ConnectorRefusesFloodBeyondMaxStreams) {
  session_limits l;
  l.max_streams = 2;
  session_script t(role::connector, l);
  for (sid_t sid = 1; sid <= 5; ++sid) {
    t.feed_chunk(first_hdr(sid), "x");
  }
  t.expect({open_of(1), deliver_of(1, "x"), open_of(2), deliver_of(2, "x"),
            eof_chunk(3, eof_flags::both), eof_chunk(4, eof_flags::both),
            eof_chunk(5, eof_flags::both)});
  EXPECT_EQ(t.s().stream_count(), 2U);
  // A freed slot can be used by the next new SID.
  EXPECT_EQ(t.s().close_stream(1), std::error_code{});
  t.expect({eof_chunk(1, eof_flags::both)});
  t.feed_chunk(first_hdr(6), "y");
  t.expect({open_of(6), deliver_of(6, "y")});
}

TEST(MuxSession, RefusalsAreBoundedPerTick) {
  session_limits l;
  l.max_streams = 0;
  l.max_refusals_per_tick = 3;
  session_script t(role::connector, l);
  for (sid_t sid = 1; sid <= 5; ++sid) {
    t.feed_chunk(first_hdr(sid), "x");
  }
  t.expect({eof_chunk(1, eof_flags::both), eof_chunk(2, eof_flags::both),
            eof_chunk(3, eof_flags::both)});
  t.s().on_timer(session_script::t0);
  t.feed_chunk(first_hdr(6), "x");
  t.expect({eof_chunk(6, eof_flags::both)});
}

// ------------------------------------------------------------------------------ unknown SIDs

TEST(MuxSession, UnknownSidRules) {
  session_script t(role::connector);
  t.feed_chunk(hdr{}.sid(5), "data");
  t.expect({eof_chunk(5, eof_flags::both)}, "data for unknown SID");
  t.feed_chunk(hdr{}.sid(5), "more");
  t.expect_none("no second reply for the same SID");
  t.feed_chunk(hdr{}.sid(6).eof(eof_flags::read), "Bye!");
  t.feed_chunk(hdr{}.sid(6).eof(eof_flags::both));
  t.expect_none("never reply to an EOF");
  t.feed_chunk(hdr{}.noop().sid(6).skb(3));
  t.feed_chunk(hdr{}.sid(6).skb(3), "data");
  t.feed_chunk(hdr{}.sid(6).spd(100), "data");
  t.expect_none("never reply to SKB/SPD");
  t.feed_chunk(hdr{}.sid(6), "");
  t.expect_none("empty data chunks are ignored");
  t.feed_chunk(hdr{}.proto("http").host("foo.example"), "x");
  EXPECT_EQ(t.feed_chunk(hdr{}, "x"), make_error_code(errc::chunk_without_sid));
  t.expect_none("no SID: ignored");
  t.feed_chunk(hdr{}.sid(6).host("only-host"), "data");
  t.expect({eof_chunk(6, eof_flags::both)}, "Host without Proto is not a new stream");
}

// --------------------------------------------------------------------------- control chunks

TEST(MuxSession, PingIsAnsweredWithExactValueAndNothingElse) {
  session_script t(role::relay);
  t.feed_chunk(hdr{}.noop().ping("1795342288.6446"), "!");
  t.expect({pong_chunk("1795342288.6446")});
  const std::string long_value(100, '7');
  t.feed_chunk(hdr{}.noop().ping(long_value));
  t.expect({pong_chunk(std::string(64, '7'))}, "PONG carries the first 64 chars");
  // PING stops processing: the SID/data/ZRST of the same chunk are ignored.
  t.feed_chunk(hdr{}.sid(4).ping("1").zrst(), "data");
  t.expect({pong_chunk("1")});
}

TEST(MuxSession, PongMeasuresRtt) {
  session_limits l;
  l.ping_interval = 10s;
  session_script t(role::connector, l);
  t.s().on_timer(session_script::t0 + 10s, "tok-1");
  t.expect({ping_chunk("tok-1")});
  EXPECT_FALSE(t.s().last_rtt().has_value());
  t.s().on_tunnel_bytes_received(session_script::t0 + 10s + 250ms);
  t.feed_chunk(hdr{}.noop().pong("other"), "!");
  EXPECT_FALSE(t.s().last_rtt().has_value()) << "a PONG that does not match our PING";
  t.feed_chunk(hdr{}.noop().pong("tok-1"), "!");
  t.expect_none();
  ASSERT_TRUE(t.s().last_rtt().has_value());
  EXPECT_EQ(*t.s().last_rtt(), 250ms);
  // PONG and PING in one chunk: RTT recorded, then answered.
  t.feed_chunk(hdr{}.noop().pong("tok-1").ping("x"));
  t.expect({pong_chunk("x")});
}

TEST(MuxSession, ZrstResetsCompressorAndContinuesClassification) {
  session_script t(role::connector);
  t.feed_chunk(hdr{}.noop().zrst(), "!");
  t.expect({reset_compressor{}});
  t.feed_chunk(hdr{}.zrst().sid(3), "data");
  t.expect({reset_compressor{}, eof_chunk(3, eof_flags::both)});
}

TEST(MuxSession, NoopForwardsKiteLinesAndQuota) {
  session_script t(role::connector);
  const std::vector<wire::header_field> fields{
      {"X-PageKite-OK", "http:foo.example"},
      {"X-Unknown", "dropped"},
      {"x-pagekite-sessionid", "6b02be47:abc"},
  };
  t.feed_chunk(hdr{}.noop().quota(-3).extra(fields), "!");
  t.expect({control_chunk{-3,
                          {{"X-PageKite-OK", "http:foo.example"},
                           {"x-pagekite-sessionid", "6b02be47:abc"}}}});
  t.feed_chunk(hdr{}.noop().sid(1).skb(0));
  t.feed_chunk(hdr{}.noop().sid(1).eof(eof_flags::both), "x");
  t.feed_chunk(hdr{}.noop(), "!");
  t.expect_none("NOOP without kite lines or quota, data and EOF ignored");
}

// ----------------------------------------------------------------------------------- EOFs

TEST(MuxSession, PeerReadEofThenLocalEofForgets) {
  session_script t(role::connector);
  t.feed_chunk(first_hdr(7), "req");
  t.s().clear_actions();
  t.feed_chunk(hdr{}.sid(7).eof(eof_flags::read), "Bye!");
  t.expect({shutdown_local_write{7}});
  EXPECT_TRUE(t.s().has_stream(7));
  t.feed_chunk(hdr{}.sid(7).eof(eof_flags::read));
  t.expect_none("duplicate EOF");
  t.feed_chunk(hdr{}.sid(7), "late");
  t.expect_none("data after the peer's R is dropped");
  EXPECT_EQ(t.s().on_local_data(7, bytes_of("resp")), std::error_code{});
  t.expect({data_chunk(7, "resp")});
  EXPECT_EQ(t.s().on_local_eof(7), std::error_code{});
  t.expect({eof_chunk(7, eof_flags::read), close_local{7}});
  EXPECT_FALSE(t.s().has_stream(7));
  EXPECT_EQ(t.s().receive_budget_used(), 0U);
  EXPECT_EQ(t.s().on_local_eof(7), make_error_code(errc::unknown_stream));
  t.feed_chunk(hdr{}.sid(7).eof(eof_flags::both));
  t.expect_none("EOF after the stream is gone");
}

TEST(MuxSession, LocalEofThenPeerReadEofForgets) {
  session_script t(role::relay);
  ASSERT_TRUE(t.s().open_stream(visitor, {}).has_value());
  t.s().clear_actions();
  EXPECT_EQ(t.s().on_local_eof(1), std::error_code{});
  t.expect({eof_chunk(1, eof_flags::read)});
  EXPECT_EQ(t.s().on_local_eof(1), std::error_code{});
  t.expect_none("local EOF is sent once");
  EXPECT_EQ(t.s().on_local_data(1, bytes_of("x")), make_error_code(errc::stream_read_closed));
  t.expect_none();
  t.feed_chunk(hdr{}.sid(1), "response");
  t.expect({deliver_of(1, "response")}, "the other direction still flows");
  t.feed_chunk(hdr{}.sid(1).eof(eof_flags::read), "Bye!");
  t.expect({close_local{1}});
  EXPECT_EQ(t.s().stream_count(), 0U);
  EXPECT_EQ(t.s().receive_budget_used(), 0U) << "unwritten bytes released when forgotten";
}

TEST(MuxSession, PeerWriteEofStopsLocalReadThenWriteFailureForgets) {
  session_script t(role::connector);
  t.feed_chunk(first_hdr(3), "req");
  t.s().clear_actions();
  t.feed_chunk(hdr{}.sid(3).eof(eof_flags::write), "Bye!");
  t.expect({stop_local_read{3}});
  EXPECT_EQ(t.s().on_local_data(3, bytes_of("x")), make_error_code(errc::stream_read_closed));
  EXPECT_EQ(t.s().on_local_eof(3), std::error_code{});
  t.expect_none("no R after the peer's W: that direction is already done");
  t.feed_chunk(hdr{}.sid(3), "more");
  t.expect({deliver_of(3, "more")});
  EXPECT_EQ(t.s().on_local_write_failed(3), std::error_code{});
  t.expect({eof_chunk(3, eof_flags::write), close_local{3}});
  EXPECT_EQ(t.s().receive_budget_used(), 0U);
}

TEST(MuxSession, LocalWriteFailureDropsLaterDataThenPeerWriteEofForgets) {
  session_script t(role::connector);
  t.feed_chunk(first_hdr(3), "req");
  t.s().clear_actions();
  EXPECT_EQ(t.s().on_local_write_failed(3), std::error_code{});
  t.expect({eof_chunk(3, eof_flags::write)});
  EXPECT_EQ(t.s().receive_budget_used(), 0U);
  EXPECT_EQ(t.s().on_local_written(3, 3), make_error_code(errc::written_exceeds_delivered));
  t.expect_none("dropped bytes are not acknowledged");
  t.feed_chunk(hdr{}.sid(3), "in flight");
  t.expect_none("dropped after our W");
  EXPECT_EQ(t.s().on_local_data(3, bytes_of("resp")), std::error_code{});
  t.expect({data_chunk(3, "resp")});
  t.feed_chunk(hdr{}.sid(3).eof(eof_flags::write));
  t.expect({close_local{3}});
}

TEST(MuxSession, PeerBothEofFormsCloseDirectly) {
  {
    // "1", "1WR" and "1RW" all decode to eof_flags::both.
    session_script t(role::connector);
    t.feed_chunk(first_hdr(2), "req");
    t.s().clear_actions();
    t.feed_chunk(hdr{}.sid(2).eof(eof_flags::both), "Bye!");
    // A teardown is answered with our own EOF: 1WR, as pagekite.py's connector does; pagekite.py
    // relays hold the next visitor request about 1 s while a stream stays half-open.
    t.expect({eof_chunk(2, eof_flags::both), close_local{2}});
    EXPECT_EQ(t.s().stream_count(), 0U);
    EXPECT_EQ(t.s().receive_budget_used(), 0U);
  }
  // R then W in two chunks.
  session_script t(role::connector);
  t.feed_chunk(first_hdr(2), "req");
  t.s().clear_actions();
  t.feed_chunk(hdr{}.sid(2).eof(eof_flags::read));
  t.feed_chunk(hdr{}.sid(2).eof(eof_flags::write));
  t.expect({shutdown_local_write{2}, close_local{2}});
}

TEST(MuxSession, CloseStreamSendsBothAndForgets) {
  session_script t(role::connector);
  t.feed_chunk(first_hdr(4), "req");
  t.s().clear_actions();
  EXPECT_EQ(t.s().close_stream(4), std::error_code{});
  t.expect({eof_chunk(4, eof_flags::both)});
  EXPECT_EQ(t.s().close_stream(4), make_error_code(errc::unknown_stream));
  EXPECT_EQ(t.s().on_local_written(4, 3), make_error_code(errc::unknown_stream));
  EXPECT_EQ(t.s().receive_budget_used(), 0U);
  t.feed_chunk(hdr{}.sid(4), "in flight");
  t.expect_none("the peer already got our EOF: 1WR");
}

// Spec §5.6 captured tear-down, our connector facing a pagekite.py relay.
TEST(MuxSession, ChattyTeardownConnectorSide) {
  session_script t(role::connector);
  t.feed_chunk(first_hdr(7), "GET /hello HTTP/1.1\r\nHost: foo.example\r\n\r\n");
  t.expect({open_of(7), deliver_of(7, "GET /hello HTTP/1.1\r\nHost: foo.example\r\n\r\n")});
  EXPECT_EQ(t.s().on_local_written(7, 42), std::error_code{});
  t.expect({skb_chunk(7, 0)}, "BE wrote the request to the origin");
  t.s().on_local_data(7, bytes_of("HTTP/1.0 200 OK\r\n\r\n"));
  t.s().on_local_data(7, bytes_of("origin saw: GET /hello"));
  t.expect({data_chunk(7, "HTTP/1.0 200 OK\r\n\r\n"), data_chunk(7, "origin saw: GET /hello")});
  t.s().on_local_eof(7);
  t.expect({eof_chunk(7, eof_flags::read)});
  t.feed_chunk(hdr{}.noop().sid(7).skb(0));
  t.feed_chunk(hdr{}.noop().sid(7).skb(0));
  t.feed_chunk(hdr{}.sid(7), "");
  t.expect_none("SKBs and the empty data chunk");
  t.feed_chunk(hdr{}.sid(7).eof(eof_flags::read));
  t.expect({close_local{7}}, "visitor closed: both halves done");
  t.feed_chunk(hdr{}.sid(7).eof(eof_flags::both), "Bye!");
  t.expect_none("FE tore the stream down: already forgotten");
  EXPECT_EQ(t.s().stream_count(), 0U);
}

// Spec §5.6 captured tear-down, our relay facing a pagekite.py connector.
TEST(MuxSession, ChattyTeardownRelaySide) {
  session_script t(role::relay);
  const std::string req = "GET /hello HTTP/1.1\r\nHost: foo.example\r\n\r\n";
  ASSERT_EQ(*t.s().open_stream(visitor, bytes_of(req)), 1U);
  t.expect({first_chunk(1, "http", "foo.example", 18880, "127.0.0.1", 41136, false, req)});
  t.feed_chunk(hdr{}.noop().sid(1).skb(0));
  t.expect_none();
  EXPECT_EQ(t.s().unacked_bytes(1), req.size());
  t.feed_chunk(hdr{}.sid(1), "HTTP/1.0 200 OK\r\n\r\n");
  t.feed_chunk(hdr{}.sid(1), "origin saw: GET /hello");
  t.feed_chunk(hdr{}.sid(1), "");
  t.expect({deliver_of(1, "HTTP/1.0 200 OK\r\n\r\n"), deliver_of(1, "origin saw: GET /hello")});
  t.feed_chunk(hdr{}.sid(1).eof(eof_flags::read), "Bye!");
  t.expect({shutdown_local_write{1}});
  t.s().on_local_written(1, 19);
  t.expect_none("19 of 41 bytes written: under the threshold, not drained");
  t.s().on_local_written(1, 22);
  t.expect({skb_chunk(1, 0)}, "FE wrote the whole response to the visitor");
  t.s().on_local_eof(1);
  t.expect({eof_chunk(1, eof_flags::read), close_local{1}});
  t.feed_chunk(hdr{}.sid(1).eof(eof_flags::both), "Bye!");
  t.expect_none("BE's EOF: 1WR after the stream is gone");
  EXPECT_EQ(t.s().close_stream(1), make_error_code(errc::unknown_stream));
  t.expect_none();
}

// --------------------------------------------------------------------------- flow control

TEST(MuxSession, SendWindowPausesAtExactlyTheWindowAndSkbResumes) {
  session_limits l;
  l.stream_send_window = 4096;
  l.max_chunk_data = 1024;
  session_script t(role::relay, l);
  ASSERT_TRUE(t.s().open_stream(visitor, {}).has_value());
  t.s().clear_actions();
  const std::string block(4095, 'a');
  t.s().on_local_data(1, bytes_of(block));
  ASSERT_EQ(t.s().actions().size(), 4U) << "4095 bytes in 1024-byte chunks, no pause";
  t.s().clear_actions();
  t.s().on_local_data(1, bytes_of("b"));
  t.expect({data_chunk(1, "b"), pause_local_read{1}});
  EXPECT_EQ(t.s().unacked_bytes(1), 4096U);
  t.s().on_local_data(1, bytes_of("c"));
  t.expect({data_chunk(1, "c")}, "already paused: no second pause");
  t.feed_chunk(hdr{}.noop().sid(1).skb(0));
  t.expect_none("SKB 0 leaves 4097 unacked");
  t.feed_chunk(hdr{}.noop().sid(1).skb(1));
  t.expect({resume_local_read{1}});
  EXPECT_EQ(t.s().unacked_bytes(1), 4097U - 1024U);
  t.feed_chunk(hdr{}.noop().sid(1).skb(0));
  EXPECT_EQ(t.s().unacked_bytes(1), 3073U) << "a stale SKB does not shrink the ack";
  t.feed_chunk(hdr{}.noop().sid(1).skb(1'000'000'000'000ULL));
  EXPECT_EQ(t.s().unacked_bytes(1), 0U) << "a bogus SKB is clamped to what was sent";
  t.expect_none();
  t.s().on_local_data(1, bytes_of(block));
  t.s().clear_actions();
  t.s().on_local_data(1, bytes_of("d"));
  t.expect({data_chunk(1, "d"), pause_local_read{1}});
}

TEST(MuxSession, DataFramedByTheDriverCountsLikeDataButEmitsNoChunks) {
  session_limits l;
  l.stream_send_window = 4096;
  l.max_chunk_data = 1024;
  session_script t(role::relay, l);
  ASSERT_TRUE(t.s().open_stream(visitor, {}).has_value());
  t.s().clear_actions();
  EXPECT_EQ(t.s().max_chunk_data(), 1024U);
  EXPECT_FALSE(t.s().on_local_data_framed(1, 4095));
  t.expect_none("framed in place: no send_chunk, window not yet full");
  EXPECT_EQ(t.s().unacked_bytes(1), 4095U);
  EXPECT_FALSE(t.s().on_local_data_framed(1, 1));
  t.expect({pause_local_read{1}});
  t.feed_chunk(hdr{}.noop().sid(1).skb(4096));
  t.expect({resume_local_read{1}});
  EXPECT_EQ(t.s().on_local_data_framed(2, 10), make_error_code(errc::unknown_stream));
  EXPECT_FALSE(t.s().on_local_eof(1));
  t.s().clear_actions();
  EXPECT_EQ(t.s().on_local_data_framed(1, 10), make_error_code(errc::stream_read_closed));
  t.expect_none();
}

TEST(MuxSession, SkbCadenceEvery16KiBAndOnDrain) {
  session_script t(role::connector);  // ack_threshold 16 KiB
  t.feed_chunk(first_hdr(1));
  t.s().clear_actions();
  const std::string piece(40 * 1024, 'z');
  t.feed_chunk(hdr{}.sid(1), piece);
  t.s().clear_actions();
  std::vector<action> skbs;
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(t.s().on_local_written(1, 4096), std::error_code{});
    for (const auto& a : t.s().actions()) {
      skbs.push_back(a);
    }
    t.s().clear_actions();
  }
  std::vector<action> want{skb_chunk(1, 16), skb_chunk(1, 32), skb_chunk(1, 40)};
  EXPECT_EQ(describe_all(skbs), describe_all(want));
  EXPECT_EQ(t.s().on_local_written(1, 0), std::error_code{});
  t.expect_none("nothing new written: no SKB");
  t.feed_chunk(hdr{}.sid(1), "tail of 100 bytes...............................................");
  t.s().clear_actions();
  t.s().on_local_written(1, 10);
  t.expect_none("partial, under the threshold");
  EXPECT_EQ(t.s().on_local_written(1, 1000), make_error_code(errc::written_exceeds_delivered));
  t.expect({skb_chunk(1, 40)}, "drained: floor(41024/1024) = 40");
  EXPECT_EQ(t.s().receive_budget_used(), 0U);
}

TEST(MuxSession, WithoutDrainAcksSkbOnlyEveryThreshold) {
  // A relay's setting toward a kiteline connector: SKB every 256 KiB written, none on drain.
  session_limits l;
  l.ack_threshold = 256 * 1024;
  l.ack_on_drain = false;
  session_script t(role::connector, l);
  t.feed_chunk(first_hdr(1));
  t.s().clear_actions();
  const std::string piece(100 * 1024, 'z');
  std::vector<action> skbs;
  for (int i = 0; i < 6; ++i) {  // 600 KiB delivered and written, 100 KiB at a time
    t.feed_chunk(hdr{}.sid(1), piece);
    t.s().clear_actions();
    EXPECT_EQ(t.s().on_local_written(1, piece.size()), std::error_code{});
    for (const auto& a : t.s().actions()) {
      skbs.push_back(a);
    }
    t.s().clear_actions();
  }
  std::vector<action> want{skb_chunk(1, 300), skb_chunk(1, 600)};
  EXPECT_EQ(describe_all(skbs), describe_all(want)) << "drained after every piece, acked twice";
  EXPECT_EQ(t.s().receive_budget_used(), 0U);
}

TEST(MuxSession, GlobalReceiveBudgetPausesAndResumesAtHalf) {
  session_limits l;
  l.receive_budget = 8192;
  session_script t(role::connector, l);
  const std::string a(8192, 'a');
  t.feed_chunk(first_hdr(1), a);
  t.expect({open_of(1), deliver_of(1, a)}, "exactly the budget is not exceeded");
  t.feed_chunk(first_hdr(2), "x");
  t.expect({open_of(2), deliver_of(2, "x"), pause_tunnel_read{}});
  EXPECT_TRUE(t.s().tunnel_read_paused());
  t.feed_chunk(hdr{}.sid(2), "y");
  t.expect({deliver_of(2, "y")}, "paused once");
  t.s().on_local_written(1, 4096);
  t.expect_none("4098 unwritten > 4096");
  t.s().on_local_written(2, 2);
  t.expect({skb_chunk(2, 0), resume_tunnel_read{}});
  EXPECT_EQ(t.s().receive_budget_used(), 4096U);
  EXPECT_FALSE(t.s().tunnel_read_paused());
}

TEST(MuxSession, ForgettingAStreamReleasesBudgetAndResumes) {
  session_limits l;
  l.receive_budget = 100;
  session_script t(role::connector, l);
  const std::string a(101, 'a');
  t.feed_chunk(first_hdr(1), a);
  t.expect({open_of(1), deliver_of(1, a), pause_tunnel_read{}});
  t.feed_chunk(hdr{}.sid(1).eof(eof_flags::both));
  t.expect({eof_chunk(1, eof_flags::both), close_local{1}, resume_tunnel_read{}});
  EXPECT_EQ(t.s().receive_budget_used(), 0U);
}

// The budget full and not draining for evict_after: the largest holder is evicted, one per
// evict_after, until the tunnel resumes. Without it, streams whose readers stopped hold the
// budget and every other stream of the tunnel waits (a client reading its connections in
// turn deadlocks).
TEST(MuxSession, StalledBudgetEvictsTheLargestHolderEachInterval) {
  session_limits l;
  l.receive_budget = 1000;
  l.evict_after = 10s;
  l.stalled_after = {};  // the fallback alone (the fair-share rule has its own tests)
  session_script t(role::connector, l);
  const auto t0 = session_script::t0;
  t.s().on_tunnel_bytes_received(t0 + 1s);
  t.feed_chunk(first_hdr(1), std::string(300, 'a'));
  t.feed_chunk(first_hdr(2), std::string(500, 'b'));
  t.feed_chunk(first_hdr(3), std::string(350, 'c'));
  ASSERT_TRUE(t.s().tunnel_read_paused());
  t.s().clear_actions();
  t.s().on_local_written(1, 100);  // stream 1 drains a little: 200 left; budget 1050
  t.expect_none("below the ack threshold, not drained");
  t.s().on_timer(t0 + 10s);
  t.expect_none("paused 9 s");
  t.s().on_timer(t0 + 11s);
  t.expect({evict_local{2, 500}, eof_chunk(2, eof_flags::both)},
           "paused 10 s: stream 2 holds the most; 550 left, not yet half");
  EXPECT_FALSE(t.s().has_stream(2));
  EXPECT_EQ(t.s().receive_budget_used(), 550U);
  EXPECT_TRUE(t.s().tunnel_read_paused());
  t.s().on_timer(t0 + 20s);
  t.expect_none("the next eviction waits another 10 s");
  t.s().on_timer(t0 + 21s);
  t.expect({evict_local{3, 350}, eof_chunk(3, eof_flags::both), resume_tunnel_read{}});
  EXPECT_EQ(t.s().receive_budget_used(), 200U);
  EXPECT_FALSE(t.s().tunnel_read_paused());
  t.s().on_timer(t0 + 99s);
  t.expect_none("not paused: nothing more is evicted");
  // Data still in flight for an evicted stream is dropped, not answered with a second EOF.
  t.feed_chunk(hdr{}.sid(2), "late");
  t.expect_none("late data for the evicted stream");
  EXPECT_EQ(t.s().receive_budget_used(), 200U);
}

TEST(MuxSession, EvictionTiesGoToTheLowestSidAndZeroDisablesIt) {
  session_limits l;
  l.receive_budget = 100;
  l.evict_after = 5s;
  l.stalled_after = {};  // the fallback alone
  session_script t(role::connector, l);
  const auto t0 = session_script::t0;
  t.s().on_tunnel_bytes_received(t0);
  for (sid_t sid : {40U, 7U, 19U}) {
    t.feed_chunk(first_hdr(sid), std::string(60, 'x'));
  }
  t.s().clear_actions();
  t.s().on_timer(t0 + 5s);
  t.expect({evict_local{7, 60}, eof_chunk(7, eof_flags::both)});

  l.evict_after = {};
  session_script u(role::connector, l);
  u.s().on_tunnel_bytes_received(t0);
  u.feed_chunk(first_hdr(1), std::string(101, 'x'));
  u.s().clear_actions();
  u.s().on_timer(t0 + 100s);
  u.expect_none("evict_after zero: never");
  EXPECT_TRUE(u.s().tunnel_read_paused());
}

// Hostile-peer row 3: visitors that never read fill the receive budget. When it overflows, every
// stream holding at least its share (budget / streams holding bytes) that has not drained for
// stalled_after is evicted at once, and the tunnel keeps reading: no pause at all.
TEST(MuxSession, OverflowEvictsStalledHoldersOfTheirShareAtOnce) {
  session_limits l;
  l.receive_budget = 1000;
  l.stalled_after = 2s;
  session_script t(role::connector, l);
  const auto t0 = session_script::t0;
  t.s().on_tunnel_bytes_received(t0);
  t.feed_chunk(first_hdr(1), std::string(400, 'a'));  // never read
  t.feed_chunk(first_hdr(2), std::string(400, 'b'));  // never read
  t.feed_chunk(first_hdr(3), std::string(100, 'c'));  // a reader that keeps up
  t.s().clear_actions();
  t.s().on_local_written(3, 100);
  t.s().clear_actions();
  t.s().on_tunnel_bytes_received(t0 + 3s);
  t.feed_chunk(hdr{}.sid(3), std::string(250, 'd'));
  // 1050 > 1000 held by 3 streams: share 333. Streams 1 and 2 hold 400 and have not drained
  // since t0 (3 s > 2 s); stream 3 holds 250 < share and drained just now. Evicting one (the
  // lowest SID of the two largest) is enough to be back under the budget.
  t.expect({deliver_of(3, std::string(250, 'd')), evict_local{1, 400, evict_reason::stalled_share},
            eof_chunk(1, eof_flags::both)},
           "one stalled holder goes at once; no pause");
  EXPECT_FALSE(t.s().tunnel_read_paused());
  EXPECT_EQ(t.s().receive_budget_used(), 650U);
  EXPECT_FALSE(t.s().has_stream(1));
  EXPECT_TRUE(t.s().has_stream(2));
  EXPECT_TRUE(t.s().has_stream(3));
  // The next overflow: stream 3 (650) is over its share (500) but drained at 3 s; stream 2
  // (400) is under it. Nobody qualifies: the tunnel pauses.
  t.feed_chunk(hdr{}.sid(3), std::string(400, 'e'));
  t.expect({deliver_of(3, std::string(400, 'e')), pause_tunnel_read{}});
  // Paused, the target is half the budget (500): share 250. Stream 2 has sat on 400 since t0.
  t.s().check_stalled(t0 + 4s);
  t.expect({evict_local{2, 400, evict_reason::stalled_share}, eof_chunk(2, eof_flags::both)},
           "650 left, still above half: paused");
  EXPECT_TRUE(t.s().tunnel_read_paused());
  t.s().check_stalled(t0 + 4900ms);
  t.expect_none("stream 3 stalled 1.9 s");
  t.s().check_stalled(t0 + 5s);
  t.expect({evict_local{3, 650, evict_reason::stalled_share}, eof_chunk(3, eof_flags::both),
            resume_tunnel_read{}});
  EXPECT_EQ(t.s().receive_budget_used(), 0U);
}

// A stream that drained recently is not evicted even if it holds a lot: the budget pauses the
// tunnel as before (back-pressure), and a later tick evicts it only once it has not drained for
// stalled_after.
TEST(MuxSession, RecentlyDrainedHoldersPauseTheTunnelInsteadUntilStalled) {
  session_limits l;
  l.receive_budget = 1000;
  l.stalled_after = 2s;
  l.evict_after = 60s;
  session_script t(role::connector, l);
  const auto t0 = session_script::t0;
  t.s().on_tunnel_bytes_received(t0);
  t.feed_chunk(first_hdr(1), std::string(600, 'a'));
  t.feed_chunk(first_hdr(2), std::string(300, 'b'));
  t.s().clear_actions();
  t.s().on_tunnel_bytes_received(t0 + 1s);
  t.feed_chunk(hdr{}.sid(2), std::string(200, 'c'));
  t.expect({deliver_of(2, std::string(200, 'c')), pause_tunnel_read{}},
           "1100 held, but nobody is stalled for 2 s yet");
  t.s().on_timer(t0 + 1500ms);
  t.expect_none("1.5 s without draining: not yet");
  t.s().on_local_written(2, 100);  // stream 2 moves but does not drain
  t.s().clear_actions();
  t.s().on_timer(t0 + 2s);
  // Held: 1 = 600, 2 = 400; share 500: stream 1 (600, not drained since t0) goes.
  t.expect({evict_local{1, 600, evict_reason::stalled_share}, eof_chunk(1, eof_flags::both),
            resume_tunnel_read{}},
           "stream 1 stalled for 2 s with more than its share");
  EXPECT_EQ(t.s().receive_budget_used(), 400U);
  EXPECT_TRUE(t.s().has_stream(2));
}

TEST(MuxSession, StalledAfterZeroNeverEvictsAtOnce) {
  session_limits l;
  l.receive_budget = 100;
  l.stalled_after = {};
  l.evict_after = {};
  l.ping_interval = 48h;  // no PING in the way
  session_script t(role::connector, l);
  const auto t0 = session_script::t0;
  t.s().on_tunnel_bytes_received(t0);
  t.feed_chunk(first_hdr(1), std::string(101, 'x'));
  t.s().clear_actions();
  EXPECT_TRUE(t.s().tunnel_read_paused());
  t.s().on_timer(t0 + 1h);
  t.expect_none("both eviction rules off");
}

// Hostile-peer row 8: a visitor sends its request and closes; the origin never answers. The
// half-closed stream is reaped after half_closed_timeout of silence (pagekite.py: 120 s), with
// EOF: 1WR to the peer; any byte moving in the open direction restarts the clock.
TEST(MuxSession, HalfClosedSilentStreamsAreReaped) {
  session_limits l;
  l.half_closed_timeout = 120s;
  l.ping_interval = 48h;  // no PING in the way
  session_script t(role::relay, l);
  const auto t0 = session_script::t0;
  auto a = t.s().open_stream(visitor, bytes_of("GET /hang HTTP/1.1\r\n\r\n"));
  auto b = t.s().open_stream(visitor, bytes_of("GET /slow HTTP/1.1\r\n\r\n"));
  auto c = t.s().open_stream(visitor, bytes_of("GET /open HTTP/1.1\r\n\r\n"));
  ASSERT_TRUE(a && b && c);
  ASSERT_FALSE(t.s().on_local_eof(*a));
  ASSERT_FALSE(t.s().on_local_eof(*b));
  t.s().clear_actions();
  t.s().on_tunnel_bytes_received(t0 + 100s);
  t.feed_chunk(hdr{}.sid(*b), "HTTP/1.1 200 OK\r\n");  // b's origin is slow, not silent
  t.s().clear_actions();
  t.s().on_timer(t0 + 119s);
  t.expect_none("119 s");
  t.s().on_timer(t0 + 120s);
  t.expect({reap_local{*a, reap_reason::half_closed}, eof_chunk(*a, eof_flags::both)},
           "a: half-closed and silent for 120 s; c is not half-closed");
  EXPECT_FALSE(t.s().has_stream(*a));
  t.s().on_timer(t0 + 219s);
  t.expect_none("b's clock restarted at 100 s");
  t.s().on_timer(t0 + 220s);
  t.expect({reap_local{*b, reap_reason::half_closed}, eof_chunk(*b, eof_flags::both)});
  EXPECT_TRUE(t.s().has_stream(*c));
  t.feed_chunk(hdr{}.sid(*a), "late");
  t.expect_none("late data for a reaped stream gets no second EOF");
}

TEST(MuxSession, IdleStreamsAreReapedOnlyWithAnIdleTimeout) {
  session_limits l;
  l.half_closed_timeout = {};
  l.ping_interval = 48h;  // no PING in the way
  session_script t(role::connector, l);
  const auto t0 = session_script::t0;
  t.s().on_tunnel_bytes_received(t0);
  t.feed_chunk(first_hdr(5), "hello");
  t.s().clear_actions();
  t.s().on_timer(t0 + 24h);
  t.expect_none("no idle timeout by default");

  l.idle_timeout = 30s;
  session_script u(role::connector, l);
  u.s().on_tunnel_bytes_received(t0);
  u.feed_chunk(first_hdr(5), "hello");
  u.feed_chunk(first_hdr(6), "hello");
  u.s().clear_actions();
  u.s().on_timer(t0 + 20s);
  ASSERT_FALSE(u.s().on_local_data(6, bytes_of("reply")));  // 6 answers at 20 s
  u.s().clear_actions();
  u.s().on_timer(t0 + 30s);
  u.expect({reap_local{5, reap_reason::idle}, eof_chunk(5, eof_flags::both)});
  u.s().on_timer(t0 + 50s);
  u.expect({reap_local{6, reap_reason::idle}, eof_chunk(6, eof_flags::both)});
}


// ---------------------------------------------------------------------------- keepalive

TEST(MuxSession, TimerPingsWhenIdleAndDetectsDeadTunnel) {
  session_limits l;
  l.ping_interval = 116s;
  l.dead_after = 40s;
  session_script t(role::connector, l);
  const auto t0 = session_script::t0;
  t.s().on_timer(t0 + 115s);
  t.expect_none("not idle long enough");
  t.s().on_tunnel_bytes_received(t0 + 100s);
  t.s().on_timer(t0 + 215s);
  t.expect_none("idle 115 s since the last bytes");
  t.s().on_timer(t0 + 216s, "my-token");
  t.expect({ping_chunk("my-token")});
  t.s().on_timer(t0 + 255s);
  t.expect_none("ping outstanding 39 s: not dead, no second ping");
  t.s().on_tunnel_bytes_received(t0 + 250s);
  t.s().on_timer(t0 + 260s);
  t.expect_none("bytes arrived: alive again");
  t.s().on_timer(t0 + 366s);
  ASSERT_EQ(t.s().actions().size(), 1U);
  t.s().clear_actions();
  t.s().on_timer(t0 + 405s);
  t.expect_none();
  t.s().on_timer(t0 + 406s);
  t.expect({tunnel_dead{}});
  t.s().on_timer(t0 + 999s);
  t.expect_none("dead is reported once");
}

TEST(MuxSession, DefaultPingValueIsTimeWithFourDecimals) {
  session_limits l;
  l.ping_interval = 1s;
  session_script t(role::connector, l);
  t.s().on_timer(time_point{} + 1795342288s + 644'612us);
  t.expect({ping_chunk("1795342288.6446")});
  session_script u(role::connector, l);
  u.s().on_timer(session_script::t0 + 2s, std::string(80, 'p'));
  u.expect({ping_chunk(std::string(64, 'p'))});
}

// ----------------------------------------------------------------------------- tunnel loss

TEST(MuxSession, TunnelLossClosesEveryStream) {
  session_script t(role::connector);
  for (sid_t sid : {9U, 3U, 27U}) {
    t.feed_chunk(first_hdr(sid), "x");
  }
  t.s().clear_actions();
  t.s().on_tunnel_lost();
  t.expect({close_local{3}, close_local{9}, close_local{27}});
  EXPECT_EQ(t.s().stream_count(), 0U);
  EXPECT_EQ(t.s().receive_budget_used(), 0U);
}

// ----------------------------------------------------------------------- streamed chunks

std::vector<std::string> run_split(role r, const std::vector<std::size_t>& cuts,
                                   const wire::chunk_headers& h, std::string_view data,
                                   bool prime_stream, session_limits l = {}) {
  session s(r, l, session_script::t0);
  if (prime_stream) {
    s.on_chunk(first_hdr(5), {}, true);
    s.clear_actions();
  }
  std::size_t at = 0;
  std::vector<std::size_t> ends = cuts;
  ends.push_back(data.size());
  bool first = true;
  for (std::size_t end : ends) {
    auto piece = bytes_of(data.substr(at, end - at));
    const bool last = end == data.size() && &end == &ends.back();
    if (first) {
      s.on_chunk(h, piece, last);
      first = false;
    } else {
      EXPECT_EQ(s.on_chunk_data(piece, last), std::error_code{});
    }
    at = end;
  }
  EXPECT_TRUE(s.check_invariants_for_test());
  return describe_all(s.actions(), true);
}

TEST(MuxSession, ChunkSplitInPiecesBehavesLikeOnePiece) {
  const std::string data = "HTTP/1.0 200 OK\r\n\r\nhello";
  struct scenario {
    const char* name;
    role r;
    hdr h;
    bool prime;
    session_limits l;
  };
  session_limits small_budget;
  small_budget.receive_budget = 10;
  const std::vector<scenario> scenarios{
      {"known SID", role::connector, hdr{}.sid(5), true, {}},
      {"known SID over budget", role::connector, hdr{}.sid(5), true, small_budget},
      {"new stream", role::connector, first_hdr(8), false, {}},
      {"relay refuses new stream", role::relay, first_hdr(8), false, {}},
      {"unknown SID", role::connector, hdr{}.sid(6), false, {}},
      {"ping", role::connector, hdr{}.ping("p"), false, {}},
      {"noop", role::connector, hdr{}.noop().sid(5).skb(0).quota(5), true, {}},
      {"eof", role::connector, hdr{}.sid(5).eof(eof_flags::both), true, {}},
  };
  for (const auto& sc : scenarios) {
    SCOPED_TRACE(sc.name);
    const auto whole = run_split(sc.r, {}, sc.h, data, sc.prime, sc.l);
    EXPECT_FALSE(whole.empty());
    for (std::size_t cut = 0; cut <= data.size(); ++cut) {
      EXPECT_EQ(run_split(sc.r, {cut}, sc.h, data, sc.prime, sc.l), whole) << "cut " << cut;
    }
    std::vector<std::size_t> every;
    for (std::size_t i = 0; i <= data.size(); ++i) {
      every.push_back(i);  // an empty first piece, then byte by byte, then an empty last piece
    }
    EXPECT_EQ(run_split(sc.r, every, sc.h, data, sc.prime, sc.l), whole) << "byte by byte";
  }
}

TEST(MuxSession, EmptyChunkInPiecesIsStillIgnoredForUnknownSid) {
  session_script t(role::connector);
  t.s().on_chunk(hdr{}.sid(6), {}, false);
  t.s().on_chunk_data({}, false);
  t.s().on_chunk_data({}, true);
  t.expect_none();
}

TEST(MuxSession, ChunkDataWithoutChunkAndInterruptedChunk) {
  session_script t(role::connector);
  EXPECT_EQ(t.s().on_chunk_data(bytes_of("x"), true),
            make_error_code(errc::no_chunk_in_progress));
  t.feed_chunk(first_hdr(1));
  t.s().clear_actions();
  EXPECT_EQ(t.s().on_chunk(hdr{}.sid(1), bytes_of("ab"), false), std::error_code{});
  EXPECT_EQ(t.s().on_chunk(hdr{}.sid(2), bytes_of("cd"), true),
            make_error_code(errc::chunk_interrupted));
  t.expect({deliver_of(1, "ab"), eof_chunk(2, eof_flags::both)});
  EXPECT_EQ(t.s().on_chunk_data(bytes_of("x"), true),
            make_error_code(errc::no_chunk_in_progress));
}

// ------------------------------------------------------------------------------ misc API

TEST(MuxSession, OutgoingHeadersViewMirrorsOwnedFields) {
  send_chunk c = first_chunk(12, "https", "a.example", 443, "::1", 7, true, "");
  c.headers.eof = eof_flags::read;
  c.headers.skb = 9;
  c.headers.ping = "pi";
  c.headers.pong = "po";
  const wire::chunk_headers v = c.headers.view();
  EXPECT_EQ(v.sid, 12U);
  EXPECT_EQ(v.proto, "https");
  EXPECT_EQ(v.host, "a.example");
  EXPECT_EQ(v.port, 443U);
  EXPECT_EQ(v.rip, "::1");
  EXPECT_EQ(v.rport, 7U);
  EXPECT_TRUE(v.rtls);
  EXPECT_EQ(v.eof, eof_flags::read);
  EXPECT_EQ(v.skb, 9U);
  EXPECT_EQ(v.ping, "pi");
  EXPECT_EQ(v.pong, "po");
  EXPECT_FALSE(v.noop);
  EXPECT_EQ(v.proto.data(), c.headers.proto.data()) << "a view, not a copy";
}

TEST(MuxErrc, EveryValueHasAMessageInTheMuxCategory) {
  EXPECT_STREQ(mux_category().name(), "kiteline.mux");
  for (int v = 0; v <= static_cast<int>(errc::written_exceeds_delivered); ++v) {
    const std::error_code ec = make_error_code(static_cast<errc>(v));
    EXPECT_EQ(&ec.category(), &mux_category());
    EXPECT_NE(ec.message(), "unknown kiteline.mux error") << v;
  }
  EXPECT_EQ(make_error_code(static_cast<errc>(999)).message(), "unknown kiteline.mux error");
  const std::error_code ec = errc::unknown_stream;
  EXPECT_EQ(ec, make_error_code(errc::unknown_stream));
}

}  // namespace
}  // namespace kiteline::mux::test
