// A byte stream that is either plain TCP or TLS over TCP, with coroutine read/write/shutdown.
#pragma once

#include <memory>
#include <span>
#include <tuple>
#include <utility>
#include <variant>

#include "net/asio.hpp"
#include "net/prefixed_socket.hpp"
#include "tls/tls_stream.hpp"

namespace kiteline::tls {

/// One connection (visitor, tunnel or origin), plain or TLS. Owned by one executor.
/// Errors come back as values; nothing here throws on I/O failure.
class transport {
 public:
  explicit transport(net::prefixed_socket&& plain) : v_(std::move(plain)) {}
  explicit transport(std::unique_ptr<tls_stream> tls) : v_(std::move(tls)) {}
  transport(transport&& o) noexcept
      : v_(std::move(o.v_)),
        detached_fd_(std::exchange(o.detached_fd_, -1)),
        detached_protocol_(o.detached_protocol_) {}
  transport& operator=(transport&& o) noexcept;
  transport(const transport&) = delete;
  transport& operator=(const transport&) = delete;
  /// Closes a descriptor still detached (a move that never arrived).
  ~transport();

  [[nodiscard]] bool is_tls() const noexcept { return v_.index() == 1; }
  net::tcp::socket& socket() noexcept;
  [[nodiscard]] SSL* ssl() noexcept;  ///< nullptr when plain

  net::awaitable<std::tuple<std::error_code, std::size_t>> read_some(std::span<std::byte> buf);
  /// Returns once read_some() has bytes (or the end, or an error) to give without waiting for the
  /// socket first; holds no buffer meanwhile (see tls_stream::wait_readable).
  net::awaitable<std::error_code> wait_readable();
  /// One read that never waits: plain sockets with nothing left to replay only (`recv` with
  /// MSG_DONTWAIT); anything else, or no data yet, gives asio::error::would_block. 0 bytes
  /// without an error is the peer's EOF.
  std::tuple<std::error_code, std::size_t> try_read_plain(std::span<std::byte> buf) noexcept;
  /// Writes everything (gather write) or fails.
  net::awaitable<std::error_code> write(std::span<const asio::const_buffer> bufs);
  net::awaitable<std::error_code> write(asio::const_buffer buf);
  /// Half-close our sending direction (TLS: close_notify then TCP FIN).
  net::awaitable<std::error_code> shutdown_send();
  /// Closes the TCP socket immediately (cancels pending operations).
  void close() noexcept;
  /// Gives back write buffers kept from a burst (TLS; call when the connection went quiet).
  void release_idle_buffers() noexcept;
  /// TLS: frees libssl's connection object when the stream moves its records itself
  /// (tls_stream::release_libssl); ssl() is nullptr afterwards.
  void release_libssl() noexcept;

  /// Moving a connection to another worker (style §4: a stream and its tunnel share a thread).
  /// detach() releases the descriptor from this executor's socket; everything read but not yet
  /// consumed (replayed bytes, TLS state) stays in the transport, which is then moved to the
  /// other worker, where attach() adopts the descriptor on that executor. No operation may be
  /// pending at detach(); until attach() the transport must not be used. A failure closes the
  /// descriptor and returns the error; the transport is then closed.
  [[nodiscard]] std::error_code detach() noexcept;
  [[nodiscard]] std::error_code attach(const asio::any_io_executor& ex) noexcept;

 private:
  std::variant<net::prefixed_socket, std::unique_ptr<tls_stream>> v_;
  int detached_fd_ = -1;  // between detach() and attach()
  net::tcp detached_protocol_ = net::tcp::v4();
};

}  // namespace kiteline::tls
