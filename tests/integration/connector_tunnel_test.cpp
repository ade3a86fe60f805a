// Connector integration tests: kiteline connector + in-process kiteline relay + fake origins on
// loopback (issue 4): transfers, handshake flows, TLS modes, restarts, two relays, hostile relay.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstdio>

#include "config/parse.hpp"
#include "wire/handshake.hpp"
#include "wire/ping.hpp"
#include "connector/client.hpp"
#include "support/loopback_relay.hpp"
#include "support/test_env.hpp"
#include "support/test_socket.hpp"

namespace kiteline::test {

/// A loopback HTTP/1.1 origin, one thread per connection, `Connection: close` replies:
///   GET /bytes/N   -> 200 with N bytes of pattern(7)
///   POST /echo     -> 200 echoing the Content-Length body
///   anything else  -> 200 "ok"
/// Records every request head and counts accepted connections.
class http_origin {
 public:
  http_origin() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd_, 512) != 0) {
      return;
    }
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  ~http_origin() {
    stop_ = true;
    if (acceptor_.joinable()) {
      acceptor_.join();
    }
    std::vector<std::thread> ts;
    {
      std::lock_guard lock(mu_);
      ts.swap(workers_);
    }
    for (auto& t : ts) {
      t.join();
    }
    ::close(fd_);
  }
  http_origin(const http_origin&) = delete;
  http_origin& operator=(const http_origin&) = delete;

  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
  [[nodiscard]] std::uint64_t accepted() const noexcept { return accepted_.load(); }
  [[nodiscard]] std::vector<std::string> heads() {
    std::lock_guard lock(mu_);
    return heads_;
  }

 private:
  void accept_loop() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) {
        continue;
      }
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) {
        continue;
      }
      ++accepted_;
      std::lock_guard lock(mu_);
      workers_.emplace_back([this, c] { serve(c); });
    }
  }

  static bool send_all(int fd, const char* p, std::size_t n) {
    while (n > 0) {
      const auto k = ::send(fd, p, n, MSG_NOSIGNAL);
      if (k <= 0) {
        return false;
      }
      p += k;
      n -= static_cast<std::size_t>(k);
    }
    return true;
  }

  void serve(int c) {
    timeval tv{20, 0};
    ::setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::string in;
    char buf[65536];
    std::size_t head_end = std::string::npos;
    while (head_end == std::string::npos && in.size() < 65536) {
      const auto n = ::recv(c, buf, sizeof buf, 0);
      if (n <= 0) {
        ::close(c);
        return;
      }
      in.append(buf, static_cast<std::size_t>(n));
      head_end = in.find("\r\n\r\n");
    }
    if (head_end == std::string::npos) {
      ::close(c);
      return;
    }
    const std::string head = in.substr(0, head_end + 4);
    {
      std::lock_guard lock(mu_);
      heads_.push_back(head);
    }
    std::string body = in.substr(head_end + 4);
    std::string reply_body;
    if (head.rfind("GET /bytes/", 0) == 0) {
      const std::size_t n = std::stoull(head.substr(11));
      std::string hdr = "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(n) +
                        "\r\nConnection: close\r\n\r\n";
      if (!send_all(c, hdr.data(), hdr.size())) {
        ::close(c);
        return;
      }
      pattern pat(7);
      std::vector<std::byte> chunk(256 * 1024);
      for (std::size_t off = 0; off < n;) {
        const std::size_t k = std::min(chunk.size(), n - off);
        pat.fill(off, std::span<std::byte>(chunk.data(), k));
        if (!send_all(c, reinterpret_cast<const char*>(chunk.data()), k)) {
          break;
        }
        off += k;
      }
      ::close(c);
      return;
    }
    if (head.rfind("POST /echo", 0) == 0) {
      const auto at = head.find("Content-Length: ");
      const std::size_t want = at == std::string::npos ? 0 : std::stoull(head.substr(at + 16));
      std::string hdr = "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(want) +
                        "\r\nConnection: close\r\n\r\n";
      if (!send_all(c, hdr.data(), hdr.size()) || !send_all(c, body.data(), body.size())) {
        ::close(c);
        return;
      }
      std::size_t got = body.size();
      while (got < want) {
        const auto n = ::recv(c, buf, sizeof buf, 0);
        if (n <= 0) {
          break;
        }
        got += static_cast<std::size_t>(n);
        if (!send_all(c, buf, static_cast<std::size_t>(n))) {
          break;
        }
      }
      ::close(c);
      return;
    }
    reply_body = "ok";
    std::string r = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n" + reply_body;
    send_all(c, r.data(), r.size());
    ::close(c);
  }

  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> accepted_{0};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<std::thread> workers_;
  std::vector<std::string> heads_;
};

