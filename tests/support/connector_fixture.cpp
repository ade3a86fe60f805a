#include "support/connector_fixture.hpp"

#include "config/parse.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

namespace kiteline::test {

// --- thread_server -----------------------------------------------------------------------------

thread_server::thread_server() {
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
}

thread_server::~thread_server() {
  stop_and_join();
  ::close(fd_);
}

void thread_server::start() {
  if (port_ != 0) {
    acceptor_ = std::thread([this] { accept_loop(); });
  }
}

void thread_server::stop_and_join() {
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
}

void thread_server::accept_loop() {
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
    ++active_;
    timeval tv{20, 0};
    ::setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    std::lock_guard lock(mu_);
    workers_.emplace_back([this, c] {
      serve(c);
      --active_;
    });
  }
}

bool thread_server::send_all(int fd, const char* p, std::size_t n) {
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

std::size_t thread_server::read_head(int fd, std::string& in) {
  char buf[16384];
  std::size_t head_end = in.find("\r\n\r\n");
  while (head_end == std::string::npos && in.size() < 65536) {
    const auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) {
      return 0;
    }
    in.append(buf, static_cast<std::size_t>(n));
    head_end = in.find("\r\n\r\n");
  }
  return head_end == std::string::npos ? 0 : head_end + 4;
}

// --- http_origin -------------------------------------------------------------------------------

std::vector<std::string> http_origin::heads() {
  std::lock_guard lock(heads_mu_);
  return heads_;
}

void http_origin::serve(int c) {
  std::string in;
  const std::size_t head_len = read_head(c, in);
  if (head_len == 0) {
    ::close(c);
    return;
  }
  const std::string head = in.substr(0, head_len);
  {
    std::lock_guard lock(heads_mu_);
    heads_.push_back(head);
  }
  const std::string body = in.substr(head_len);
  if (head.rfind("GET /bytes/", 0) == 0) {
    const std::size_t n = std::stoull(head.substr(11));
    const std::string hdr =
        "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(n) + "\r\nConnection: close\r\n\r\n";
    if (send_all(c, hdr.data(), hdr.size())) {
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
    }
    ::close(c);
    return;
  }
  if (head.rfind("POST /echo", 0) == 0) {
    const auto at = head.find("Content-Length: ");
    const std::size_t want = at == std::string::npos ? 0 : std::stoull(head.substr(at + 16));
    const std::string hdr = "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(want) +
                            "\r\nConnection: close\r\n\r\n";
    if (send_all(c, hdr.data(), hdr.size()) && send_all(c, body.data(), body.size())) {
      char buf[65536];
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
    }
    ::close(c);
    return;
  }
  const std::string r = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
  send_all(c, r.data(), r.size());
  ::close(c);
}

// --- echo_origin -------------------------------------------------------------------------------

echo_origin::echo_origin(mode m, const std::vector<std::string>& names) : mode_(m) {
  if (m == mode::tls) {
    cert_ = std::make_unique<test_cert>(names);
    SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
    if (SSL_CTX_use_certificate_chain_file(ctx, cert_->pem_file().c_str()) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, cert_->pem_file().c_str(), SSL_FILETYPE_PEM) != 1) {
      SSL_CTX_free(ctx);
      ctx = nullptr;
    }
    ssl_ctx_ = ctx;
  }
  start();
}

echo_origin::~echo_origin() {
  stop_and_join();
  SSL_CTX_free(static_cast<SSL_CTX*>(ssl_ctx_));
}

std::vector<std::string> echo_origin::heads() {
  std::lock_guard lock(heads_mu_);
  return heads_;
}

void echo_origin::serve(int c) {
  if (mode_ == mode::tls) {
    serve_tls(c);
    return;
  }
  std::string in;
  if (mode_ == mode::upgrade) {
    const std::size_t head_len = read_head(c, in);
    if (head_len == 0) {
      ::close(c);
      return;
    }
    {
      std::lock_guard lock(heads_mu_);
      heads_.push_back(in.substr(0, head_len));
    }
    in.erase(0, head_len);
    const std::string reply =
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n";
    if (!send_all(c, reply.data(), reply.size())) {
      ::close(c);
      return;
    }
  }
  bool ok = send_all(c, in.data(), in.size());
  char buf[65536];
  while (ok) {
    const auto n = ::recv(c, buf, sizeof buf, 0);
    if (n <= 0) {
      break;
    }
    ok = send_all(c, buf, static_cast<std::size_t>(n));
  }
  ::shutdown(c, SHUT_WR);
  ::close(c);
}

void echo_origin::serve_tls(int c) {
  SSL* ssl = ssl_ctx_ == nullptr ? nullptr : SSL_new(static_cast<SSL_CTX*>(ssl_ctx_));
  if (ssl == nullptr) {
    ::close(c);
    return;
  }
  SSL_set_fd(ssl, c);
  if (SSL_accept(ssl) == 1) {
    char buf[16384];
    for (;;) {
      const int n = SSL_read(ssl, buf, sizeof buf);
      if (n <= 0 || SSL_write(ssl, buf, n) != n) {
        break;
      }
    }
    SSL_shutdown(ssl);
  }
  SSL_free(ssl);
  ERR_clear_error();
  ::close(c);
}

