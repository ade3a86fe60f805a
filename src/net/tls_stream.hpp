// TLS over a prefixed_socket with large batched socket I/O (replaces asio::ssl::stream).
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <system_error>
#include <tuple>
#include <vector>

#include <openssl/ssl.h>

#include "net/asio.hpp"
#include "net/prefixed_socket.hpp"
#include "net/signal.hpp"

namespace kiteline::net {

/// A TLS connection driven through memory: OpenSSL reads ciphertext from an input buffer that
/// is filled by one large socket read, and writes ciphertext into an output buffer that is
/// sent with one large socket write. asio::ssl::stream moves every 16 KiB record through its
/// own socket call; batching them cuts the system calls (and the loopback wake-ups) of a bulk
/// transfer by an order of magnitude.
///
/// Owned by one executor; not thread-safe. At most one reader (read_some) and one writer
/// (write / shutdown_send) may be in progress at a time, and handshake() runs alone. The
/// object must not move while in use (hold it by unique_ptr). Errors come back as values:
/// OpenSSL errors in asio's ssl category (same texts as asio), a peer that closes TCP without
/// close_notify as asio::ssl::error::stream_truncated, close_notify as asio::error::eof.
class tls_stream {
 public:
  /// Creates the SSL object from `ctx`. `read_buffer` = size of the first socket reads
  /// (ciphertext); it doubles, up to 256 KiB, each time a read fills it (a bulk transfer: a
  /// tunnel), so an interactive connection keeps a small buffer and a busy tunnel makes a
  /// quarter of the reads. Throws std::system_error if OpenSSL cannot allocate.
  tls_stream(prefixed_socket&& s, asio::ssl::context& ctx, std::size_t read_buffer = 64 * 1024);
  ~tls_stream();
  tls_stream(const tls_stream&) = delete;
  tls_stream& operator=(const tls_stream&) = delete;

  [[nodiscard]] SSL* native_handle() noexcept { return ssl_; }
  prefixed_socket& next_layer() noexcept { return next_; }
  tcp::socket& lowest_layer() noexcept { return next_.socket(); }

  /// Runs the TLS handshake as client or server.
  awaitable<std::error_code> handshake(asio::ssl::stream_base::handshake_type type);
  /// Reads at least one byte of plaintext (as many as are available, up to buf.size()).
  awaitable<std::tuple<std::error_code, std::size_t>> read_some(std::span<std::byte> buf);
  /// Encrypts and sends everything in `bufs`; returns once it was handed to the socket.
  awaitable<std::error_code> write(std::span<const asio::const_buffer> bufs);
  /// Sends close_notify, then half-closes TCP. Reading stays possible.
  awaitable<std::error_code> shutdown_send();
  /// Frees the ciphertext write buffers when no flush is running (a quiet connection).
  void release_idle_buffers() noexcept;

 private:
  friend struct tls_stream_bio;

  std::error_code take_error(int ret);
  awaitable<std::error_code> flush();
  awaitable<std::error_code> fill();

  prefixed_socket next_;
  SSL* ssl_ = nullptr;
  BIO_METHOD* method_ = nullptr;
  std::size_t read_size_;
  std::vector<std::byte> in_;   // ciphertext read from the socket, in_[in_pos_, in_len_) unread
  std::size_t in_pos_ = 0;
  std::size_t in_len_ = 0;
  bool in_eof_ = false;
  std::vector<std::byte> out_;       // ciphertext produced by OpenSSL, not yet sent
  std::vector<std::byte> out_busy_;  // ciphertext being sent (never touched by OpenSSL)
  bool flushing_ = false;
  signal flushed_;
  std::error_code read_error_;  // an error met after plaintext was returned, reported next
};

}  // namespace kiteline::net