/// One visitor request through a relay port: status code, body, and the SHA-256 of the body.
struct visit_result {
  int status = 0;
  std::string head;
  std::vector<std::byte> body;
};

/// Sends `request` to 127.0.0.1:`port` and reads the reply to EOF.
inline visit_result visit(std::uint16_t port, const std::string& request,
                          std::span<const std::byte> body = {},
                          milliseconds timeout = test_timeout()) {
  visit_result r;
  test_socket s;
  if (!s.connect(port)) {
    return r;
  }
  if (!s.send_all(request, timeout)) {
    return r;
  }
  if (!body.empty() && !s.send_all(body, timeout)) {
    return r;
  }
  r.head = s.read_head(timeout);
  if (r.head.size() >= 12 && r.head.rfind("HTTP/1.", 0) == 0) {
    r.status = std::atoi(r.head.c_str() + 9);
  }
  read_status st{};
  r.body = s.read_to_eof(st, timeout);
  return r;
}

inline std::string get_request(const std::string& host, std::size_t n) {
  return "GET /bytes/" + std::to_string(n) + " HTTP/1.1\r\nHost: " + host +
         "\r\nConnection: close\r\n\r\n";
}

/// A connector::client from a pagekite.py command line, logging into a capture sink.
struct test_connector {
  std::shared_ptr<capture_sink> sink = std::make_shared<capture_sink>();
  std::unique_ptr<connector::client> client;
  std::string error;

  test_connector(std::vector<std::string> args, connector::client_options opts = {},
                 bool production_retry = false) {
    args.insert(args.begin(), {"kiteline", "--clean"});
    auto out = config::parse_command_line(args, config::environment{});
    if (!out.ok() || !out.connector) {
      for (const auto& e : out.errors) {
        error += e.to_string() + "\n";
      }
      error += "(no connector config)";
      return;
    }
    // Fast retries for tests; production defaults are checked by the unit tests.
    if (!production_retry) {
      opts.retry.first = std::chrono::milliseconds(200);
      opts.retry.cap = std::chrono::milliseconds(1000);
    }
    opts.rejected_retry = std::chrono::milliseconds(1000);
    client = std::make_unique<connector::client>(*out.connector,
                                                 make_capture_logger("connector", sink), opts);
    if (!client->start(error)) {
      client.reset();
      return;
    }
    client->start_threads();
  }
  ~test_connector() {
    if (client) {
      client->stop();
    }
  }
  [[nodiscard]] bool ok() const { return client != nullptr; }
  [[nodiscard]] std::string log_dump() {
    std::string s;
    for (const auto& l : sink->lines()) {
      s += l + "\n";
    }
    return s;
  }
};

}  // namespace kiteline::test

