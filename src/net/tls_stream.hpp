// TLS over a prefixed_socket with large batched socket I/O (replaces asio::ssl::stream).
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <system_error>
#include <tuple>
#include <vector>

#include <openssl/ssl.h>

#include "core/memory.hpp"
#include "net/asio.hpp"
#include "net/prefixed_socket.hpp"
#include "net/signal.hpp"
#include "tls/record_protection.hpp"

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
///
/// After a TLS 1.3 handshake on a context prepared with tls::enable_traffic_secrets(), the
/// stream moves application data itself (tls/record_protection.hpp, docs/tls.md §5): records
/// are opened straight into the reader's buffer, and (as a client) the writer's plaintext is
/// sealed straight into the output buffer. libssl keeps everything else: the handshake,
/// verification, and a server's writes (an OpenSSL server may have sent session tickets under
/// the traffic key, so only libssl knows its write sequence number). TLS 1.2 stays with libssl.
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
  /// Whether application data is read / written by the stream itself (see above), not libssl.
  [[nodiscard]] bool own_reads() const noexcept { return rx_ != nullptr; }
  [[nodiscard]] bool own_writes() const noexcept { return tx_ != nullptr; }
  /// Sealed records after which the stream's own writer renews its key with a KeyUpdate
  /// (default 2^23, well inside RFC 8446 §5.5's limit for AES-GCM); lowered by tests.
  void set_key_update_interval(std::uint64_t records) noexcept { key_update_interval_ = records; }

 private:
  friend struct tls_stream_bio;

  std::error_code take_error(int ret);
  awaitable<std::error_code> flush();
  awaitable<std::error_code> fill();
  void take_over_records();
  /// One pass over the ciphertext in in_, adding plaintext to buf[total, ...): through libssl,
  /// or (own reads) opening the records here. An error after some plaintext is kept for later.
  std::error_code ssl_read_records(std::span<std::byte> buf, std::size_t& total);
  std::error_code open_records(std::span<std::byte> buf, std::size_t& total);
  std::error_code on_handshake_bytes(const std::byte* p, std::size_t n);
  awaitable<std::error_code> write_own(std::span<const asio::const_buffer> bufs);
  /// Seals one record of `type` with `body` into out_ (a KeyUpdate, an alert).
  bool seal_message(std::uint8_t type, std::span<const std::byte> body);
  bool renew_write_key_if_due();

  prefixed_socket next_;
  SSL* ssl_ = nullptr;
  BIO_METHOD* method_ = nullptr;
  std::size_t read_size_;
  std::vector<std::byte> in_;   // ciphertext read from the socket, in_[in_pos_, in_len_) unread
  std::size_t in_pos_ = 0;
  std::size_t in_len_ = 0;
  bool in_eof_ = false;
  core::byte_buffer out_;       // ciphertext produced by OpenSSL or sealed by tx_, not yet sent
  core::byte_buffer out_busy_;  // ciphertext being sent (never touched by OpenSSL)
  bool flushing_ = false;
  signal flushed_;
  std::error_code read_error_;  // an error met after plaintext was returned, reported next

  // Own record layer (after a TLS 1.3 handshake; see the class comment).
  tls::traffic_secrets secrets_;  // filled by the keylog hook, wiped once keys are derived
  std::unique_ptr<tls::record_keys> rx_;
  std::unique_ptr<tls::record_keys> tx_;
  std::size_t pend_pos_ = 0;  // opened plaintext left in in_ (the reader's buffer was full)
  std::size_t pend_len_ = 0;
  std::vector<std::byte> hs_;  // post-handshake message bytes not yet complete
  std::uint64_t key_update_interval_ = std::uint64_t{1} << 23;
};

}  // namespace kiteline::net
