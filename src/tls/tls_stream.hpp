// TLS over a net::prefixed_socket with large batched socket I/O (replaces asio::ssl::stream).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <system_error>
#include <tuple>
#include <vector>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "core/memory.hpp"
#include "net/asio.hpp"
#include "net/prefixed_socket.hpp"
#include "net/signal.hpp"
#include "tls/record_protection.hpp"
#include "tls/record_reader.hpp"

namespace kiteline::tls {

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
/// stream moves the records itself (tls/record_reader.hpp, tls/record_protection.hpp, docs/tls.md
/// §5): records are opened straight into the reader's buffer and the writer's plaintext is
/// sealed straight into the output buffer, in both roles (a server starts sealing after the
/// session tickets libssl sent under its key). libssl keeps the handshake and verification;
/// TLS 1.2, --tls_openssl_records and the rare connection libssl already read ahead on stay
/// with libssl for every record.
///
/// Either way the stream bounds what the peer can make it hold and renews keys:
/// - Bytes produced by reading (KeyUpdate answers and requests, alerts) wait unsent at most
///   `reply_cap` bytes: above it, reading stops (no record is opened, SSL_read is not called)
///   until they drained, as libssl over a blocking socket would. A peer that sends but never
///   reads cannot grow the stream's memory. (The writer's own data is bounded by its caller.)
/// - Several KeyUpdate(update_requested) received before we send application data get one
///   KeyUpdate, sent before that data (RFC 8446 §4.6.3). (libssl answers each one.)
/// - Errors send the alert libssl sends (bad_record_mac, unexpected_message, decode_error,
///   record_overflow, ...) before the error is returned; nothing is sent after it.
/// - Both directions are renewed every tls::key_update_records records: our KeyUpdate for our
///   writes, a KeyUpdate(update_requested) for the peer's (SSL_key_update on libssl's path).
class tls_stream {
 public:
  /// Creates the SSL object from `ctx`. `read_buffer` = size of the first socket reads
  /// (ciphertext); it doubles, up to 256 KiB, each time a read fills it (a bulk transfer: a
  /// tunnel), so an interactive connection keeps a small buffer and a busy tunnel makes a
  /// quarter of the reads. Throws std::system_error if OpenSSL cannot allocate.
  tls_stream(net::prefixed_socket&& s, asio::ssl::context& ctx, std::size_t read_buffer = 64 * 1024);
  ~tls_stream();
  tls_stream(const tls_stream&) = delete;
  tls_stream& operator=(const tls_stream&) = delete;

  [[nodiscard]] SSL* native_handle() noexcept { return ssl_; }
  net::prefixed_socket& next_layer() noexcept { return next_; }
  net::tcp::socket& lowest_layer() noexcept { return next_.socket(); }

