#include "net/tls_stream.hpp"

#include <algorithm>
#include <array>
#include <cstring>

#include <openssl/err.h>

#include "core/memory.hpp"

namespace kiteline::net {

namespace {
/// Plaintext handed to one SSL_write call (OpenSSL cuts it into 16 KiB records).
constexpr std::size_t write_slice = 64 * 1024;
/// Ciphertext collected before it is sent; large enough to batch many records per send. A
/// tunnel's outbox holds up to ~1 MiB, so one write of it is sealed whole and leaves in one
/// send (256 KiB meant four sends and four event-loop rounds per batch: bench/ab.sh, 1 GiB
/// downloads, 10 starts x 3, 1.53 -> 1.36 CPU-s/GiB; 8 visitors 1.45 -> 1.36). Small writes
/// are flushed at once whatever this is.
constexpr std::size_t flush_threshold = 1024 * 1024;
/// A socket read must hold a whole TLS record (16 KiB + overhead).
constexpr std::size_t min_read_buffer = 18 * 1024;
static_assert(min_read_buffer >= tls::record_header_size + tls::max_record_ciphertext);
/// The read buffer grows up to this while reads keep filling it.
constexpr std::size_t max_read_buffer = 256 * 1024;
/// Post-handshake messages (tickets, KeyUpdate) are small; more than this is an attack.
constexpr std::size_t max_handshake_bytes = 64 * 1024;

/// An OpenSSL "SSL library" error with `reason`, as libssl itself would report it (same text).
std::error_code ssl_reason(int reason) {
  return {static_cast<int>(ERR_PACK(ERR_LIB_SSL, 0, reason)), asio::error::get_ssl_category()};
}
}  // namespace

/// The custom BIO between OpenSSL and the stream's buffers (callbacks only; no state).
struct tls_stream_bio {
  static tls_stream* self(BIO* b) { return static_cast<tls_stream*>(BIO_get_data(b)); }

  static int write_ex(BIO* b, const char* data, std::size_t len, std::size_t* written) {
    BIO_clear_retry_flags(b);
    auto* s = self(b);
    core::append(s->out_, data, len);
    *written = len;
    return 1;
  }