// --- visitors ----------------------------------------------------------------------------------

std::vector<std::string> recording_origin::received() {
  std::lock_guard lock(mu_);
  return received_;
}

void recording_origin::serve(int c) {
  std::string all;
  std::size_t answered = 0;
  char buf[16384];
  // Bounded by the peer's EOF and the 20-s receive timeout set by thread_server.
  for (;;) {
    const auto n = ::recv(c, buf, sizeof buf, 0);
    if (n <= 0) {
      break;
    }
    all.append(buf, static_cast<std::size_t>(n));
    std::size_t heads = 0;
    for (auto at = all.find("\r\n\r\n"); at != std::string::npos;
         at = all.find("\r\n\r\n", at + 4)) {
      ++heads;
    }
    for (; answered < heads; ++answered) {
      send_all(c, ok_reply.data(), ok_reply.size());
    }
  }
  {
    std::lock_guard lock(mu_);
    received_.push_back(std::move(all));
  }
  ::close(c);
}

visit_result visit(std::uint16_t port, const std::string& request, std::span<const std::byte> body,
                   milliseconds timeout) {
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

std::string get_request(const std::string& host, std::size_t n) {
  return "GET /bytes/" + std::to_string(n) + " HTTP/1.1\r\nHost: " + host +
         "\r\nConnection: close\r\n\r\n";
}

bool get_ok(std::uint16_t port, std::size_t n, milliseconds timeout) {
  auto r = visit(port, get_request("foo.test", n), {}, timeout);
  return r.status == 200 && r.body.size() == n && sha256_hex(r.body) == pattern(7).sha256_of(n);
}

// --- connector and relay -----------------------------------------------------------------------

test_connector::test_connector(std::vector<std::string> args, connector::client_options opts,
                               bool keep_retry) {
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
  if (!keep_retry) {
    opts.retry.first = std::chrono::milliseconds(200);
    opts.retry.cap = std::chrono::milliseconds(1000);
  }
  opts.rejected_retry = std::chrono::milliseconds(1000);
  client = std::make_unique<connector::client>(*out.connector,
                                               make_capture_logger("connector", sink), opts);
  if (const auto started = client->start(); !started) {
    error = started.error().message();
    client.reset();
    return;
  }
  client->start_threads();
}

test_connector::~test_connector() {
  if (client) {
    client->stop();
  }
}

std::string test_connector::log_dump() {
  std::string s;
  for (const auto& l : sink->lines()) {
    s += l + "\n";
  }
  return s;
}

std::vector<std::string> backend_args(std::uint16_t relay_port, std::uint16_t origin_port,
                                      const std::string& secret_text) {
  return {
      "--nullui", "--frontend=127.0.0.1:" + std::to_string(relay_port),
      "--service_on=http:foo.test:127.0.0.1:" + std::to_string(origin_port) + ":" + secret_text};
}

testing::AssertionResult wait_live(test_connector& c, std::size_t n, milliseconds timeout) {
  return wait_for([&] { return c.client->live_tunnels() >= n; }, timeout, "connector live");
}

std::unique_ptr<relay::server> start_relay(std::uint16_t port,
                                           const std::shared_ptr<capture_sink>& sink,
                                           const std::string& host) {
  std::vector<std::string> argv{"kiteline",
                                "frontend",
                                "--clean",
                                "--host=" + host,
                                "--ports=" + std::to_string(port),
                                "--protos=http",
                                "--domain=http:*.test:s3cret"};
  auto out = config::parse_command_line(argv, config::environment{});
  if (!out.ok() || !out.relay) {
    return nullptr;
  }
  auto srv = std::make_unique<relay::server>(*out.relay, make_capture_logger("relay", sink));
  if (!srv->start()) {
    return nullptr;
  }
  srv->start_threads();
  return srv;
}

std::unique_ptr<relay::server> restart_relay(std::uint16_t port,
                                             const std::shared_ptr<capture_sink>& sink) {
  std::unique_ptr<relay::server> relay;
  // Until the port is free again (bind fails with "address in use" before).
  (void)wait_for([&] { return (relay = start_relay(port, sink)) != nullptr; },
                 milliseconds(5000), "the relay's port to be free");
  return relay;
}

long long ms_until_visitor_ok(std::uint16_t port, bool& ok) {
  const auto back = clock::now();
  ok = wait_for([&] { return get_ok(port, 1024, milliseconds(2000)); }, milliseconds(10000),
                "a visitor served");
  return std::chrono::duration_cast<milliseconds>(clock::now() - back).count();
}

}  // namespace kiteline::test