namespace kiteline::test {
namespace {

constexpr std::size_t mib = 1024 * 1024;

std::vector<std::string> backend_args(std::uint16_t relay_port, std::uint16_t origin_port,
                                      const std::string& secret_text = "s3cret") {
  return {"--nullui", "--frontend=127.0.0.1:" + std::to_string(relay_port),
          "--service_on=http:foo.test:127.0.0.1:" + std::to_string(origin_port) + ":" +
              secret_text};
}

testing::AssertionResult wait_live(test_connector& c, std::size_t n = 1,
                                   milliseconds timeout = milliseconds(10000)) {
  return wait_for([&] { return c.client->live_tunnels() >= n; }, timeout, "connector live");
}

std::string cert_sha1(const std::string& crt_file) {
  std::FILE* f = std::fopen(crt_file.c_str(), "r");
  if (f == nullptr) {
    return {};
  }
  X509* x = PEM_read_X509(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  if (x == nullptr) {
    return {};
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  X509_digest(x, EVP_sha1(), md, &len);
  X509_free(x);
  std::string out;
  char hex[3];
  for (unsigned i = 0; i < len; ++i) {
    std::snprintf(hex, sizeof hex, "%02x", md[i]);
    out += hex;
  }
  return out;
}

bool get_ok(std::uint16_t port, std::size_t n, milliseconds timeout = test_timeout()) {
  auto r = visit(port, get_request("foo.test", n), {}, timeout);
  return r.status == 200 && r.body.size() == n && sha256_hex(r.body) == pattern(7).sha256_of(n);
}

TEST(connector_tunnel, flow_b_get_64mib_post_8mib_and_forwarded_headers) {
  loopback_relay relay;
  ASSERT_TRUE(relay.ok()) << relay.error();
  http_origin origin;
  test_connector conn(backend_args(relay.port(), origin.port()));
  ASSERT_TRUE(conn.ok()) << conn.error;
  ASSERT_TRUE(wait_live(conn)) << conn.log_dump();
  EXPECT_EQ(conn.client->relays().at(0).flow, "B");
  EXPECT_TRUE(conn.sink->contains({"kite http:foo.test live on relay 127.0.0.1:"}));

  const auto t0 = clock::now();
  auto r = visit(relay.port(), get_request("foo.test", 64 * mib));
  const auto ms = std::chrono::duration_cast<milliseconds>(clock::now() - t0).count();
  EXPECT_EQ(r.status, 200) << r.head;
  EXPECT_EQ(r.body.size(), 64 * mib);
  EXPECT_EQ(sha256_hex(r.body), pattern(7).sha256_of(64 * mib));
  std::printf("[connector] GET 64 MiB through kiteline relay+connector: %lld ms\n",
              static_cast<long long>(ms));

  const auto up = pattern(9).bytes(8 * mib);
  auto p = visit(relay.port(),
                 "POST /echo HTTP/1.1\r\nHost: foo.test\r\nContent-Length: " +
                     std::to_string(up.size()) + "\r\nConnection: close\r\n\r\n",
                 up);
  EXPECT_EQ(p.status, 200) << p.head;
  EXPECT_EQ(p.body.size(), up.size());
  EXPECT_EQ(sha256_hex(p.body), sha256_hex(up));

  bool seen = false;
  for (const auto& h : origin.heads()) {
    if (h.rfind("GET /bytes/", 0) == 0) {
      seen = true;
      EXPECT_NE(h.find("\r\nX-Forwarded-For: 127.0.0.1\r\n"), std::string::npos) << h;
      EXPECT_NE(h.find("\r\nX-Forwarded-Proto: http\r\n"), std::string::npos) << h;
      EXPECT_NE(h.find("\r\nX-PageKite-Port: " + std::to_string(relay.port()) + "\r\n"),
                std::string::npos)
          << h;
    }
  }
  EXPECT_TRUE(seen);
}

TEST(connector_tunnel, flow_a_when_forced) {
  loopback_relay relay;
  ASSERT_TRUE(relay.ok()) << relay.error();
  http_origin origin;
  connector::client_options o;
  o.force_flow_a_for_test = true;
  test_connector conn(backend_args(relay.port(), origin.port()), o);
  ASSERT_TRUE(conn.ok()) << conn.error;
  ASSERT_TRUE(wait_live(conn)) << conn.log_dump();
  EXPECT_EQ(conn.client->relays().at(0).flow, "A");
  EXPECT_TRUE(relay.wait_for_log({"tunnel up", "flow=A"})) << relay.log_dump();
  EXPECT_TRUE(get_ok(relay.port(), mib));
}

TEST(connector_tunnel, two_hundred_concurrent_streams) {
  loopback_relay relay;
  ASSERT_TRUE(relay.ok()) << relay.error();
  http_origin origin;
  test_connector conn(backend_args(relay.port(), origin.port()));
  ASSERT_TRUE(conn.ok()) << conn.error;
  ASSERT_TRUE(wait_live(conn)) << conn.log_dump();
  constexpr std::size_t n = 200;
  constexpr std::size_t size = 64 * 1024;
  std::vector<test_socket> socks(n);
  for (auto& s : socks) {
    ASSERT_TRUE(s.connect(relay.port()));
    ASSERT_TRUE(s.send_all(get_request("foo.test", size)));
  }
  const auto want = pattern(7).sha256_of(size);
  std::size_t good = 0;
  for (auto& s : socks) {
    const auto head = s.read_head();
    read_status st{};
    auto body = s.read_to_eof(st);
    if (head.rfind("HTTP/1.1 200", 0) == 0 && sha256_hex(body) == want) {
      ++good;
    }
  }
  EXPECT_EQ(good, n);
  EXPECT_GE(origin.accepted(), n);
}

TEST(connector_tunnel, wrong_secret_is_reported_clearly) {
  loopback_relay relay;
  ASSERT_TRUE(relay.ok()) << relay.error();
  http_origin origin;
  // Flow A: the kiteline relay currently drops the Flow B result chunk when it closes the
  // tunnel right after it (relay/server.cpp on_control: send_control() then close()).
  connector::client_options o;
  o.force_flow_a_for_test = true;
  test_connector conn(backend_args(relay.port(), origin.port(), "not-the-secret"), o);
  ASSERT_TRUE(conn.ok()) << conn.error;
  ASSERT_TRUE(wait_for(
      [&] {
        return conn.sink->contains({"kite foo.test refused by relay 127.0.0.1:",
                                    ": signature (wrong secret?)"});
      },
      milliseconds(10000), "refusal logged"))
      << conn.log_dump();
  EXPECT_EQ(conn.client->live_tunnels(), 0u);
  // A refused kite waits the long "rejected" delay (1 s in tests, 30 s by default).
  ASSERT_TRUE(wait_for([&] { return conn.sink->contains({"reconnecting in 1000 ms"}); },
                       milliseconds(5000), "long retry"))
      << conn.log_dump();
  EXPECT_EQ(origin.accepted(), 0u);
}

// --- TLS -----------------------------------------------------------------------------------

relay_options tls_relay() {
  relay_options o;
  o.tls_names = {"fe.test"};
  return o;
}

TEST(connector_tls, connect_preamble_with_ca_verification) {
  loopback_relay relay(tls_relay());
  ASSERT_TRUE(relay.ok()) << relay.error();
  http_origin origin;
  auto args = backend_args(relay.port(), origin.port());
  args.push_back("--fe_certname=fe.test");
  args.push_back("--ca_certs=" + relay.ca_file());
  test_connector conn(args);
  ASSERT_TRUE(conn.ok()) << conn.error;
  ASSERT_TRUE(wait_live(conn)) << conn.log_dump() << relay.log_dump();
  EXPECT_TRUE(get_ok(relay.port(), 4 * mib));
  EXPECT_EQ(conn.client->counters().tls_failures.load(), 0u);
}

TEST(connector_tls, wrong_ca_is_refused_with_a_clear_error) {
  loopback_relay relay(tls_relay());
  ASSERT_TRUE(relay.ok()) << relay.error();
  http_origin origin;
  test_cert other({"other.test"});
  auto args = backend_args(relay.port(), origin.port());
  args.push_back("--fe_certname=fe.test");
  args.push_back("--ca_certs=" + other.cert_file());
  test_connector conn(args);
  ASSERT_TRUE(conn.ok()) << conn.error;
  ASSERT_TRUE(wait_for([&] { return conn.client->counters().tls_failures.load() >= 2; },
                       milliseconds(10000), "two refused attempts"))
      << conn.log_dump();
  EXPECT_TRUE(conn.sink->contains({"relay certificate refused: certificate verify failed"}))
      << conn.log_dump();
  EXPECT_EQ(conn.client->live_tunnels(), 0u);
  EXPECT_EQ(relay.server().tunnel_count(), 0u);
  EXPECT_EQ(origin.accepted(), 0u);
}

TEST(connector_tls, pinned_sha1_right_and_wrong) {
  loopback_relay relay(tls_relay());
  ASSERT_TRUE(relay.ok()) << relay.error();
  http_origin origin;
  const std::string digest = cert_sha1(relay.ca_file());
  ASSERT_EQ(digest.size(), 40u);
  {
    auto args = backend_args(relay.port(), origin.port());
    args.push_back("--fe_certname=fe.test/" + digest);
    test_connector conn(args);
    ASSERT_TRUE(conn.ok()) << conn.error;
    ASSERT_TRUE(wait_live(conn)) << conn.log_dump();
    EXPECT_TRUE(get_ok(relay.port(), 1024));
  }
  ASSERT_TRUE(relay.wait_for_route("http", "foo.test", false));
  {
    auto args = backend_args(relay.port(), origin.port());
    args.push_back("--fe_certname=fe.test/" + std::string(40, '0'));
    test_connector conn(args);
    ASSERT_TRUE(conn.ok()) << conn.error;
    ASSERT_TRUE(wait_for([&] { return conn.client->counters().tls_failures.load() >= 1; },
                         milliseconds(10000), "pin refused"))
        << conn.log_dump();
    EXPECT_TRUE(conn.sink->contains({"certificate pin mismatch"})) << conn.log_dump();
    EXPECT_EQ(conn.client->live_tunnels(), 0u);
  }
}

TEST(connector_tls, direct_tls_with_sni) {
  loopback_relay relay(tls_relay());
  ASSERT_TRUE(relay.ok()) << relay.error();
  http_origin origin;
  auto args = backend_args(relay.port(), origin.port());
  args.push_back("--fe_certname=fe.test");
  args.push_back("--ca_certs=" + relay.ca_file());
  args.push_back("--tls_direct");
  test_connector conn(args);
  ASSERT_TRUE(conn.ok()) << conn.error;
  ASSERT_TRUE(wait_live(conn)) << conn.log_dump() << relay.log_dump();
  EXPECT_TRUE(get_ok(relay.port(), mib));
}

TEST(connector_tls, nocertcheck_warns_on_every_connect) {
  http_origin origin;
  // No SNI is sent (as pagekite.py): the relay answers with its --tls_default certificate.
  auto opts = tls_relay();
  opts.tls_default = "fe.test";
  loopback_relay relay(opts);
  ASSERT_TRUE(relay.ok()) << relay.error();
  auto args = backend_args(relay.port(), origin.port());
  args.push_back("--fe_nocertcheck");
  connector::client_options o;
  o.force_flow_a_for_test = true;  // two connections per handshake
  test_connector conn(args, o);
  ASSERT_TRUE(conn.ok()) << conn.error;
  ASSERT_TRUE(wait_live(conn)) << conn.log_dump() << relay.log_dump();
  EXPECT_TRUE(get_ok(relay.port(), 1024));
  const auto warned = conn.sink->count("WITHOUT certificate verification");
  EXPECT_GE(warned, 2u);
  EXPECT_EQ(warned, conn.client->counters().nocertcheck_warnings.load());
}

// --- relays dying --------------------------------------------------------------------------

std::unique_ptr<relay::server> start_relay(std::uint16_t port, const std::shared_ptr<capture_sink>& sink) {
  std::vector<std::string> argv{"kiteline", "frontend", "--clean", "--host=127.0.0.1",
                                "--ports=" + std::to_string(port), "--protos=http",
                                "--domain=http:*.test:s3cret"};
  auto out = config::parse_command_line(argv, config::environment{});
  if (!out.ok() || !out.relay) {
    return nullptr;
  }
  auto srv = std::make_unique<relay::server>(*out.relay, make_capture_logger("relay", sink));
  std::string err;
  if (!srv->start(err)) {
    return nullptr;
  }
  srv->start_threads();
  return srv;
}

TEST(connector_relays, restarted_relay_serves_again_within_two_seconds) {
  auto sink = std::make_shared<capture_sink>();
  auto relay = start_relay(0, sink);
  ASSERT_TRUE(relay);
  const std::uint16_t port = relay->bound_ports().at(0);
  http_origin origin;
  // The production reconnection delays (connector::backoff defaults), not the test ones.
  test_connector conn(backend_args(port, origin.port()), {}, true);
  ASSERT_TRUE(conn.ok()) << conn.error;
  ASSERT_TRUE(wait_live(conn)) << conn.log_dump();
  ASSERT_TRUE(get_ok(port, 1024));
  relay->stop();
  relay.reset();
  ASSERT_TRUE(wait_for([&] { return conn.client->live_tunnels() == 0; }, milliseconds(10000),
                       "tunnel lost"));
  // The relay stays away for a while (this is the outage being simulated, not a wait).
  std::this_thread::sleep_for(milliseconds(1500));
  for (int i = 0; i < 50 && !relay; ++i) {
    relay = start_relay(port, sink);
    if (!relay) {
      std::this_thread::sleep_for(milliseconds(100));
    }
  }
  ASSERT_TRUE(relay) << "could not rebind port " << port;
  const auto back = clock::now();
  bool ok = false;
  while (!ok && clock::now() - back < std::chrono::seconds(10)) {
    ok = get_ok(port, 1024, milliseconds(2000));
    if (!ok) {
      std::this_thread::sleep_for(milliseconds(20));
    }
  }
  const auto ms = std::chrono::duration_cast<milliseconds>(clock::now() - back).count();
  std::printf("[connector] relay restart -> first successful visitor: %lld ms\n",
              static_cast<long long>(ms));
  EXPECT_TRUE(ok);
  EXPECT_LT(ms, 2000);
}

TEST(connector_relays, two_relays_one_killed_survivor_has_zero_failures) {
  auto a = std::make_unique<loopback_relay>();
  loopback_relay b;
  ASSERT_TRUE(a->ok() && b.ok());
  http_origin origin;
  test_connector conn({"--nullui", "--frontend=127.0.0.1:" + std::to_string(a->port()),
                       "--frontend=127.0.0.1:" + std::to_string(b.port()),
                       "--service_on=http:foo.test:127.0.0.1:" + std::to_string(origin.port()) +
                           ":s3cret"});
  ASSERT_TRUE(conn.ok()) << conn.error;
  ASSERT_TRUE(wait_live(conn, 2)) << conn.log_dump();
  std::atomic<int> attempted{0};
  std::atomic<int> failed{0};
  std::atomic<bool> done{false};
  std::thread visitor([&] {
    while (!done) {
      ++attempted;
      if (!get_ok(b.port(), 16 * 1024, milliseconds(5000))) {
        ++failed;
      }
    }
  });
  ASSERT_TRUE(wait_for([&] { return attempted.load() >= 50; }, "50 requests"));
  a.reset();  // kill relay A
  ASSERT_TRUE(wait_for([&] { return conn.client->live_tunnels() == 1; }, "A's tunnel lost"));
  const int at_kill = attempted.load();
  ASSERT_TRUE(wait_for([&] { return attempted.load() >= at_kill + 150; }, "150 more"));
  done = true;
  visitor.join();
  std::printf("[connector] two relays, one killed: attempted=%d failed=%d through survivor\n",
              attempted.load(), failed.load());
  EXPECT_EQ(failed.load(), 0);
}

TEST(connector_relays, frontends_pool_discovers_relays_by_name) {
  loopback_relay relay;
  ASSERT_TRUE(relay.ok()) << relay.error();
  http_origin origin;
  // /etc/hosts: localhost -> 127.0.0.1 (loopback only); resolved asynchronously and pinged.
  test_connector conn({"--nullui", "--frontends=1:localhost:" + std::to_string(relay.port()),
                       "--service_on=http:foo.test:127.0.0.1:" + std::to_string(origin.port()) +
                           ":s3cret"});
  ASSERT_TRUE(conn.ok()) << conn.error;
  ASSERT_TRUE(wait_live(conn)) << conn.log_dump();
  const auto st = conn.client->relays();
  ASSERT_EQ(st.size(), 1u);
  EXPECT_EQ(st[0].label, "127.0.0.1:" + std::to_string(relay.port()));
  EXPECT_EQ(st[0].uuid, relay.server().uuid());
  EXPECT_TRUE(conn.sink->contains({"relay discovery: using relay 127.0.0.1:"}));
  EXPECT_TRUE(get_ok(relay.port(), 64 * 1024));
}

// --- a hostile relay -------------------------------------------------------------------------

/// A fake relay: answers the ping, accepts every kite (no challenge), then runs `script` on the
/// tunnel socket while a second thread drains whatever the connector sends.
class hostile_relay {
 public:
  explicit hostile_relay(std::vector<std::string> scripts) : scripts_(std::move(scripts)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(fd_, 64);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { loop(); });
  }
  ~hostile_relay() {
    stop_ = true;
    thread_.join();
    for (auto& t : drains_) {
      if (t.joinable()) {
        t.join();
      }
    }
    ::close(fd_);
  }
  [[nodiscard]] std::uint16_t port() const { return port_; }
  [[nodiscard]] int tunnels() const { return tunnels_.load(); }

 private:
  void loop() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) {
        continue;
      }
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) {
        continue;
      }
      timeval tv{5, 0};
      ::setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      ::setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
      std::string in;
      char buf[4096];
      while (in.find("\r\n\r\n") == std::string::npos && in.size() < 65536) {
        auto n = ::recv(c, buf, sizeof buf, 0);
        if (n <= 0) {
          break;
        }
        in.append(buf, static_cast<std::size_t>(n));
      }
      if (in.find("Host: ping.pagekite") != std::string::npos) {
        auto r = wire::format_ping_reply("hostile");
        (void)::send(c, r.data(), r.size(), MSG_NOSIGNAL);
        ::close(c);
        continue;
      }
      auto req = wire::parse_handshake_request(in);
      if (!req) {
        ::close(c);
        continue;
      }
      wire::handshake_response resp;
      for (const auto& k : req->kites) {
        resp.results.push_back({wire::kite_status::ok, wire::kite_key(k), {}, {}});
      }
      resp.session_id = "1:abc";
      auto text = wire::format_handshake_response(resp);
      (void)::send(c, text.data(), text.size(), MSG_NOSIGNAL);
      const int n = tunnels_++;
      drains_.emplace_back([c] {
        char b[65536];
        while (::recv(c, b, sizeof b, 0) > 0) {
        }
      });
      const std::string& script = scripts_[static_cast<std::size_t>(n) % scripts_.size()];
      (void)::send(c, script.data(), script.size(), MSG_NOSIGNAL);
      // Leave the tunnel to the connector: it closes it on framing errors; else we do later.
      for (int i = 0; i < 40 && !stop_; ++i) {
        std::this_thread::sleep_for(milliseconds(25));
      }
      // shutdown() ends the drain thread's recv(); join it before close() so the fd is never
      // closed (and possibly reused) under a concurrent recv().
      ::shutdown(c, SHUT_RDWR);
      if (drains_.back().joinable()) {
        drains_.back().join();
      }
      ::close(c);
    }
  }

  std::vector<std::string> scripts_;
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> tunnels_{0};
  std::thread thread_;
  std::vector<std::thread> drains_;
};

