// A blocking-style loopback client socket for tests (plain or OpenSSL TLS), every call bounded
// by a deadline; used by fake visitors and the fake connector.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "support/test_env.hpp"

using SSL = struct ssl_st;
using SSL_CTX = struct ssl_ctx_st;

namespace kiteline::test {

/// Outcome of a bounded read.
enum class read_status { data, eof, timeout, error };

/// One TCP connection to 127.0.0.1/::1 (never anything else), optionally wrapped in TLS.
/// The fd is non-blocking; every call waits with poll() up to its timeout. One thread may read
/// while another writes (TLS calls are serialised by an internal mutex). Not copyable.
class test_socket {
 public:
  test_socket() = default;
  ~test_socket();
  test_socket(test_socket&& o) noexcept;
  test_socket& operator=(test_socket&& o) noexcept;
  test_socket(const test_socket&) = delete;
  test_socket& operator=(const test_socket&) = delete;

  /// Connects to `host`:`port` (host must be a loopback literal). Returns false on failure.
  /// `receive_buffer` > 0 sets SO_RCVBUF before connecting, which also stops the kernel growing
  /// it: a visitor that never reads then absorbs a known amount (loopback autotuning here goes
  /// up to net.ipv4.tcp_rmem's 32 MiB, more than many tests' whole transfer).
  bool connect(std::uint16_t port, const std::string& host = "127.0.0.1", int receive_buffer = 0);
  [[nodiscard]] bool is_open() const noexcept { return fd_ >= 0; }
  [[nodiscard]] int fd() const noexcept { return fd_; }

  /// Client TLS handshake over the connected socket. `sni` empty = no SNI. `ca_file` non-empty
  /// = verify the chain against it and check the name `verify_name` (defaults to sni).
  /// Bytes already buffered by read_head() are NOT fed to TLS (call this before reading).
  bool start_tls(const std::string& sni, const std::string& ca_file, std::string& error,
                 const std::string& verify_name = {});
  [[nodiscard]] bool is_tls() const noexcept { return ssl_ != nullptr; }

  /// Writes everything or fails (error, peer gone, or timeout).
  bool send_all(std::span<const std::byte> data, milliseconds timeout = test_timeout());
  bool send_all(std::string_view text, milliseconds timeout = test_timeout()) {
    return send_all(as_bytes(text), timeout);
  }
  /// shutdown(SHUT_WR) (TLS: close_notify first).
  void shutdown_write();
  /// Closes now. `reset`: SO_LINGER 0 so the peer sees an RST.
  void close(bool reset = false);

  /// Reads what is available (up to out.size()), waiting up to `timeout`. `n` gets the count.
  read_status read_some(std::span<std::byte> out, std::size_t& n, milliseconds timeout);
  /// Reads until EOF (or `max` bytes, or timeout). `st` says how it ended.
  std::vector<std::byte> read_to_eof(read_status& st, milliseconds timeout = test_timeout(),
                                     std::size_t max = std::size_t{1} << 31);
  /// Reads exactly n bytes; fewer if EOF/timeout/error came first.
  std::vector<std::byte> read_exact(std::size_t n, milliseconds timeout = test_timeout());
  /// Reads up to and including the first "\r\n\r\n"; "" on EOF/timeout before it (the bytes
  /// read so far stay available to later reads). Extra bytes stay buffered for later reads.
  std::string read_head(milliseconds timeout = test_timeout(), std::size_t max = 64 * 1024);
  /// A plain read saw ECONNRESET (reported as eof): the peer closed with RST.
  [[nodiscard]] bool was_reset() const noexcept { return was_reset_; }
  /// True when the peer closed (EOF or reset) within `timeout`; data read meanwhile is dropped.
  bool wait_closed(milliseconds timeout = test_timeout());

 private:
  read_status read_raw(std::span<std::byte> out, std::size_t& n, milliseconds timeout);
  bool was_reset_ = false;
  int fd_ = -1;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  std::mutex ssl_mu_;
  std::vector<std::byte> pending_;  // read ahead by read_head
};

/// Thread-safe: the ClientHello bytes an OpenSSL client would send for `sni` (empty: no
/// SNI), produced through a memory BIO (no socket). For routing/pass-through tests.
[[nodiscard]] std::vector<std::byte> make_client_hello(const std::string& sni);

}  // namespace kiteline::test
