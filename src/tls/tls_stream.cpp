#include "tls/tls_stream.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include <openssl/err.h>
#include <sys/socket.h>

#include "core/memory.hpp"

namespace kiteline::tls {

namespace {
/// Plaintext handed to one SSL_write call (OpenSSL cuts it into 16 KiB records).
constexpr std::size_t write_slice = 64 * 1024;
/// Ciphertext collected before it is sent; large enough to batch many records per send. A
/// tunnel's outbox holds up to ~1 MiB, so one write of it is sealed whole and leaves in one
/// send (256 KiB meant four sends and four event-loop rounds per batch; the measurement is in
/// docs/benchmarks.md, "One send per outbox batch"). Small writes are flushed at once whatever
/// this is.
constexpr std::size_t flush_threshold = 1024 * 1024;
/// A socket read must hold a whole TLS record (16 KiB + overhead).
constexpr std::size_t min_read_buffer = 18 * 1024;
static_assert(min_read_buffer >= tls::record_header_size + tls::max_record_ciphertext);
/// The read buffer grows up to this while reads keep filling it.
constexpr std::size_t max_read_buffer = 256 * 1024;
}  // namespace

/// The custom BIO between OpenSSL and the stream's buffers (callbacks only; no state).
struct tls_stream_bio {
  static tls_stream* self(BIO* b) { return static_cast<tls_stream*>(BIO_get_data(b)); }

  static int write_ex(BIO* b, const char* data, std::size_t len, std::size_t* written) {
    BIO_clear_retry_flags(b);
    auto* s = self(b);
    if (s->counting_) {
      s->count_libssl_records(reinterpret_cast<const std::byte*>(data), len);
    }
    core::append(s->out_, data, len);
    if (s->in_ssl_read_) {
      s->note_reply(len);  // a KeyUpdate answer, an alert: produced by reading
    }
    *written = len;
    return 1;
  }

  static int read_ex(BIO* b, char* out, std::size_t len, std::size_t* got) {
    BIO_clear_retry_flags(b);
    auto* s = self(b);
    const std::size_t avail = s->in_len_ - s->in_pos_;
    // Replies over the cap (libssl answers each KeyUpdate request as it reads it): libssl gets
    // no more ciphertext until they drained, so SSL_read stops at the next record.
    if (s->unsent_reply_bytes() > tls_stream::reply_cap) {
      *got = 0;
      BIO_set_retry_read(b);
      return 0;
    }
    if (avail == 0) {
      *got = 0;
      if (!s->in_eof_) {
        BIO_set_retry_read(b);
      }
      return 0;
    }
    const std::size_t n = std::min(avail, len);
    std::memcpy(out, s->in_.data() + s->in_pos_, n);
    s->in_pos_ += n;
    *got = n;
    return 1;
  }