std::string chunk(const std::string& payload) {
  char size[32];
  std::snprintf(size, sizeof size, "%zx\r\n", payload.size());
  return size + payload;
}

TEST(connector_hostile, garbage_floods_and_huge_lengths_do_not_hurt) {
  http_origin origin;
  std::string flood;
  // Unknown SIDs without Proto (EOF 1WR expected), streams for kites never asked for,
  // more new streams for our kite than max_streams, PINGs.
  for (int sid = 1; sid <= 200; ++sid) {
    flood += chunk("SID: " + std::to_string(100000 + sid) + "\r\n\r\nstray data");
  }
  for (int sid = 1; sid <= 1500; ++sid) {
    flood += chunk("SID: " + std::to_string(sid) +
                   "\r\nProto: http\r\nHost: evil.test\r\nPort: 80\r\nRIP: 10.0.0.1\r\nRPort: 1"
                   "\r\n\r\nGET / HTTP/1.1\r\nHost: evil.test\r\n\r\n");
  }
  for (int sid = 2001; sid <= 3200; ++sid) {
    flood += chunk("SID: " + std::to_string(sid) +
                   "\r\nProto: http\r\nHost: foo.test\r\nPort: 80\r\nRIP: 10.0.0.1\r\nRPort: 1"
                   "\r\n\r\nGET / HTTP/1.1\r\nHost: foo.test\r\n\r\n");
  }
  flood += chunk("NOOP: 1\r\nPING: 123\r\n\r\n!");
  flood += "zz\r\n\r\n";  // garbage frame
  const std::string huge = chunk("NOOP: 1\r\n\r\n!") + "fffffffffffffff0\r\nSID: 1\r\n\r\n";
  const std::string zhuge = "Zffffffffffffffff\r\n";
  hostile_relay relay({flood, huge, zhuge});
  const auto rss_before = rss_kib();
  test_connector conn(backend_args(relay.port(), origin.port()));
  ASSERT_TRUE(conn.ok()) << conn.error;
  ASSERT_TRUE(wait_for([&] { return relay.tunnels() >= 4; }, milliseconds(30000),
                       "connector kept reconnecting"))
      << conn.log_dump();
  // Only the configured origin was ever dialled, never more than the foo.test streams sent.
  // Streams beyond mux max_streams (1024) are refused by the session itself (EOF, no dial), so
  // the origin never sees more than that many at once from one flood.
  EXPECT_LE(origin.accepted(), 1024u);
  // Most evil.test streams reach the service lookup and are refused there (the rest while
  // the table is full).
  EXPECT_GE(conn.client->counters().streams_refused.load(), 1000u);
  EXPECT_TRUE(conn.sink->contains({"framing error"})) << conn.log_dump();
  const auto rss_after = rss_kib();
  std::printf("[connector] hostile relay: tunnels=%d origin connections=%llu rss %llu -> %llu KiB\n",
              relay.tunnels(), static_cast<unsigned long long>(origin.accepted()),
              static_cast<unsigned long long>(rss_before),
              static_cast<unsigned long long>(rss_after));
  // The bound covers the whole process (the origin's 1 000 threads included); sanitizer
  // shadow memory makes RSS meaningless, so it is only checked in plain builds.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  (void)rss_after;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
  (void)rss_after;
#else
  EXPECT_LT(rss_after, rss_before + 256 * 1024);
#endif
#else
  EXPECT_LT(rss_after, rss_before + 256 * 1024);
#endif
}

}  // namespace
}  // namespace kiteline::test
