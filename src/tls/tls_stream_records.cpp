// tls::tls_stream's own TLS 1.3 record layer: taking the records over from libssl after the
// handshake, opening the peer's records, renewing keys, sealing alerts and KeyUpdates
// (tls_stream.cpp holds the I/O, the handshake, the writers and libssl's path).
#include <algorithm>
#include <array>
#include <cstring>

#include <openssl/err.h>

#include "tls/tls_stream.hpp"

namespace kiteline::tls {

namespace {
/// libssl's writes under our application key tried before take-over: an OpenSSL server's
/// session tickets (two by default) and, for a client, its Finished (under its handshake key).
constexpr int max_probed_records = 64;
}  // namespace

void tls_stream::count_libssl_records(const std::byte* p, std::size_t n) {
  const bool server = ::SSL_is_server(ssl_) != 0;
  const auto& own = server ? secrets_.server : secrets_.client;
  const std::size_t own_size = server ? secrets_.server_size : secrets_.client_size;
  // Nothing can be under our application key before the keylog hook gave it (it reports a
  // secret when libssl derives it, before the first record it seals with it).
  if (own_size == 0 || count_unknown_) {
    return;
  }
  if (probe_ == nullptr) {
    const auto suite = tls::record_suite_of(ssl_);
    if (!suite) {
      return;  // not TLS 1.3 (or not a suite of ours): libssl keeps the records anyway
    }
    probe_ = std::make_unique<tls::record_keys>();
    if (!probe_->init(*suite, std::span<const std::byte>(own.data(), own_size), false)) {
      count_unknown_ = true;
      return;
    }
  }
  // libssl hands its BIO whole records (our BIO never takes less than it is given). A record
  // that opens under our application key at the next sequence number is one libssl sealed
  // with it; any other fails the AEAD check (a forgery chance of 2^-128).
  std::vector<std::byte> scratch;
  while (n > 0) {
    if (n < tls::record_header_size || ++probed_ > max_probed_records) {
      count_unknown_ = true;
      return;
    }
    const std::size_t len =
        (std::to_integer<std::size_t>(p[3]) << 8) | std::to_integer<std::size_t>(p[4]);
    if (n < tls::record_header_size + len) {
      count_unknown_ = true;
      return;
    }
    if (std::to_integer<std::uint8_t>(p[0]) == tls::content_application_data &&
        len > tls::record_tag_size && len <= tls::max_record_ciphertext) {
      scratch.resize(len);
      if (probe_->open(p, tls::record_header_size + len, scratch.data())) {
        ++libssl_sealed_;
      }
    }
    p += tls::record_header_size + len;
    n -= tls::record_header_size + len;
  }
}

void tls_stream::take_over_records() {
  const bool server = ::SSL_is_server(ssl_) != 0;
  const auto suite = tls::record_suite_of(ssl_);
  const bool have_secrets = secrets_.client_size > 0 && secrets_.server_size > 0;
  // Nothing of the peer's may sit in libssl: with read-ahead off (the default) it reads one
  // record at a time and stops at the handshake's last one, so the peer's first protected
  // record is still in in_ and our read sequence number is 0.
  if (suite && have_secrets && !count_unknown_ && ::SSL_has_pending(ssl_) == 0) {
    const auto& peer = server ? secrets_.client : secrets_.server;
    const std::size_t peer_size = server ? secrets_.client_size : secrets_.server_size;
    const auto& own = server ? secrets_.server : secrets_.client;
    const std::size_t own_size = server ? secrets_.server_size : secrets_.client_size;
    auto rx = std::make_unique<tls::record_reader>();
    auto tx = std::make_unique<tls::record_keys>();
    // Our writes go on after the records libssl sealed under our key (a server's tickets).
    if (rx->init(*suite, std::span<const std::byte>(peer.data(), peer_size), server) &&
        tx->init(*suite, std::span<const std::byte>(own.data(), own_size), true,
                 libssl_sealed_)) {
      rx_ = std::move(rx);
      tx_ = std::move(tx);
    }
  }
  counting_ = false;
  probe_.reset();
  tls::collect_traffic_secrets(ssl_, nullptr);
  secrets_.wipe();
  libssl_tls13_ = rx_ == nullptr && ::SSL_version(ssl_) == TLS1_3_VERSION;
  ::ERR_clear_error();
}

std::error_code tls_stream::refuse(const tls::record_error& err) {
  if (err.alert && tx_ != nullptr) {
    const std::array<std::byte, 2> alert{std::byte{tls::alert_level_fatal},
                                         std::byte{*err.alert}};
    (void)seal_reply(tls::content_alert, alert);
  }
  // Nothing goes out after a fatal alert (nor after the peer's: the connection is over).
  fatal_sent_ = true;
  read_error_ = reason_error(err.reason);
  return read_error_;
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
  while (total < buf.size() && pend_len_ == 0 && unsent_reply_bytes() <= reply_cap) {
    const std::size_t avail = in_len_ - in_pos_;
    if (avail < tls::record_header_size) {
      break;
    }
    std::byte* rec = in_.data() + in_pos_;
    tls::record_error err;
    const std::size_t size = rx_->record_size(rec, err);
    if (size == 0) {
      return refuse(err);
    }
    if (avail < size) {
      break;
    }
    // Straight into the reader's buffer when the record fits, else in place.
    const std::size_t inner = size - std::min(size, tls::record_header_size +
                                                        tls::record_tag_size);
    const bool direct = buf.size() - total >= inner;
    std::byte* out = direct ? buf.data() + total : rec + tls::record_header_size;
    const tls::record_event ev = rx_->open(rec, size, out);
    in_pos_ += size;
    switch (ev.what) {
      case tls::record_event::kind::application_data:
        if (direct) {
          total += ev.size;
        } else {
          const std::size_t n = std::min(ev.size, buf.size() - total);
          std::memcpy(buf.data() + total, out, n);
          total += n;
          pend_pos_ = static_cast<std::size_t>(out - in_.data()) + n;
          pend_len_ = ev.size - n;
        }
        break;
      case tls::record_event::kind::control:
        break;
      case tls::record_event::kind::close_notify:
        return asio::error::eof;
      case tls::record_event::kind::error:
        return refuse(ev.error);
    }
  }
  return {};
}

void tls_stream::renew_peer_key_if_due() {
  if (rx_ != nullptr) {
    const std::uint64_t records = rx_->records_under_key();
    const bool asked = asked_generation_ == rx_->key_updates();
    if (records < read_key_records_ || (asked && records < asked_at_ + read_key_records_)) {
      return;
    }
    // Our KeyUpdate(update_requested) renews our write key too, and answers any request of
    // the peer's.
    (void)rx_->take_update_request();
    if (!seal_reply(tls::content_handshake, tls::key_update_message(true)) || !tx_->update()) {
      (void)refuse({ERR_R_INTERNAL_ERROR, tls::alert_internal_error});
      return;
    }
    ++counters_.key_updates_sent;
    ++counters_.key_update_requests;
    asked_generation_ = rx_->key_updates();
    asked_at_ = records;
    return;
  }
  if (libssl_tls13_ && libssl_read_ >= read_key_records_) {
    ::ERR_clear_error();
    in_ssl_read_ = true;  // what libssl writes now is a reply
    if (::SSL_key_update(ssl_, SSL_KEY_UPDATE_REQUESTED) == 1 && ::SSL_do_handshake(ssl_) == 1) {
      ++counters_.key_updates_sent;
      ++counters_.key_update_requests;
    }
    in_ssl_read_ = false;
    ::ERR_clear_error();
    libssl_read_ = 0;
    libssl_written_ = 0;
  }
}

bool tls_stream::seal_message(std::uint8_t type, std::span<const std::byte> body) {
  const std::size_t at = out_.size();
  out_.resize(at + tls::sealed_record_size(body.size()));
  std::byte* r = out_.data() + at;
  return tx_->seal_begin(r, body.size()) &&
         tx_->seal_add(body.data(), body.size(), r + tls::record_header_size) &&
         tx_->seal_finish(type, r + tls::record_header_size + body.size());
}

bool tls_stream::seal_reply(std::uint8_t type, std::span<const std::byte> body) {
  const std::size_t before = out_.size();
  const bool ok = seal_message(type, body);
  note_reply(out_.size() - before);
  return ok;
}

bool tls_stream::send_key_update_if_due() {
  // One answer for any number of requests since our last application data (RFC 8446 §4.6.3).
  const bool requested = rx_->take_update_request();
  if (!requested && tx_->sequence() < write_key_records_) {
    return true;
  }
  if (!seal_message(tls::content_handshake, tls::key_update_message(false)) || !tx_->update()) {
    return false;
  }
  ++counters_.key_updates_sent;
  return true;
}

}  // namespace kiteline::tls
