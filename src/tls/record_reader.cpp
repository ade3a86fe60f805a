#include "tls/record_reader.hpp"

#include <algorithm>
#include <cstring>

#include <openssl/err.h>
#include <openssl/ssl.h>

namespace kiteline::tls {

namespace {

record_event refuse(int reason, std::optional<std::uint8_t> alert) {
  return {record_event::kind::error, 0, record_error{reason, alert}};
}

constexpr record_event control{};

}  // namespace

bool record_reader::init(const record_suite& suite, std::span<const std::byte> secret,
                         bool server) {
  server_ = server;
  return keys_.init(suite, secret, false);
}

std::size_t record_reader::record_size(const std::byte* header,
                                       record_error& err) const noexcept {
  const auto type = std::to_integer<std::uint8_t>(header[0]);
  const auto major = std::to_integer<std::uint8_t>(header[1]);
  const auto minor = std::to_integer<std::uint8_t>(header[2]);
  const std::size_t len =
      (std::to_integer<std::size_t>(header[3]) << 8) | std::to_integer<std::size_t>(header[4]);
  // libssl's order (ssl3_get_record): major version, then TLS 1.3's content type and legacy
  // version, then the length against its buffer and against TLS 1.3's limit.
  if (major != 3) {
    err = {SSL_R_WRONG_VERSION_NUMBER, alert_protocol_version};
  } else if (type != content_application_data) {
    err = {SSL_R_BAD_RECORD_TYPE, alert_unexpected_message};
  } else if (minor != 3) {
    err = {SSL_R_WRONG_VERSION_NUMBER, alert_decode_error};
  } else if (len > libssl_max_record_body) {
    err = {SSL_R_PACKET_LENGTH_TOO_LONG, alert_record_overflow};
  } else if (len > max_record_ciphertext) {
    err = {SSL_R_ENCRYPTED_LENGTH_TOO_LONG, alert_record_overflow};
  } else {
    return record_header_size + len;
  }
  return 0;
}

record_event record_reader::open(const std::byte* record, std::size_t size, std::byte* out) {
  // A body too short for a tag and a content type cannot authenticate (libssl: the same).
  if (size < record_header_size + record_tag_size + 1 || !keys_.open(record, size, out)) {
    return refuse(SSL_R_DECRYPTION_FAILED_OR_BAD_RECORD_MAC, alert_bad_record_mac);
  }
  // TLSInnerPlaintext: content, content type, zero padding. All zeros has no type: libssl
  // reads its first byte as the type (0), a bad one.
  std::size_t k = size - record_header_size - record_tag_size;
  while (k > 1 && out[k - 1] == std::byte{0}) {
    --k;
  }
  const auto type = std::to_integer<std::uint8_t>(out[--k]);
  if (type != content_application_data && type != content_handshake && type != content_alert) {
    return refuse(SSL_R_BAD_RECORD_TYPE, alert_unexpected_message);
  }
  if (k == 0 && type != content_application_data) {  // RFC 8446 §5.4: never empty
    return refuse(SSL_R_BAD_LENGTH, alert_unexpected_message);
  }
  if (k > max_record_plaintext) {
    return refuse(SSL_R_DATA_LENGTH_TOO_LONG, alert_record_overflow);
  }
  // Empty records: libssl counts them as it reads them, before anything else.
  if (k == 0) {
    if (++empty_run_ > max_empty_records) {
      return refuse(SSL_R_RECORD_TOO_SMALL, alert_unexpected_message);
    }
  } else {
    empty_run_ = 0;
  }
  if (type == content_application_data) {
    return on_application_data(k);
  }
  if (type == content_handshake) {
    warn_run_ = 0;
    return on_handshake(out, k);
  }
  return on_alert(out, k);
}

record_event record_reader::interleaved(bool application_data) const noexcept {
  // libssl: a partial message header before another record type is "mixed handshake and non
  // handshake data"; application data in a message body is an "unexpected record".
  return refuse(application_data && head_len_ == 0 ? SSL_R_UNEXPECTED_RECORD
                                                   : SSL_R_MIXED_HANDSHAKE_AND_NON_HANDSHAKE_DATA,
                alert_unexpected_message);
}

record_event record_reader::on_application_data(std::size_t n) {
  if (mid_message()) {
    return interleaved(true);
  }
  if (n > 0) {
    warn_run_ = 0;
  }
  return {record_event::kind::application_data, n, {}};
}

record_event record_reader::on_alert(const std::byte* p, std::size_t n) {
  if (mid_message()) {
    return interleaved(false);
  }
  if (n != 2) {
    return refuse(SSL_R_INVALID_ALERT, alert_unexpected_message);
  }
  const auto level = std::to_integer<std::uint8_t>(p[0]);
  const auto desc = std::to_integer<std::uint8_t>(p[1]);
  if (level == alert_level_warning || desc == alert_user_canceled) {
    if (++warn_run_ == max_warn_alerts) {
      return refuse(SSL_R_TOO_MANY_WARN_ALERTS, alert_unexpected_message);
    }
  }
  if (desc == alert_user_canceled) {
    return control;  // TLS 1.3's only warning besides close_notify; close_notify follows
  }
  if (desc == alert_close_notify) {
    return {record_event::kind::close_notify, 0, {}};
  }
  // Any other alert ends the connection in TLS 1.3, whatever its level ("tlsv1 alert ...").
  return refuse(SSL_AD_REASON_OFFSET + desc, std::nullopt);
}

record_event record_reader::on_handshake(const std::byte* p, std::size_t n) {
  const std::byte* const end = p + n;
  while (p < end) {
    if (body_left_ == 0) {
      const std::size_t k = std::min<std::size_t>(4 - head_len_, static_cast<std::size_t>(end - p));
      std::memcpy(head_.data() + head_len_, p, k);
      head_len_ += k;
      p += k;
      if (head_len_ < 4) {
        break;
      }
      head_len_ = 0;
      message_ = std::to_integer<std::uint8_t>(head_[0]);
      const std::size_t len = (std::to_integer<std::size_t>(head_[1]) << 16) |
                              (std::to_integer<std::size_t>(head_[2]) << 8) |
                              std::to_integer<std::size_t>(head_[3]);
      // libssl checks the message type against its state, then the length against the
      // type's maximum (KeyUpdate: 1 byte).
      if (message_ == message_key_update) {
        if (len > 1) {
          return refuse(SSL_R_EXCESSIVE_MESSAGE_SIZE, alert_illegal_parameter);
        }
        if (len == 0) {
          return on_key_update(-1, p == end);
        }
      } else if (message_ == message_new_session_ticket && !server_) {
        if (len > max_ticket_message) {
          return refuse(SSL_R_EXCESSIVE_MESSAGE_SIZE, alert_illegal_parameter);
        }
      } else {
        return refuse(SSL_R_UNEXPECTED_MESSAGE, alert_unexpected_message);
      }
      body_left_ = len;
      continue;
    }
    if (message_ == message_key_update) {  // its 1-byte body
      body_left_ = 0;
      const int value = std::to_integer<int>(*p++);
      return on_key_update(value, p == end);
    }
    // A NewSessionTicket: tunnels are long-lived and kiteline does not resume them.
    const std::size_t k = std::min(body_left_, static_cast<std::size_t>(end - p));
    p += k;
    body_left_ -= k;
  }
  return control;
}

record_event record_reader::on_key_update(int value, bool record_ends_here) {
  // libssl's order: the key change must end its record, then the body is decoded, then its
  // value checked.
  if (!record_ends_here) {
    return refuse(SSL_R_NOT_ON_RECORD_BOUNDARY, alert_unexpected_message);
  }
  if (value < 0) {
    return refuse(SSL_R_BAD_KEY_UPDATE, alert_decode_error);
  }
  if (value > 1) {
    return refuse(SSL_R_BAD_KEY_UPDATE, alert_illegal_parameter);
  }
  if (!keys_.update()) {
    return refuse(ERR_R_INTERNAL_ERROR, alert_internal_error);
  }
  ++key_updates_;
  if (value == 1) {
    update_requested_ = true;
  }
  return control;
}

}  // namespace kiteline::tls
