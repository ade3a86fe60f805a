// The receiving half of kiteline's TLS 1.3 record layer (docs/tls.md §5): checks, opens and
// interprets the peer's records under RFC 8446's rules and libssl's limits. No I/O.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "tls/record_protection.hpp"

namespace kiteline::tls {

/// Alert levels and the descriptions (RFC 8446 §6) the record layer sends or acts on.
inline constexpr std::uint8_t alert_level_warning = 1;
inline constexpr std::uint8_t alert_level_fatal = 2;
inline constexpr std::uint8_t alert_close_notify = 0;
inline constexpr std::uint8_t alert_unexpected_message = 10;
inline constexpr std::uint8_t alert_bad_record_mac = 20;
inline constexpr std::uint8_t alert_record_overflow = 22;
inline constexpr std::uint8_t alert_illegal_parameter = 47;
inline constexpr std::uint8_t alert_decode_error = 50;
inline constexpr std::uint8_t alert_protocol_version = 70;
inline constexpr std::uint8_t alert_internal_error = 80;
inline constexpr std::uint8_t alert_user_canceled = 90;

// libssl's limits (OpenSSL 3.0, ssl/record/ and ssl/statem/), mirrored so that a peer meets the
// same refusal whichever side moves the records.
/// MAX_EMPTY_RECORDS: consecutive empty records accepted; the next one is "record too small".
inline constexpr unsigned max_empty_records = 32;
/// MAX_WARN_ALERT_COUNT: the 5th consecutive warning alert (in TLS 1.3: user_canceled, at any
/// level) is "too many warn alerts". A non-empty record of another type resets the count.
inline constexpr unsigned max_warn_alerts = 5;
/// SESSION_TICKET_MAX_LENGTH_TLS13: the largest NewSessionTicket message body a client takes.
inline constexpr std::size_t max_ticket_message = 131338;
/// libssl's read buffer less a record header (16384 + 320 + 5 + 3 - 5): a record body longer
/// than this is "packet length too long", a shorter one over 2^14 + 256 "encrypted length too
/// long" (both record_overflow).
inline constexpr std::size_t libssl_max_record_body = 16707;

/// Why the peer's input was refused: the OpenSSL reason code libssl gives for the same input
/// (an SSL_R_* value, or SSL_AD_REASON_OFFSET + the alert for the peer's own fatal alert; its
/// error string is libssl's), and the alert to send before closing (none after the peer's own
/// alert).
struct record_error {
  int reason = 0;
  std::optional<std::uint8_t> alert;
};

/// What one record held.
struct record_event {
  enum class kind : std::uint8_t {
    application_data,  ///< `size` bytes of application data (possibly 0) at open()'s `out`
    control,           ///< handled here: a post-handshake message, user_canceled
    close_notify,      ///< the peer's close_notify: its data has ended
    error,             ///< the connection must end; send `error.alert` (if any) first
  };
  kind what = kind::control;
  std::size_t size = 0;
  record_error error{};
};

/// The peer's records after a TLS 1.3 handshake, one whole record at a time, in order.
///
/// Accepts application data (empty records too, up to max_empty_records in a row), the
/// post-handshake messages a peer may send (a server: NewSessionTicket, skipped unread, and
/// KeyUpdate; a client: KeyUpdate), possibly split over several handshake records, and the
/// alerts close_notify and user_canceled (ignored, up to max_warn_alerts in a row). Everything
/// else is refused as libssl refuses it, with its reason and alert: bad versions or content
/// types, oversized records, records that do not authenticate, handshake messages interleaved
/// with other records (RFC 8446 §5.1), KeyUpdates that do not end their record, unexpected
/// messages. After an error the reader must not be used again.
///
/// A KeyUpdate renews the read key at once (the next record is under the new key); when it
/// asked for ours (update_requested) take_update_request() says so, once for any number of
/// requests until it is taken (RFC 8446 §4.6.3: one answer before our next application data).
///
/// Not thread-safe; no I/O, no allocation after init().
class record_reader {
 public:
  /// Derives the read key from the peer's application traffic `secret`. `server`: the reader
  /// is a server's (its peer, a client, sends no NewSessionTicket). False if OpenSSL fails.
  bool init(const record_suite& suite, std::span<const std::byte> secret, bool server);

  /// Checks the header of the next record (5 bytes at `header`) and returns the whole record's
  /// size (header included), or 0 with `err` set when libssl would refuse it: a major version
  /// other than 3 (protocol_version), a content type other than application_data
  /// (unexpected_message), a version other than 0x0303 (decode_error), a body over 2^14 + 256
  /// bytes (record_overflow).
  std::size_t record_size(const std::byte* header, record_error& err) const noexcept;

  /// Opens one whole record of `size` bytes (as record_size() gave) and acts on it. The inner
  /// plaintext (size - 21 bytes) is written to `out`, which may be `record` + 5 (in place);
  /// application data is left at its start.
  record_event open(const std::byte* record, std::size_t size, std::byte* out);

  /// True once for any number of KeyUpdate(update_requested) received since the last call.
  [[nodiscard]] bool take_update_request() noexcept {
    const bool r = update_requested_;
    update_requested_ = false;
    return r;
  }
  /// Records opened under the current read key (reset by each KeyUpdate received).
  [[nodiscard]] std::uint64_t records_under_key() const noexcept { return keys_.sequence(); }
  /// KeyUpdates received so far.
  [[nodiscard]] std::uint64_t key_updates() const noexcept { return key_updates_; }

 private:
  record_event on_application_data(std::size_t n);
  record_event on_handshake(const std::byte* p, std::size_t n);
  record_event on_alert(const std::byte* p, std::size_t n);
  record_event on_key_update(int value, bool record_ends_here);
  /// A handshake message is partly received (RFC 8446 §5.1: nothing may come in between).
  [[nodiscard]] bool mid_message() const noexcept { return head_len_ > 0 || body_left_ > 0; }
  record_event interleaved(bool application_data) const noexcept;

  record_keys keys_;
  bool server_ = false;
  unsigned empty_run_ = 0;  // consecutive empty records
  unsigned warn_run_ = 0;   // consecutive warning alerts
  // The post-handshake message being received: its header (type, uint24 length) while
  // head_len_ < 4, then body_left_ bytes of its body.
  std::array<std::byte, 4> head_{};
  std::size_t head_len_ = 0;
  std::size_t body_left_ = 0;
  std::uint8_t message_ = 0;
  bool update_requested_ = false;
  std::uint64_t key_updates_ = 0;
};

}  // namespace kiteline::tls