  /// Runs the TLS handshake as client or server.
  net::awaitable<std::error_code> handshake(asio::ssl::stream_base::handshake_type type);
  /// Reads at least one byte of plaintext (as many as are available, up to buf.size()).
  net::awaitable<std::tuple<std::error_code, std::size_t>> read_some(std::span<std::byte> buf);
  /// Returns once read_some() has something to work on without waiting for the socket first:
  /// ciphertext or plaintext already here, the end or an error known, or the socket readable.
  /// Holds no buffer while it waits, so a quiet connection's read buffer can be given back
  /// meanwhile (release_idle_buffers()); a relay's idle tunnels then cost no read buffer.
  net::awaitable<std::error_code> wait_readable();
  /// Encrypts and sends everything in `bufs`; returns once it was handed to the socket.
  net::awaitable<std::error_code> write(std::span<const asio::const_buffer> bufs);
  /// Sends close_notify, then half-closes TCP. Reading stays possible.
  net::awaitable<std::error_code> shutdown_send();
  /// Continues on another executor: `s` is this connection's socket, adopted there (see
  /// tls::transport::detach). The TLS state, the ciphertext read but not yet opened and the
  /// plaintext not yet returned all stay. Only between operations (nothing being read, written
  /// or sent); call on `s`'s executor, and use the stream only there afterwards.
  void rebind(net::tcp::socket&& s);
  /// Frees the ciphertext write buffers when no flush is running, and the read buffer when it
  /// holds nothing unread and no socket read is filling it (a quiet connection).
  void release_idle_buffers() noexcept;
  /// Frees libssl's connection object once the stream moves every record itself (own reads and
  /// writes, see above; nothing else happens there afterwards): about 8 KiB of libssl state
  /// per connection, what a relay's idle tunnel would otherwise hold for its whole life.
  /// native_handle() is nullptr afterwards, so query it (version, cipher, peer certificate)
  /// first. Does nothing on libssl's path.
  void release_libssl() noexcept;
  /// Whether records are read / written by the stream itself (see above), not libssl (both or
  /// neither).
  [[nodiscard]] bool own_reads() const noexcept { return rx_ != nullptr; }
  [[nodiscard]] bool own_writes() const noexcept { return tx_ != nullptr; }
  /// Records after which a key is renewed: our write key after `write_records` records sent
  /// under it, the peer's (we ask for it) after `read_records` records received under its key.
  /// Default tls::key_update_records each; on libssl's path the counts are per 16 KiB written
  /// and per SSL_read call (an upper bound of the records).
  void set_key_update_interval_for_test(std::uint64_t write_records,
                                        std::uint64_t read_records) noexcept {
    write_key_records_ = write_records;
    read_key_records_ = read_records;
  }

  /// Reply bytes (produced by reading) that may wait unsent before reading stops.
  static constexpr std::size_t reply_cap = 16 * 1024;
  /// Ciphertext not yet handed to the socket: queued, and being sent.
  [[nodiscard]] std::size_t unsent_bytes() const noexcept {
    return out_.size() + out_busy_.size();
  }
  /// Of which produced by reading (see reply_cap).
  [[nodiscard]] std::size_t unsent_reply_bytes() const noexcept {
    return reply_out_ + reply_busy_;
  }
  /// What the stream did on its own (for tests and diagnostics).
  struct counters {
    std::uint64_t key_updates_sent = 0;      ///< KeyUpdates we sent (SSL_key_update calls)
    std::uint64_t key_update_requests = 0;   ///< of which update_requested (we asked the peer)
    std::uint64_t key_updates_received = 0;  ///< the peer's KeyUpdates (own records only)
    std::uint64_t read_pauses = 0;           ///< times reading waited for replies to drain
    std::size_t reply_peak = 0;              ///< most reply bytes unsent at once
  };
  [[nodiscard]] counters stats() const noexcept;

 private:
  friend struct tls_stream_bio;

  /// An OpenSSL "SSL library" error with `reason`, as libssl itself reports it (same text).
  static std::error_code reason_error(int reason) noexcept {
    return {static_cast<int>(ERR_PACK(ERR_LIB_SSL, 0, reason)),
            asio::error::get_ssl_category()};
  }

