// Connector integration-test fixtures: loopback origins (HTTP, echo, WebSocket-style upgrade,
// TLS echo), a visitor helper, and a connector::client built from a pagekite.py command line.
#pragma once

#include "connector/client.hpp"
#include "relay/server.hpp"
#include "support/loopback_relay.hpp"
#include "support/test_env.hpp"
#include "support/test_socket.hpp"

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace kiteline::test {

/// A loopback TCP server on 127.0.0.1 (ephemeral port), one thread per connection: the base of
/// the fake origins. Subclasses implement serve() and must call stop_and_join() in their own
/// destructor (before their members go away).
class thread_server {
 public:
  thread_server();
  virtual ~thread_server();
  thread_server(const thread_server&) = delete;
  thread_server& operator=(const thread_server&) = delete;

  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
  [[nodiscard]] std::uint64_t accepted() const noexcept { return accepted_.load(); }
  /// Connections being served now (accepted, serve() not yet returned).
  [[nodiscard]] std::uint64_t active() const noexcept { return active_.load(); }

 protected:
  /// Starts accepting (call at the end of the subclass constructor).
  void start();
  /// Stops accepting and joins every connection thread. Idempotent.
  void stop_and_join();
  /// Serves one accepted connection on its own thread; must close `fd`.
  virtual void serve(int fd) = 0;
  /// Writes everything (MSG_NOSIGNAL); false when the peer is gone.
  static bool send_all(int fd, const char* p, std::size_t n);
  /// Reads up to the end of a request head ("\r\n\r\n", at most 64 KiB) into `in`; returns the
  /// head length (with the blank line) or 0 on EOF/timeout. Bytes after it stay in `in`.
  static std::size_t read_head(int fd, std::string& in);

 private:
  void accept_loop();

  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> accepted_{0};
  std::atomic<std::uint64_t> active_{0};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<std::thread> workers_;
};

/// A loopback HTTP/1.1 origin, `Connection: close` replies:
///   GET /bytes/N   -> 200 with N bytes of pattern(7)
///   POST /echo     -> 200 echoing the Content-Length body
///   anything else  -> 200 "ok"
/// Records every request head (everything up to the first blank line, so a PROXY line sent
/// before the request is part of it) and counts accepted connections.
class http_origin final : public thread_server {
 public:
  http_origin() { start(); }
  ~http_origin() override { stop_and_join(); }
  [[nodiscard]] std::vector<std::string> heads();

 private:
  void serve(int c) override;
  std::mutex heads_mu_;
  std::vector<std::string> heads_;
};

/// An origin that records every byte of each connection (until EOF) and answers every complete
/// head with a keep-alive `200 ok` (ok_reply): what an origin of pipelined requests receives.
class recording_origin final : public thread_server {
 public:
  static constexpr std::string_view ok_reply = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
  recording_origin() { start(); }
  ~recording_origin() override { stop_and_join(); }
  /// Everything each finished connection received, in the order they ended.
  [[nodiscard]] std::vector<std::string> received();

 private:
  void serve(int c) override;
  std::mutex mu_;
  std::vector<std::string> received_;
};

/// An echo origin: every byte received is sent back; at EOF it closes.
///   raw:       echoes from the first byte;
///   upgrade:   reads one HTTP request head, answers `101 Switching Protocols` (WebSocket
///              style) and echoes everything after the head;
///   tls:       TLS server (certificate for `names`, see cert()) echoing the decrypted bytes.
class echo_origin final : public thread_server {
 public:
  enum class mode { raw, upgrade, tls };
  explicit echo_origin(mode m, const std::vector<std::string>& names = {"foo.test"});
  ~echo_origin() override;
  /// The request heads seen in `upgrade` mode.
  [[nodiscard]] std::vector<std::string> heads();
  /// The TLS certificate (tls mode; its cert_file() verifies the origin).
  [[nodiscard]] const test_cert& cert() const { return *cert_; }

 private:
  void serve(int c) override;
  void serve_tls(int c);
  mode mode_;
  std::unique_ptr<test_cert> cert_;
  void* ssl_ctx_ = nullptr;  // SSL_CTX*
  std::mutex heads_mu_;
  std::vector<std::string> heads_;
};

/// One visitor request through a relay port: status code, head and body.
struct visit_result {
  int status = 0;
  std::string head;
  std::vector<std::byte> body;
};

/// Sends `request` (then `body`) to 127.0.0.1:`port` and reads the reply to EOF.
visit_result visit(std::uint16_t port, const std::string& request,
                   std::span<const std::byte> body = {}, milliseconds timeout = test_timeout());

/// "GET /bytes/N" for `host` with Connection: close.
std::string get_request(const std::string& host, std::size_t n);

/// GET /bytes/N of foo.test through the relay port: 200 and byte-exact (SHA-256).
bool get_ok(std::uint16_t port, std::size_t n, milliseconds timeout = test_timeout());

/// A connector::client from a pagekite.py command line, logging into a capture sink. Unless
/// `keep_retry`, the reconnection delays are shortened for tests (first 200 ms, cap 1 s).
struct test_connector {
  std::shared_ptr<capture_sink> sink = std::make_shared<capture_sink>();
  std::unique_ptr<connector::client> client;
  std::string error;

  explicit test_connector(std::vector<std::string> args, connector::client_options opts = {},
                          bool keep_retry = false);
  ~test_connector();
  test_connector(const test_connector&) = delete;
  test_connector& operator=(const test_connector&) = delete;
  [[nodiscard]] bool ok() const { return client != nullptr; }
  [[nodiscard]] std::string log_dump();
};

/// --frontend=127.0.0.1:RELAY --service_on=http:foo.test:127.0.0.1:ORIGIN:SECRET.
std::vector<std::string> backend_args(std::uint16_t relay_port, std::uint16_t origin_port,
                                      const std::string& secret_text = "s3cret");

/// Waits until `n` relays have a live tunnel.
testing::AssertionResult wait_live(test_connector& c, std::size_t n = 1,
                                   milliseconds timeout = milliseconds(10000));

/// A plain kiteline relay (--protos=http, --domain=http:*.test:s3cret) on `host`:`port`
/// (port 0 = ephemeral), logging into `sink`; null when it cannot start (port taken).
std::unique_ptr<relay::server> start_relay(std::uint16_t port,
                                           const std::shared_ptr<capture_sink>& sink,
                                           const std::string& host = "127.0.0.1");

/// start_relay(port, sink) again after a stop, retrying every 100 ms for up to 5 s while the
/// port cannot be bound yet; null when it never could.
std::unique_ptr<relay::server> restart_relay(std::uint16_t port,
                                             const std::shared_ptr<capture_sink>& sink);

/// Milliseconds until get_ok(port, 1 KiB) succeeds, polling for up to 10 s; `ok` says whether
/// it did.
long long ms_until_visitor_ok(std::uint16_t port, bool& ok);

}  // namespace kiteline::test
