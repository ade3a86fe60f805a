// A tunnel's local socket (a visitor on a relay, an origin on a connector), plain or TLS, with
// the completion-handler operations the stream pump drives both kinds by.
#pragma once

#include <cstddef>
#include <exception>
#include <memory>
#include <system_error>
#include <tuple>
#include <utility>
#include <vector>

#include "net/asio.hpp"
#include "tls/transport.hpp"

namespace kiteline::tunnel {

/// One local socket with one set of handler-style operations, so that the stream pump has one
/// reader and one writer for both kinds:
/// - plain (the bulk path): a readiness wait, then non-blocking reads and writes straight on
///   the socket, the calls Asio's reactor makes itself: no coroutine frame, no allocation and
///   no virtual call per operation, and an idle socket holds one pending wait;
/// - TLS (a tls::tls_stream, e.g. a --tls_endpoint visitor whose TLS the relay terminates),
///   whose operations are coroutines: each wait, write or shutdown runs as one co_spawned
///   coroutine. The readiness wait reads the next plaintext into a buffer of the socket's own
///   (tls_read_buffer bytes), which read_now() then hands out.
/// Used on one executor. At most one wait and one write or shutdown may be pending at a time;
/// every handler must keep the local_socket alive (the pump's handlers hold its stream).
class local_socket {
 public:
  /// Plaintext a TLS socket reads at once (each read of a TLS local stream takes at most this).
  static constexpr std::size_t tls_read_buffer = 16 * 1024;

  explicit local_socket(tls::transport&& t)
      : t_(std::move(t)), in_(t_.is_tls() ? std::make_unique<tls_inbox>() : nullptr) {}

  net::tcp::socket& socket() noexcept { return t_.socket(); }
  /// Whether write_now() may take bytes (plain sockets); a TLS socket only writes by
  /// async_write().
  [[nodiscard]] bool writes_now() const noexcept { return in_ == nullptr; }

  /// Calls `h(std::error_code)` once reading may find something (data, an end, an error);
  /// an error here means the wait itself failed (the socket was closed).
  template <class Handler>
  void async_wait_readable(Handler&& h) {
    if (in_ == nullptr) {
      socket().async_wait(net::tcp::socket::wait_read, std::forward<Handler>(h));
      return;
    }
    tls_inbox* in = in_.get();
    if (in->pos < in->len || in->ec) {
      asio::post(socket().get_executor(), [h = std::forward<Handler>(h)]() mutable {
        h(std::error_code{});
      });
      return;
    }
    if (in->buf.size() != tls_read_buffer) {
      in->buf.resize(tls_read_buffer);
    }
    asio::co_spawn(socket().get_executor(), t_.read_some(in->buf),
                   [in, h = std::forward<Handler>(h)](
                       const std::exception_ptr& e,
                       std::tuple<std::error_code, std::size_t> r) mutable {
                     in->pos = 0;
                     in->len = e ? 0 : std::get<1>(r);
                     in->ec = e ? std::make_error_code(std::errc::io_error) : std::get<0>(r);
                     if (!in->ec && in->len == 0) {
                       in->ec = asio::error::eof;
                     }
                     h(std::error_code{});
                   });
  }

  /// Reads what is there now into `b` (a buffer sequence), never waiting: 0 bytes and
  /// asio::error::would_block when nothing is; 0 bytes without an error, or asio::error::eof,
  /// at the end of the stream.
  template <class Buffers>
  std::size_t read_now(const Buffers& b, std::error_code& ec) {
    if (in_ == nullptr) {
      return socket().read_some(b, ec);
    }
    tls_inbox& in = *in_;
    if (in.pos < in.len) {
      const std::size_t n = asio::buffer_copy(b, asio::buffer(in.buf.data() + in.pos,
                                                              in.len - in.pos));
      in.pos += n;
      ec.clear();
      return n;
    }
    ec = in.ec ? in.ec : std::error_code(asio::error::would_block);
    return 0;
  }

  /// Writes what the socket takes now from `b`, never waiting (plain sockets; a TLS socket
  /// gives asio::error::would_block).
  template <class Buffers>
  std::size_t write_now(const Buffers& b, std::error_code& ec) {
    if (in_ == nullptr) {
      return socket().write_some(b, ec);
    }
    ec = asio::error::would_block;
    return 0;
  }

  /// Writes all of `b` (which must stay valid until the handler runs), then calls
  /// `h(std::error_code, std::size_t)`.
  template <class Handler>
  void async_write(asio::const_buffer b, Handler&& h) {
    if (in_ == nullptr) {
      asio::async_write(socket(), b, net::transfer_whole{}, std::forward<Handler>(h));
      return;
    }
    asio::co_spawn(socket().get_executor(), t_.write(b),
                   [h = std::forward<Handler>(h), size = b.size()](const std::exception_ptr& e,
                                                                  std::error_code ec) mutable {
                     if (e) {
                       ec = std::make_error_code(std::errc::io_error);
                     }
                     h(ec, ec ? std::size_t{0} : size);
                   });
  }

  /// Ends our sending direction (TLS: close_notify, then FIN), then calls `h(std::error_code)`:
  /// at once for a plain socket, after the close_notify was sent for TLS.
  template <class Handler>
  void async_shutdown_send(Handler&& h) {
    if (in_ == nullptr) {
      std::error_code ec;
      socket().shutdown(net::tcp::socket::shutdown_send, ec);
      std::forward<Handler>(h)(ec);
      return;
    }
    asio::co_spawn(socket().get_executor(), t_.shutdown_send(),
                   [h = std::forward<Handler>(h)](const std::exception_ptr& e,
                                                  std::error_code ec) mutable {
                     h(e ? std::make_error_code(std::errc::io_error) : ec);
                   });
  }

  /// Closes the socket: pending operations complete with an error.
  void close() noexcept { t_.close(); }

 private:
  // Plaintext a TLS wait read, buf[pos, len) not yet handed out, and how its read ended.
  struct tls_inbox {
    std::vector<std::byte> buf;
    std::size_t pos = 0;
    std::size_t len = 0;
    std::error_code ec;
  };

  tls::transport t_;
  std::unique_ptr<tls_inbox> in_;  // TLS sockets only
};

}  // namespace kiteline::tunnel
