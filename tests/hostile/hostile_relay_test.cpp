// A hostile relay against a connector process (row 9): the test plays the relay, accepts the
// connector's tunnel with an OK for its kite, then opens streams as fast as it can. The
// connector's origin connections stay at --max_conns; the streams beyond get pagekite.py's
// refusal.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>
#include <utility>

#include "hostile/hostile_support.hpp"
#include "support/connector_fixture.hpp"
#include "support/loopback_relay.hpp"
#include "support/raw_tls13_peer.hpp"
#include "wire/handshake.hpp"
#include "wire/ping.hpp"

namespace kiteline::hostile {
namespace {

/// A listening socket on 127.0.0.1 (ephemeral port) that plays the relay for one connector.
class fake_relay {
 public:
  fake_relay() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(fd_, 16);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  ~fake_relay() {
    stop_ = true;
    if (reader_.joinable()) {
      reader_.join();
    }
    if (conn_ >= 0) {
      ::close(conn_);
    }
    ::close(fd_);
  }
  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }

  /// Accepts the tunnel, answers OK for every kite it asks for, then drains what the
  /// connector sends on a thread of its own.
  /// Accepts the connector's connection, answering its relay pings (spec §3) on the way;
  /// returns the first head that is not a ping ("" on a timeout).
  std::string accept_past_pings() {
    for (int attempt = 0; attempt < 8; ++attempt) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 20000) <= 0) {
        return {};
      }
      conn_ = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (conn_ < 0) {
        return {};
      }
      std::string head = read_head(conn_, 10000ms);
      if (!wire::is_ping_request(head)) {
        return head;
      }
      (void)send_all(conn_, wire::format_ping_reply("0123456789abcdef0123456789abcdef01234567"));
      ::close(conn_);
      conn_ = -1;
    }
    return {};
  }

  /// OK for every kite of the request `head`.
  static std::string ok_response(const std::string& head) {
    auto req = wire::parse_handshake_request(head);
    if (!req) {
      return {};
    }
    wire::handshake_response resp;
    for (const auto& k : req->kites) {
      resp.results.push_back({wire::kite_status::ok, wire::kite_key(k), {}, {}});
    }
    resp.protos = {"http"};
    resp.ports = {"80"};
    resp.session_id = "1:2";
    return wire::format_handshake_response(resp);
  }

  bool accept_tunnel() {
    const std::string response = ok_response(accept_past_pings());
    if (response.empty() || !send_all(conn_, response)) {
      return false;
    }
    reader_ = std::thread([this] {
      char buf[65536];
      while (!stop_) {
        pollfd q{conn_, POLLIN, 0};
        if (::poll(&q, 1, 100) <= 0) {
          continue;
        }
        const ssize_t n = ::recv(conn_, buf, sizeof buf, 0);
        if (n <= 0) {
          break;
        }
        received_ += static_cast<std::uint64_t>(n);
      }
    });
    return true;
  }
  [[nodiscard]] int conn() const noexcept { return conn_; }
  /// Hands the accepted connection over (the caller closes it).
  int take_conn() noexcept { return std::exchange(conn_, -1); }
  [[nodiscard]] std::uint64_t received() const noexcept { return received_.load(); }

 private:
  int fd_ = -1;
  int conn_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> received_{0};
  std::thread reader_;
};

// Row 9: a hostile relay opens 20 000 streams as fast as it can. Today the connector opened
// 16 384 origin connections (117 MB); now it opens at most --max_conns (default 4096) and
// refuses the rest with the unavailable page and EOF.
TEST(HostileRelayAgainstConnector, Row9StreamFloodStopsAtMaxConns) {
  raise_fd_limit();
  silent_origin origin;
  fake_relay relay;
  process connector({"--frontend=127.0.0.1:" + std::to_string(relay.port()),
                     "--service_on=http:foo.test:127.0.0.1:" + std::to_string(origin.port()) +
                         ":s3cret",
                     "--logfile=stdio"});
  ASSERT_TRUE(relay.accept_tunnel()) << connector.tail();
  ASSERT_TRUE(connector.wait_output({"kiteline connector: kite", "live"}));
  const std::uint64_t base = connector.rss_kib();

  std::string burst;
  constexpr int streams = 20000;
  for (int sid = 1; sid <= streams; ++sid) {
    burst += frame("SID: " + std::to_string(sid) +
                   "\r\nProto: http\r\nHost: foo.test\r\nPort: 80\r\nRIP: 127.0.0.1\r\nRPort: " +
                   std::to_string(1000 + sid % 50000) +
                   "\r\n\r\nGET / HTTP/1.1\r\nHost: foo.test\r\n\r\n");
  }
  const auto r = flood(relay.conn(), burst, std::chrono::seconds(30), burst.size(), 10000ms);
  EXPECT_EQ(r.sent, burst.size()) << "the connector stopped reading the tunnel";
  // Every stream was either connected to the origin or refused.
  EXPECT_TRUE(test::wait_for(
      [&] { return origin.accepted() >= 4096 && connector.count("--max_conns=4096") >= 1; },
      30000ms, "the origin at max_conns"))
      << origin.accepted() << "\n" << connector.tail();
  const std::uint64_t peak = connector.peak_rss_kib();
  report("row 9 stream flood", "streams opened by the relay / origin connections",
         std::to_string(streams) + " / " + std::to_string(origin.open()));
  report("row 9 stream flood", "connector RSS before / peak", mib(base) + " / " + mib(peak));
  EXPECT_LE(origin.open(), 4096U);
  EXPECT_LE(origin.accepted(), 4096U);
  EXPECT_LE(connector.fd_count(), 4096U + 32U);
  EXPECT_LT(peak, base + 64 * 1024) << mib(peak) << " against " << mib(base);
  // The refused streams were answered (the unavailable page and EOF), not dropped silently.
  EXPECT_TRUE(test::wait_for([&] { return relay.received() > 0; }, 10000ms, "refusals"));
}