  static int read_ex(BIO* b, char* out, std::size_t len, std::size_t* got) {
    BIO_clear_retry_flags(b);
    auto* s = self(b);
    const std::size_t avail = s->in_len_ - s->in_pos_;
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

tls_stream::tls_stream(prefixed_socket&& s, asio::ssl::context& ctx, std::size_t read_buffer)
    : next_(std::move(s)),
      read_size_(std::max(read_buffer, min_read_buffer)),
      flushed_(next_.get_executor()) {
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

awaitable<std::error_code> tls_stream::flush() {
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
    auto [wec, n] = co_await asio::async_write(next_.socket(), asio::buffer(out_busy_),
                                             transfer_whole{}, use_tuple);
    (void)n;
    ec = wec;
  }
  out_busy_.clear();
  if (out_busy_.capacity() > 4 * flush_threshold) {
    core::release(out_busy_);
  }
  flushing_ = false;
  flushed_.notify();
  co_return ec;
}

awaitable<std::error_code> tls_stream::fill() {
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
  auto [ec, n] = co_await next_.async_read_some(asio::buffer(in_.data() + in_len_, space),
                                                use_tuple);
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

awaitable<std::error_code> tls_stream::handshake(asio::ssl::stream_base::handshake_type type) {
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

awaitable<std::tuple<std::error_code, std::size_t>> tls_stream::read_some(
    std::span<std::byte> buf) {
  if (buf.empty()) {
    co_return std::tuple{std::error_code{}, std::size_t{0}};
  }
  if (read_error_) {
    co_return std::tuple{read_error_, std::size_t{0}};
  }
  // Bounded: every round either returns or reads the socket (which ends with data or an end).
  for (;;) {
    std::size_t total = 0;
    const std::error_code ec =
        rx_ != nullptr ? open_records(buf, total) : ssl_read_records(buf, total);
    // Reading may produce records to send (a KeyUpdate answer, an alert); a running writer
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
    if (in_eof_) {
      read_error_ = asio::ssl::error::stream_truncated;
      co_return std::tuple{read_error_, std::size_t{0}};
    }
    if (auto fec = co_await fill()) {
      co_return std::tuple{fec, std::size_t{0}};
    }
  }
}

std::error_code tls_stream::ssl_read_records(std::span<std::byte> buf, std::size_t& total) {
  while (total < buf.size()) {
    ::ERR_clear_error();
    std::size_t n = 0;
    const int r = ::SSL_read_ex(ssl_, buf.data() + total, buf.size() - total, &n);
    if (r == 1) {
      total += n;
      continue;
    }
    if (::SSL_get_error(ssl_, r) != SSL_ERROR_WANT_READ) {
      return take_error(r);
    }
    break;
  }
  return {};
}

awaitable<std::error_code> tls_stream::write(std::span<const asio::const_buffer> bufs) {
  if (tx_ != nullptr) {
    co_return co_await write_own(bufs);
  }
  for (const auto& b : bufs) {
    const auto* p = static_cast<const std::byte*>(b.data());
    std::size_t left = b.size();
    while (left > 0) {
      ::ERR_clear_error();
      std::size_t n = 0;
      const int r = ::SSL_write_ex(ssl_, p, std::min(left, write_slice), &n);
      if (r != 1) {
        co_return take_error(r);
      }
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

void tls_stream::release_idle_buffers() noexcept {
  if (!flushing_) {
    core::release(out_busy_);
    if (out_.empty()) {
      core::release(out_);
    }
  }
}

awaitable<std::error_code> tls_stream::shutdown_send() {
  if (tx_ != nullptr) {
    constexpr std::array<std::byte, 2> close_notify{std::byte{1}, std::byte{0}};
    (void)seal_message(tls::content_alert, close_notify);
  } else {
    ::ERR_clear_error();
    (void)::SSL_shutdown(ssl_);  // queues close_notify; the peer's is not awaited
    ::ERR_clear_error();
  }
  auto ec = co_await flush();
  std::error_code sec;
  next_.socket().shutdown(tcp::socket::shutdown_send, sec);
  co_return ec ? ec : sec;
}

// ---------------------------------------------------------------- own record layer

void tls_stream::take_over_records() {
  const bool client = ::SSL_is_server(ssl_) == 0;
  const auto suite = tls::record_suite_of(ssl_);
  const bool have_secrets = secrets_.client_size > 0 && secrets_.server_size > 0;
  // Nothing of the peer's may sit in libssl: with read-ahead off (the default) it reads one
  // record at a time and stops at the handshake's last one, so the peer's first protected
  // record is still in in_ and both read sequence numbers are 0.
  if (suite && have_secrets && ::SSL_has_pending(ssl_) == 0) {
    auto rx = std::make_unique<tls::record_keys>();
    const auto& peer = client ? secrets_.server : secrets_.client;
    const std::size_t peer_size = client ? secrets_.server_size : secrets_.client_size;
    if (rx->init(*suite, std::span<const std::byte>(peer.data(), peer_size), false)) {
      rx_ = std::move(rx);
      // A client has sent nothing under its traffic key yet (sequence 0). A server may have
      // sent session tickets under it, so its writes stay with libssl.
      if (client) {
        auto tx = std::make_unique<tls::record_keys>();
        if (tx->init(*suite, std::span<const std::byte>(secrets_.client.data(),
                                                        secrets_.client_size),
                     true)) {
          tx_ = std::move(tx);
        }
      }
    }
  }
  tls::collect_traffic_secrets(ssl_, nullptr);
  secrets_.wipe();
  ::ERR_clear_error();
}

std::error_code tls_stream::open_records(std::span<std::byte> buf, std::size_t& total) {
  if (pend_len_ > 0) {
    const std::size_t n = std::min(pend_len_, buf.size());
    std::memcpy(buf.data(), in_.data() + pend_pos_, n);
    pend_pos_ += n;
    pend_len_ -= n;
    total = n;
  }
  // in_[in_pos_, in_len_) holds whole or partial records; a partial one waits for fill().
  while (total < buf.size() && pend_len_ == 0) {
    const std::size_t avail = in_len_ - in_pos_;
    if (avail < tls::record_header_size) {
      break;
    }
    std::byte* rec = in_.data() + in_pos_;
    const std::size_t len = (std::to_integer<std::size_t>(rec[3]) << 8) |
                            std::to_integer<std::size_t>(rec[4]);
    if (std::to_integer<std::uint8_t>(rec[0]) != tls::content_application_data) {
      return ssl_reason(SSL_R_UNEXPECTED_RECORD);
    }
    if (len > tls::max_record_ciphertext) {
      return ssl_reason(SSL_R_ENCRYPTED_LENGTH_TOO_LONG);
    }
    if (len < tls::record_tag_size + 1) {
      return ssl_reason(SSL_R_BAD_LENGTH);
    }
    if (avail < tls::record_header_size + len) {
      break;
    }
    const std::size_t inner = len - tls::record_tag_size;
    // Straight into the reader's buffer when the record fits, else in place.
    const bool direct = buf.size() - total >= inner;
    std::byte* out = direct ? buf.data() + total : rec + tls::record_header_size;
    if (!rx_->open(rec, tls::record_header_size + len, out)) {
      return ssl_reason(SSL_R_DECRYPTION_FAILED_OR_BAD_RECORD_MAC);
    }
    in_pos_ += tls::record_header_size + len;
    std::size_t k = inner;  // TLSInnerPlaintext: content, type, zero padding
    while (k > 0 && out[k - 1] == std::byte{0}) {
      --k;
    }
    if (k == 0) {
      return ssl_reason(SSL_R_UNEXPECTED_MESSAGE);
    }
    const auto type = std::to_integer<std::uint8_t>(out[--k]);
    if (k > tls::max_record_plaintext) {
      return ssl_reason(SSL_R_DATA_LENGTH_TOO_LONG);
    }
    if (type == tls::content_application_data) {
      if (direct) {
        total += k;
      } else {
        const std::size_t n = std::min(k, buf.size() - total);
        std::memcpy(buf.data() + total, out, n);
        total += n;
        pend_pos_ = static_cast<std::size_t>(out - in_.data()) + n;
        pend_len_ = k - n;
      }
    } else if (type == tls::content_handshake) {
      if (k == 0) {
        return ssl_reason(SSL_R_UNEXPECTED_MESSAGE);
      }
      if (auto ec = on_handshake_bytes(out, k)) {
        return ec;
      }
    } else if (type == tls::content_alert) {
      if (k != 2) {
        return ssl_reason(SSL_R_BAD_LENGTH);
      }
      const int desc = std::to_integer<int>(out[1]);
      if (desc == SSL3_AD_CLOSE_NOTIFY) {
        return asio::error::eof;
      }
      if (desc == TLS1_AD_USER_CANCELLED) {
        continue;  // a warning in TLS 1.3, ignored as libssl does (close_notify follows)
      }
      return ssl_reason(SSL_AD_REASON_OFFSET + desc);  // "tlsv1 alert ..." as libssl says it
    } else {
      return ssl_reason(SSL_R_UNEXPECTED_RECORD);
    }
  }
  return {};
}

std::error_code tls_stream::on_handshake_bytes(const std::byte* p, std::size_t n) {
  if (hs_.size() + n > max_handshake_bytes) {
    return ssl_reason(SSL_R_EXCESSIVE_MESSAGE_SIZE);
  }
  hs_.insert(hs_.end(), p, p + n);
  std::size_t pos = 0;
  while (hs_.size() - pos >= 4) {
    const auto msg_type = std::to_integer<std::uint8_t>(hs_[pos]);
    const std::size_t len = (std::to_integer<std::size_t>(hs_[pos + 1]) << 16) |
                            (std::to_integer<std::size_t>(hs_[pos + 2]) << 8) |
                            std::to_integer<std::size_t>(hs_[pos + 3]);
    if (hs_.size() - pos - 4 < len) {
      break;
    }
    const std::byte* body = hs_.data() + pos + 4;
    pos += 4 + len;
    if (msg_type == SSL3_MT_NEWSESSION_TICKET && ::SSL_is_server(ssl_) == 0) {
      continue;  // tunnels are long-lived; kiteline does not resume them
    }
    if (msg_type == SSL3_MT_KEY_UPDATE) {
      if (len != 1 || std::to_integer<int>(body[0]) > 1) {
        return ssl_reason(SSL_R_BAD_KEY_UPDATE);
      }
      if (pos != hs_.size()) {  // a key change must end its record (RFC 8446 §5.1)
        return ssl_reason(SSL_R_NOT_ON_RECORD_BOUNDARY);
      }
      const bool requested = std::to_integer<int>(body[0]) == 1;
      if (!rx_->update()) {
        return ssl_reason(ERR_R_INTERNAL_ERROR);
      }
      if (requested) {
        if (tx_ != nullptr) {
          if (!seal_message(tls::content_handshake, tls::key_update_message(false)) ||
              !tx_->update()) {
            return ssl_reason(ERR_R_INTERNAL_ERROR);
          }
        } else {
          // libssl writes: it sends its KeyUpdate (and switches keys) in SSL_do_handshake.
          ::ERR_clear_error();
          if (::SSL_key_update(ssl_, SSL_KEY_UPDATE_NOT_REQUESTED) != 1 ||
              ::SSL_do_handshake(ssl_) != 1) {
            ::ERR_clear_error();
            return ssl_reason(SSL_R_BAD_KEY_UPDATE);
          }
        }
      }
      continue;
    }
    return ssl_reason(SSL_R_UNEXPECTED_MESSAGE);
  }
  hs_.erase(hs_.begin(), hs_.begin() + static_cast<std::ptrdiff_t>(pos));
  return {};
}

bool tls_stream::seal_message(std::uint8_t type, std::span<const std::byte> body) {
  const std::size_t at = out_.size();
  out_.resize(at + tls::sealed_record_size(body.size()));
  std::byte* r = out_.data() + at;
  return tx_->seal_begin(r, body.size()) &&
         tx_->seal_add(body.data(), body.size(), r + tls::record_header_size) &&
         tx_->seal_finish(type, r + tls::record_header_size + body.size());
}

bool tls_stream::renew_write_key_if_due() {
  if (tx_->sequence() < key_update_interval_) {
    return true;
  }
  return seal_message(tls::content_handshake, tls::key_update_message(false)) && tx_->update();
}

awaitable<std::error_code> tls_stream::write_own(std::span<const asio::const_buffer> bufs) {
  std::size_t remaining = 0;
  for (const auto& b : bufs) {
    remaining += b.size();
  }
  std::size_t bi = 0;    // buffer being sealed
  std::size_t boff = 0;  // offset in it
  while (remaining > 0) {
    if (!renew_write_key_if_due()) {
      co_return ssl_reason(ERR_R_INTERNAL_ERROR);
    }
    const std::size_t k = std::min(remaining, tls::max_record_plaintext);
    const std::size_t at = out_.size();
    out_.resize(at + tls::sealed_record_size(k));
    std::byte* r = out_.data() + at;
    if (!tx_->seal_begin(r, k)) {
      co_return ssl_reason(ERR_R_INTERNAL_ERROR);
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
        co_return ssl_reason(ERR_R_INTERNAL_ERROR);
      }
      done += n;
      boff += n;
    }
    if (!tx_->seal_finish(tls::content_application_data, r + tls::record_header_size + k)) {
      co_return ssl_reason(ERR_R_INTERNAL_ERROR);
    }
    remaining -= k;
    if (out_.size() >= flush_threshold) {
      if (auto ec = co_await flush()) {
        co_return ec;
      }
    }
  }
  co_return co_await flush();
}

}  // namespace kiteline::net