  std::error_code take_error(int ret);
  net::awaitable<std::error_code> flush();
  net::awaitable<std::error_code> fill();
  /// wait_readable()'s first look: one non-blocking read into the kept ciphertext buffer;
  /// true when it brought bytes, the end or an error (read_some has work), false to wait.
  bool try_fill_now() noexcept;
  /// Waits while more than reply_cap reply bytes are unsent (sends them if no one is sending).
  net::awaitable<std::error_code> drain_replies();
  void take_over_records();
  /// Counts the records libssl seals under our application traffic key before take-over (BIO
  /// writes during the handshake): each is opened with that key; those that open are ours.
  void count_libssl_records(const std::byte* p, std::size_t n);
  /// One pass over the ciphertext in in_, adding plaintext to buf[total, ...): through libssl,
  /// or (own reads) opening the records here. Stops early when replies are over reply_cap.
  std::error_code ssl_read_records(std::span<std::byte> buf, std::size_t& total);
  std::error_code open_records(std::span<std::byte> buf, std::size_t& total);
  /// Sends the alert `err` names (own records) and returns libssl's error for it.
  std::error_code refuse(const tls::record_error& err);
  /// After reading: asks the peer to renew its key when its records under one key reached
  /// read_key_records_.
  void renew_peer_key_if_due();
  net::awaitable<std::error_code> write_own(std::span<const asio::const_buffer> bufs);
  net::awaitable<std::error_code> write_libssl(std::span<const asio::const_buffer> bufs);
  /// Seals one record of `type` with `body` into out_ (a KeyUpdate, an alert).
  bool seal_message(std::uint8_t type, std::span<const std::byte> body);
  /// The same for a record produced by reading (counted as a reply).
  bool seal_reply(std::uint8_t type, std::span<const std::byte> body);
  /// Before our next application data record: the KeyUpdate owed to the peer's request, or
  /// our own renewal when the write key is due.
  bool send_key_update_if_due();
  void note_reply(std::size_t n) noexcept;

  net::prefixed_socket next_;
  SSL* ssl_ = nullptr;
  BIO_METHOD* method_ = nullptr;
  std::size_t read_size_;
  core::byte_buffer in_;        // ciphertext read from the socket, in_[in_pos_, in_len_) unread
  std::size_t in_pos_ = 0;
  std::size_t in_len_ = 0;
  bool in_eof_ = false;
  bool filling_ = false;        // a socket read into in_ is in progress (in_ must stay)
  core::byte_buffer out_;       // ciphertext produced by OpenSSL or sealed by tx_, not yet sent
  core::byte_buffer out_busy_;  // ciphertext being sent (never touched by OpenSSL)
  bool flushing_ = false;
  net::signal flushed_;              // a flush ended (the writer waits for the reader's flush)
  net::signal drained_;              // a send completed (the reader waits for its replies)
  std::size_t reply_out_ = 0;   // bytes of out_ produced by reading
  std::size_t reply_busy_ = 0;  // bytes of out_busy_ produced by reading
  std::error_code read_error_;  // an error met after plaintext was returned, reported next
  bool fatal_sent_ = false;     // a fatal alert went out: nothing more may be sent
  counters counters_;
  std::uint64_t write_key_records_ = tls::key_update_records;
  std::uint64_t read_key_records_ = tls::key_update_records;

  // libssl's path: records written / SSL_read calls since the key was renewed (TLS 1.3 only).
  bool in_ssl_read_ = false;  // libssl's writes now are replies (counted as they come)
  bool libssl_tls13_ = false;
  std::uint64_t libssl_written_ = 0;
  std::uint64_t libssl_read_ = 0;

  // Own record layer (after a TLS 1.3 handshake; see the class comment).
  tls::traffic_secrets secrets_;  // filled by the keylog hook, wiped once keys are derived
  bool counting_ = true;          // libssl still writes: count_libssl_records() runs
  bool count_unknown_ = false;    // libssl's writes could not be counted: it keeps the records
  std::unique_ptr<tls::record_keys> probe_;  // our write key, opening libssl's records
  std::uint64_t libssl_sealed_ = 0;          // records libssl sealed under our write key
  int probed_ = 0;                           // records libssl wrote since the key was known
  std::unique_ptr<tls::record_reader> rx_;
  std::unique_ptr<tls::record_keys> tx_;
  std::size_t pend_pos_ = 0;  // opened plaintext left in in_ (the reader's buffer was full)
  std::size_t pend_len_ = 0;
  // The last KeyUpdate(update_requested) we sent: the peer's key generation and its record
  // count then (asked again after another read_key_records_ if it did not renew).
  std::uint64_t asked_generation_ = ~std::uint64_t{0};
  std::uint64_t asked_at_ = 0;
};

}  // namespace kiteline::tls