  static long ctrl(BIO* b, int cmd, long /*num*/, void* /*ptr*/) {
    auto* s = self(b);
    switch (cmd) {
      case BIO_CTRL_FLUSH:
        return 1;
      case BIO_CTRL_PENDING:
        return static_cast<long>(s->in_len_ - s->in_pos_);
      case BIO_CTRL_WPENDING:
        return 0;
      case BIO_CTRL_EOF:
        return s->in_eof_ && s->in_pos_ == s->in_len_ ? 1 : 0;
      default:
        return 0;
    }
  }
};

tls_stream::tls_stream(net::prefixed_socket&& s, asio::ssl::context& ctx, std::size_t read_buffer)
    : next_(std::move(s)),
      read_size_(std::max(read_buffer, min_read_buffer)),
      flushed_(next_.get_executor()),
      drained_(next_.get_executor()) {
  ssl_ = ::SSL_new(ctx.native_handle());
  method_ = ::BIO_meth_new(BIO_TYPE_SOURCE_SINK, "kiteline tls_stream");
  BIO* bio = method_ != nullptr ? ::BIO_new(method_) : nullptr;
  if (ssl_ == nullptr || bio == nullptr) {
    ::BIO_free(bio);
    ::SSL_free(ssl_);
    ::BIO_meth_free(method_);
    throw std::system_error(std::make_error_code(std::errc::not_enough_memory),
                            "cannot create a TLS connection");
  }
  ::BIO_meth_set_write_ex(method_, &tls_stream_bio::write_ex);
  ::BIO_meth_set_read_ex(method_, &tls_stream_bio::read_ex);
  ::BIO_meth_set_ctrl(method_, &tls_stream_bio::ctrl);
  ::BIO_set_data(bio, this);
  ::BIO_set_init(bio, 1);
  ::SSL_set_bio(ssl_, bio, bio);
  tls::collect_traffic_secrets(ssl_, &secrets_);
}

tls_stream::~tls_stream() {
  ::SSL_free(ssl_);  // frees the BIO
  ::BIO_meth_free(method_);
  secrets_.wipe();
}

std::error_code tls_stream::take_error(int ret) {
  const int err = ::SSL_get_error(ssl_, ret);
  std::error_code ec;
  switch (err) {
    case SSL_ERROR_ZERO_RETURN:
      ec = asio::error::eof;
      break;
    case SSL_ERROR_SSL: {
      const unsigned long e = ::ERR_get_error();
      if (ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
        ec = asio::ssl::error::stream_truncated;
      } else {
        ec = std::error_code(static_cast<int>(e), asio::error::get_ssl_category());
      }
      break;
    }
    case SSL_ERROR_SYSCALL:
      // Our BIO never fails on its own: the only "syscall" error is the socket's end.
      ec = asio::ssl::error::stream_truncated;
      break;
    default:
      ec = asio::error::fault;
      break;
  }
  ::ERR_clear_error();
  return ec;
}

net::awaitable<std::error_code> tls_stream::flush() {
  // Whoever flushes sends everything queued, including bytes appended meanwhile; a second
  // flusher (only the writer ever waits) waits for the first to finish.
  while (flushing_) {
    co_await flushed_.wait();
  }
  flushing_ = true;
  std::error_code ec;
  // Bounded: each round sends what was queued before it; nothing is queued without a caller.
  while (!out_.empty() && !ec) {
    out_busy_.clear();
    std::swap(out_, out_busy_);
    reply_busy_ = reply_out_;
    reply_out_ = 0;
    auto [wec, n] = co_await asio::async_write(next_.socket(), asio::buffer(out_busy_),
                                             net::transfer_whole{}, net::use_tuple);
    (void)n;
    ec = wec;
    reply_busy_ = 0;
    drained_.notify();
  }
  out_busy_.clear();
  if (out_busy_.capacity() > 4 * flush_threshold) {
    core::release(out_busy_);
  }
  flushing_ = false;
  flushed_.notify();
  co_return ec;
}

net::awaitable<std::error_code> tls_stream::fill() {
  if (in_pos_ == in_len_) {
    in_pos_ = 0;
    in_len_ = 0;
  } else if (in_pos_ > 0) {
    std::memmove(in_.data(), in_.data() + in_pos_, in_len_ - in_pos_);
    in_len_ -= in_pos_;
    in_pos_ = 0;
  }
  if (in_.size() != read_size_) {
    in_.resize(read_size_);
  }
  const std::size_t space = in_.size() - in_len_;
  filling_ = true;
  auto [ec, n] = co_await next_.async_read_some(asio::buffer(in_.data() + in_len_, space),
                                                net::use_tuple);
  filling_ = false;
  if (ec == asio::error::eof) {
    in_eof_ = true;
    co_return std::error_code{};
  }
  if (ec) {
    co_return ec;
  }
  in_len_ += n;
  if (n == space && read_size_ < max_read_buffer) {
    read_size_ = std::max(read_size_, std::min(read_size_ * 2, max_read_buffer));
  }
  co_return std::error_code{};
}

net::awaitable<std::error_code> tls_stream::handshake(asio::ssl::stream_base::handshake_type type) {
  if (type == asio::ssl::stream_base::client) {
    ::SSL_set_connect_state(ssl_);
  } else {
    ::SSL_set_accept_state(ssl_);
  }
  // A handshake is a handful of flights; the caller bounds it in time, this bounds the rounds.
  for (int round = 0; round < 64; ++round) {
    ::ERR_clear_error();
    const int r = ::SSL_do_handshake(ssl_);
    std::error_code ec;
    if (r != 1) {
      const int err = ::SSL_get_error(ssl_, r);
      if (err != SSL_ERROR_WANT_READ) {
        ec = take_error(r);
      }
    }
    // Send what OpenSSL produced (also the alert that explains a failure).
    if (!out_.empty()) {
      auto fec = co_await flush();
      if (!ec) {
        ec = fec;
      }
    }
    if (ec) {
      co_return ec;
    }
    if (r == 1) {
      take_over_records();
      co_return std::error_code{};
    }
    if (in_eof_) {
      co_return asio::ssl::error::stream_truncated;
    }
    if (auto fec = co_await fill()) {
      co_return fec;
    }
  }
  co_return asio::error::fault;
}

net::awaitable<std::tuple<std::error_code, std::size_t>> tls_stream::read_some(
    std::span<std::byte> buf) {
  if (buf.empty()) {
    co_return std::tuple{std::error_code{}, std::size_t{0}};
  }
  if (read_error_) {
    co_return std::tuple{read_error_, std::size_t{0}};
  }
  // Bounded: every round either returns or reads the socket (which ends with data or an end),
  // or waits for replies to drain (which ends with a send or a send error).
  for (;;) {
    if (auto dec = co_await drain_replies()) {
      read_error_ = dec;
      co_return std::tuple{dec, std::size_t{0}};
    }
    std::size_t total = 0;
    const std::error_code ec =
        rx_ != nullptr ? open_records(buf, total) : ssl_read_records(buf, total);
    if (!ec) {
      renew_peer_key_if_due();
    }
    // The pass stopped for the replies, not for want of ciphertext: go on once they drained.
    const bool held_back = unsent_reply_bytes() > reply_cap;
    // Reading may produce records to send (a KeyUpdate request, an alert); a running writer
    // sends them with its own bytes.
    if (!out_.empty() && !flushing_) {
      (void)co_await flush();
    }
    if (total > 0) {
      read_error_ = ec;
      co_return std::tuple{std::error_code{}, total};
    }
    if (ec) {
      read_error_ = ec;
      co_return std::tuple{ec, std::size_t{0}};
    }
    if (held_back) {
      continue;
    }
    if (in_eof_) {
      read_error_ = asio::ssl::error::stream_truncated;
      co_return std::tuple{read_error_, std::size_t{0}};
    }
    if (auto fec = co_await fill()) {
      co_return std::tuple{fec, std::size_t{0}};
    }
  }
}

net::awaitable<std::error_code> tls_stream::drain_replies() {
  bool paused = false;
  while (unsent_reply_bytes() > reply_cap) {
    if (!paused) {
      ++counters_.read_pauses;
      paused = true;
    }
    if (!flushing_) {
      if (auto ec = co_await flush()) {
        co_return ec;
      }
    } else {
      co_await drained_.wait();
    }
  }
  co_return std::error_code{};
}

void tls_stream::note_reply(std::size_t n) noexcept {
  reply_out_ += n;
  counters_.reply_peak = std::max(counters_.reply_peak, unsent_reply_bytes());
}

tls_stream::counters tls_stream::stats() const noexcept {
  counters c = counters_;
  if (rx_ != nullptr) {
    c.key_updates_received = rx_->key_updates();
  }
  return c;
}

std::error_code tls_stream::ssl_read_records(std::span<std::byte> buf, std::size_t& total) {
  while (total < buf.size() && unsent_reply_bytes() <= reply_cap) {
    ::ERR_clear_error();
    std::size_t n = 0;
    in_ssl_read_ = true;
    const int r = ::SSL_read_ex(ssl_, buf.data() + total, buf.size() - total, &n);
    in_ssl_read_ = false;
    if (r == 1) {
      total += n;
      ++libssl_read_;
      continue;
    }
    if (::SSL_get_error(ssl_, r) != SSL_ERROR_WANT_READ) {
      return take_error(r);
    }
    break;  // all ciphertext taken, or the BIO held it back for the reply cap
  }
  return {};
}

net::awaitable<std::error_code> tls_stream::write(std::span<const asio::const_buffer> bufs) {
  if (fatal_sent_) {
    co_return reason_error(SSL_R_PROTOCOL_IS_SHUTDOWN);  // as libssl after a fatal alert
  }
  if (tx_ != nullptr) {
    co_return co_await write_own(bufs);
  }
  co_return co_await write_libssl(bufs);
}

net::awaitable<std::error_code> tls_stream::write_libssl(std::span<const asio::const_buffer> bufs) {
  for (const auto& b : bufs) {
    const auto* p = static_cast<const std::byte*>(b.data());
    std::size_t left = b.size();
    while (left > 0) {
      if (libssl_tls13_ && libssl_written_ >= write_key_records_) {
        // libssl sends the KeyUpdate before the next record it writes.
        ::ERR_clear_error();
        if (::SSL_key_update(ssl_, SSL_KEY_UPDATE_NOT_REQUESTED) == 1) {
          ++counters_.key_updates_sent;
        }
        ::ERR_clear_error();
        libssl_written_ = 0;
      }
      ::ERR_clear_error();
      std::size_t n = 0;
      const int r = ::SSL_write_ex(ssl_, p, std::min(left, write_slice), &n);
      if (r != 1) {
        co_return take_error(r);
      }
      libssl_written_ += (n + tls::max_record_plaintext - 1) / tls::max_record_plaintext;
      p += n;
      left -= n;
      if (out_.size() >= flush_threshold) {
        if (auto ec = co_await flush()) {
          co_return ec;
        }
      }
    }
  }
  co_return co_await flush();
}

net::awaitable<std::error_code> tls_stream::write_own(std::span<const asio::const_buffer> bufs) {
  std::size_t remaining = 0;
  for (const auto& b : bufs) {
    remaining += b.size();
  }
  std::size_t bi = 0;    // buffer being sealed
  std::size_t boff = 0;  // offset in it
  while (remaining > 0) {
    if (!send_key_update_if_due()) {
      co_return reason_error(ERR_R_INTERNAL_ERROR);
    }
    const std::size_t k = std::min(remaining, tls::max_record_plaintext);
    const std::size_t at = out_.size();
    out_.resize(at + tls::sealed_record_size(k));
    std::byte* r = out_.data() + at;
    if (!tx_->seal_begin(r, k)) {
      co_return reason_error(ERR_R_INTERNAL_ERROR);
    }
    // The plaintext goes from the caller's buffers straight into the record (one pass).
    for (std::size_t done = 0; done < k;) {
      const auto& b = bufs[bi];
      const std::size_t avail = b.size() - boff;
      if (avail == 0) {
        ++bi;
        boff = 0;
        continue;
      }
      const std::size_t n = std::min(avail, k - done);
      if (!tx_->seal_add(static_cast<const std::byte*>(b.data()) + boff, n,
                         r + tls::record_header_size + done)) {
        co_return reason_error(ERR_R_INTERNAL_ERROR);
      }
      done += n;
      boff += n;
    }
    if (!tx_->seal_finish(tls::content_application_data, r + tls::record_header_size + k)) {
      co_return reason_error(ERR_R_INTERNAL_ERROR);
    }
    remaining -= k;
    if (out_.size() >= flush_threshold) {
      if (auto ec = co_await flush()) {
        co_return ec;
      }
      if (fatal_sent_) {  // the reader refused the peer's input meanwhile
        co_return reason_error(SSL_R_PROTOCOL_IS_SHUTDOWN);
      }
    }
  }
  co_return co_await flush();
}

void tls_stream::rebind(net::tcp::socket&& s) {
  const auto ex = s.get_executor();
  next_.replace_socket(std::move(s));
  flushed_ = net::signal(ex);
  drained_ = net::signal(ex);
}

void tls_stream::release_idle_buffers() noexcept {
  if (!flushing_) {
    core::release(out_busy_);
    if (out_.empty()) {
      core::release(out_);
    }
  }
  if (!filling_ && in_pos_ == in_len_ && pend_len_ == 0) {
    core::release(in_);
    in_pos_ = 0;
    in_len_ = 0;
  }
}

void tls_stream::release_libssl() noexcept {
  if (ssl_ == nullptr || rx_ == nullptr || tx_ == nullptr || counting_) {
    return;
  }
  ::SSL_free(ssl_);  // frees the BIO
  ssl_ = nullptr;
  ::BIO_meth_free(method_);
  method_ = nullptr;
  ::ERR_clear_error();
}

net::awaitable<std::error_code> tls_stream::wait_readable() {
  const bool buffered = in_pos_ < in_len_ || pend_len_ > 0 || next_.prefix_size() > 0 ||
                        (rx_ == nullptr && ::SSL_has_pending(ssl_) != 0);
  if (buffered || read_error_ || in_eof_ || try_fill_now()) {
    co_return std::error_code{};
  }
  auto [ec] = co_await next_.socket().async_wait(net::tcp::socket::wait_read, net::use_tuple);
  co_return ec;
}

bool tls_stream::try_fill_now() noexcept {
  // Only with the buffer of the last read still here (a busy connection: its next bytes are
  // often waiting already, and the read the old path started with would have found them; an
  // idle one gave the buffer back and just waits). One recv that never blocks: no bytes
  // costs what the failed first try of an Asio read costs, and saves the event loop pass
  // (and the epoll_ctl re-arm) that waiting first would add.
  if (filling_ || in_.empty() || in_pos_ != in_len_) {
    return false;
  }
  in_pos_ = 0;
  in_len_ = 0;
  const ::ssize_t n = ::recv(next_.socket().native_handle(), in_.data(), in_.size(), MSG_DONTWAIT);
  if (n > 0) {
    in_len_ = static_cast<std::size_t>(n);
    return true;
  }
  if (n == 0) {
    in_eof_ = true;
    return true;
  }
  // EAGAIN: wait. Another error: read_some's socket read meets it again and reports it.
  return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
}

net::awaitable<std::error_code> tls_stream::shutdown_send() {
  if (fatal_sent_) {
    // The alert closed the connection already.
  } else if (tx_ != nullptr) {
    constexpr std::array<std::byte, 2> close_notify{std::byte{tls::alert_level_warning},
                                                    std::byte{tls::alert_close_notify}};
    (void)seal_message(tls::content_alert, close_notify);
  } else {
    ::ERR_clear_error();
    (void)::SSL_shutdown(ssl_);  // queues close_notify; the peer's is not awaited
    ::ERR_clear_error();
  }
  auto ec = co_await flush();
  std::error_code sec;
  next_.socket().shutdown(net::tcp::socket::shutdown_send, sec);
  co_return ec ? ec : sec;
}

}  // namespace kiteline::tls