// Row 5, the connector's side: a relay (over a verified TLS tunnel, pagekite.py's CONNECT
// preamble) asks the connector's origin for 64 MiB, stops reading, and sends
// KeyUpdate(update_requested) records. Today the connector grew from 15 to 55 MB; now it owes
// one answer for any number of requests and its memory stays flat.
TEST(HostileRelayAgainstConnector, Row5KeyUpdateFloodOverTheTunnel) {
  raise_fd_limit();
  test::test_cert cert({"relay.test"});
  test::http_origin origin;
  fake_relay relay;
  process connector({"--frontend=127.0.0.1:" + std::to_string(relay.port()),
                     "--fe_certname=relay.test", "--ca_certs=" + cert.cert_file(),
                     "--service_on=http:foo.test:127.0.0.1:" + std::to_string(origin.port()) +
                         ":s3cret",
                     "--logfile=stdio"});
  const std::string preamble = relay.accept_past_pings();
  ASSERT_EQ(preamble.rfind("CONNECT relay.test:443 ", 0), 0U) << preamble << connector.tail();
  ASSERT_TRUE(send_all(relay.conn(), "HTTP/1.0 200 Connection Established\r\n\r\n"));
  test::raw_tls13_peer::options server;
  server.pem_file = cert.pem_file();
  test::raw_tls13_peer p(relay.take_conn(), test::raw_tls13_peer::role::server, server);
  ASSERT_TRUE(p.ok()) << p.error() << connector.tail();
  std::string request;
  while (request.find("\r\n\r\n") == std::string::npos) {
    auto r = p.read_record();
    ASSERT_TRUE(r) << p.ended_by << connector.tail();
    if (r->opened && r->type == test::raw_tls13_peer::application_data) {
      request.append(test::as_text(r->content));
    }
  }
  ASSERT_TRUE(p.send_data(test::as_bytes(fake_relay::ok_response(request))));
  ASSERT_TRUE(connector.wait_output({"kiteline connector: kite", "live"}));
  ASSERT_TRUE(p.send_data(test::as_bytes(frame(
      "SID: 1\r\nProto: http\r\nHost: foo.test\r\nPort: 80\r\nRIP: 127.0.0.1\r\nRPort: 9\r\n\r\n"
      "GET /bytes/67108864 HTTP/1.1\r\nHost: foo.test\r\n\r\n"))));
  ASSERT_TRUE(test::wait_for([&] { return origin.accepted() >= 1; }, "the origin dialled"));
  const std::uint64_t base = connector.rss_kib();
  std::size_t sent = 0;
  for (int batch = 0; batch < 750; ++batch) {  // 1.5 million requests, 40 MB
    std::vector<std::byte> out;
    for (int i = 0; i < 2000; ++i) {
      const auto r = p.seal(test::raw_tls13_peer::handshake,
                            test::raw_tls13_peer::key_update_message(true));
      out.insert(out.end(), r.begin(), r.end());
      p.update_write_key();
    }
    const auto f = flood(p.fd(), std::string_view(reinterpret_cast<const char*>(out.data()),
                                                  out.size()),
                         10000ms, out.size(), 2000ms);
    sent += f.sent * 2000 / out.size();
    if (f.sent < out.size()) {
      break;
    }
  }
  const std::uint64_t peak = connector.peak_rss_kib();
  report("row 5 KeyUpdate flood against the connector", "requests sent",
         std::to_string(sent));
  report("row 5 KeyUpdate flood against the connector", "connector RSS before / peak",
         mib(base) + " / " + mib(peak));
  // The tunnel's outbox (2 x 2 MiB), the stream's window and 16 KiB of answers. (8b11a65 grew
  // by 5 MiB per 400 000 requests, without end.)
  EXPECT_LT(peak, base + 12 * 1024) << mib(peak) << " against " << mib(base);
  EXPECT_TRUE(connector.alive());
}

}  // namespace
}  // namespace kiteline::hostile
