// tls/record_reader: what the peer's records may hold after a TLS 1.3 handshake and how each
// refusal is reported (libssl's reason and alert), fed by an independent sealer.
#include "tls/record_reader.hpp"

#include <array>
#include <cstddef>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>

#include "unit/tls/test_sealer.hpp"

namespace kiteline::tls {
namespace {

using kind = record_event::kind;

const std::vector<std::byte> secret = test::hex(
    "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20");

/// A reader and the peer's sealer on the same key.
struct link {
  explicit link(bool server = false) : tx(secret) {
    EXPECT_TRUE(rx.init({::EVP_aes_128_gcm(), "SHA256", 16, 32}, secret, server));
  }
  /// Checks the header, then opens (what the stream does with one record).
  record_event feed(const std::vector<std::byte>& rec) {
    record_error err;
    const std::size_t size = rx.record_size(rec.data(), err);
    if (size == 0) {
      return {kind::error, 0, err};
    }
    EXPECT_EQ(size, rec.size());
    out.assign(rec.size(), std::byte{0xee});
    return rx.open(rec.data(), rec.size(), out.data());
  }
  record_event data(std::size_t n, std::size_t padding = 0) {
    return feed(tx.record(content_application_data, std::vector<std::byte>(n, std::byte{7}),
                          padding));
  }
  record_event handshake(const std::vector<std::byte>& body) {
    return feed(tx.record(content_handshake, body));
  }
  record_event alert(std::uint8_t level, std::uint8_t desc) {
    return feed(tx.record(content_alert, std::vector<std::byte>{std::byte{level},
                                                                std::byte{desc}}));
  }
  test::sealer tx;
  record_reader rx;
  std::vector<std::byte> out;
};

/// The refusal `ev` carries, as "reason text / alert" (libssl's own strings).
std::string refusal(const record_event& ev) {
  ::OPENSSL_init_ssl(OPENSSL_INIT_LOAD_SSL_STRINGS, nullptr);
  if (ev.what != kind::error) {
    return "not an error";
  }
  const char* text = ::ERR_reason_error_string(ERR_PACK(ERR_LIB_SSL, 0, ev.error.reason));
  return std::string(text != nullptr ? text : "?") + " / " +
         (ev.error.alert ? std::to_string(*ev.error.alert) : std::string("no alert"));
}

std::vector<std::byte> header(std::uint8_t type, std::uint16_t version, std::size_t len) {
  return {std::byte{type}, static_cast<std::byte>(version >> 8),
          static_cast<std::byte>(version & 0xff), static_cast<std::byte>(len >> 8),
          static_cast<std::byte>(len & 0xff)};
}

TEST(record_reader, application_data_opens_with_or_without_padding_and_may_be_empty) {
  link l;
  auto ev = l.data(1000, 200);
  ASSERT_EQ(ev.what, kind::application_data);
  EXPECT_EQ(ev.size, 1000u);
  EXPECT_EQ(l.out[999], std::byte{7});
  ev = l.data(0);
  EXPECT_EQ(ev.what, kind::application_data);
  EXPECT_EQ(ev.size, 0u);
  ev = l.data(max_record_plaintext);
  EXPECT_EQ(ev.size, max_record_plaintext);
  EXPECT_EQ(l.rx.records_under_key(), 3u);
}

TEST(record_reader, headers_are_checked_as_libssl_checks_them) {
  link l;
  record_error err;
  EXPECT_EQ(l.rx.record_size(header(23, 0x0303, 16640).data(), err), 16645u);
  const struct {
    std::vector<std::byte> h;
    std::string want;
  } cases[] = {
      {header(23, 0x0203, 100), "wrong version number / 70"},
      {header(22, 0x0303, 100), "bad record type / 10"},
      {header(21, 0x0303, 2), "bad record type / 10"},  // a plaintext alert
      {header(20, 0x0303, 1), "bad record type / 10"},  // change_cipher_spec after the handshake
      {header(23, 0x0301, 100), "wrong version number / 50"},
      {header(23, 0x0303, 16641), "encrypted length too long / 22"},
      {header(23, 0x0303, libssl_max_record_body), "encrypted length too long / 22"},
      {header(23, 0x0303, libssl_max_record_body + 1), "packet length too long / 22"},
      {header(23, 0x0303, 0xffff), "packet length too long / 22"},
  };
  for (const auto& c : cases) {
    err = {};
    EXPECT_EQ(l.rx.record_size(c.h.data(), err), 0u);
    EXPECT_EQ(refusal({kind::error, 0, err}), c.want);
  }
}

TEST(record_reader, a_record_that_does_not_authenticate_is_a_bad_record_mac) {
  link l;
  auto rec = l.tx.record(content_application_data, std::vector<std::byte>(100));
  auto bad = rec;
  bad[50] ^= std::byte{0x10};
  EXPECT_EQ(refusal(l.feed(bad)), "decryption failed or bad record mac / 20");
  // Too short for a tag and a content type (16 bytes of body).
  link m;
  std::vector<std::byte> short_rec = header(23, 0x0303, 16);
  short_rec.resize(5 + 16);
  EXPECT_EQ(refusal(m.feed(short_rec)), "decryption failed or bad record mac / 20");
  // A record skipped: the next one is sealed at another sequence number.
  link n;
  (void)n.tx.record(content_application_data, std::vector<std::byte>(10));
  EXPECT_EQ(refusal(n.data(10)), "decryption failed or bad record mac / 20");
}

TEST(record_reader, the_inner_plaintext_needs_a_known_type_and_content_where_required) {
  {
    link l;  // all zeros: no content type
    EXPECT_EQ(refusal(l.feed(l.tx.inner(std::vector<std::byte>(30)))), "bad record type / 10");
  }
  {
    link l;
    EXPECT_EQ(refusal(l.feed(l.tx.record(24, std::vector<std::byte>(3, std::byte{1})))),
              "bad record type / 10");
  }
  {
    link l;  // handshake and alert records are never empty (RFC 8446 §5.4)
    EXPECT_EQ(refusal(l.feed(l.tx.record(content_handshake, {}, 10))), "bad length / 10");
  }
  {
    link l;
    EXPECT_EQ(refusal(l.feed(l.tx.record(content_alert, {}))), "bad length / 10");
  }
  {
    link l;  // more than 2^14 bytes of content (the record is not over 2^14 + 256)
    EXPECT_EQ(refusal(l.data(max_record_plaintext + 1)), "data length too long / 22");
  }
}

TEST(record_reader, thirty_two_empty_records_in_a_row_pass_and_the_next_is_refused) {
  link l;
  for (unsigned i = 0; i < max_empty_records; ++i) {
    ASSERT_EQ(l.data(0).what, kind::application_data) << i;
  }
  ASSERT_EQ(l.data(1).what, kind::application_data);  // a non-empty record resets the run
  for (unsigned i = 0; i < max_empty_records; ++i) {
    ASSERT_EQ(l.data(0).what, kind::application_data) << i;
  }
  EXPECT_EQ(refusal(l.data(0)), "record too small / 10");
}

TEST(record_reader, user_canceled_is_ignored_four_times_in_a_row_and_the_fifth_refused) {
  link l;
  for (unsigned i = 0; i + 1 < max_warn_alerts; ++i) {
    ASSERT_EQ(l.alert(alert_level_warning, alert_user_canceled).what, kind::control) << i;
  }
  ASSERT_EQ(l.data(1).what, kind::application_data);  // resets the run
  for (unsigned i = 0; i + 1 < max_warn_alerts; ++i) {
    ASSERT_EQ(l.alert(alert_level_fatal, alert_user_canceled).what, kind::control) << i;
  }
  ASSERT_EQ(l.data(0).what, kind::application_data);  // an empty record does not
  EXPECT_EQ(refusal(l.alert(alert_level_warning, alert_user_canceled)),
            "too many warn alerts / 10");
}

TEST(record_reader, close_notify_ends_the_data_and_other_alerts_end_the_connection) {
  {
    link l;
    EXPECT_EQ(l.alert(alert_level_warning, alert_close_notify).what, kind::close_notify);
  }
  {
    link l;
    EXPECT_EQ(l.alert(alert_level_fatal, alert_close_notify).what, kind::close_notify);
  }
  {
    link l;  // the peer's own alert: libssl's "alert" error, nothing sent back
    EXPECT_EQ(refusal(l.alert(alert_level_fatal, 40)), "sslv3 alert handshake failure / no alert");
  }
  {
    link l;  // in TLS 1.3 a warning other than user_canceled ends the connection too
    EXPECT_EQ(refusal(l.alert(alert_level_warning, 42)), "sslv3 alert bad certificate / no alert");
  }
  {
    link l;
    EXPECT_EQ(refusal(l.feed(l.tx.record(content_alert, std::vector<std::byte>(3)))),
              "invalid alert / 10");
  }
}

TEST(record_reader, a_key_update_renews_the_read_key_and_several_requests_ask_one_answer) {
  link l;
  EXPECT_EQ(l.handshake(test::hex("18 00 00 01 00")).what, kind::control);
  EXPECT_EQ(l.rx.key_updates(), 1u);
  EXPECT_FALSE(l.rx.take_update_request());
  // The next record under the old key no longer opens; under the new one it does.
  auto stale = l.tx.record(content_application_data, std::vector<std::byte>(5));
  link copy;
  (void)copy.handshake(test::hex("18 00 00 01 00"));
  EXPECT_EQ(refusal(copy.feed(stale)), "decryption failed or bad record mac / 20");
  l.tx.update();
  ASSERT_EQ(l.data(5).what, kind::application_data);
  EXPECT_EQ(l.rx.records_under_key(), 1u);

  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(l.handshake(test::hex("18 00 00 01 01")).what, kind::control);
    l.tx.update();
  }
  EXPECT_EQ(l.rx.key_updates(), 4u);
  EXPECT_TRUE(l.rx.take_update_request());
  EXPECT_FALSE(l.rx.take_update_request());  // one answer for the three
  ASSERT_EQ(l.data(5).what, kind::application_data);
}

TEST(record_reader, a_key_update_split_over_records_is_taken_when_it_ends_its_record) {
  link l;
  ASSERT_EQ(l.handshake(test::hex("18 00")).what, kind::control);
  ASSERT_EQ(l.handshake(test::hex("00 01")).what, kind::control);
  ASSERT_EQ(l.handshake(test::hex("01")).what, kind::control);
  l.tx.update();
  EXPECT_EQ(l.rx.key_updates(), 1u);
  EXPECT_TRUE(l.rx.take_update_request());
  EXPECT_EQ(l.data(3).what, kind::application_data);
}

TEST(record_reader, malformed_key_updates_are_refused_with_libssls_alerts) {
  const struct {
    std::string body;
    std::string want;
  } cases[] = {
      {"18 00 00 01 02", "bad key update / 47"},
      {"18 00 00 00", "bad key update / 50"},
      {"18 00 00 02 00 00", "excessive message size / 47"},
      {"18 00 00 01 00 18 00 00 01 00", "not on record boundary / 10"},
      {"18 00 00 01 00 17", "not on record boundary / 10"},
  };
  for (const auto& c : cases) {
    link l;
    EXPECT_EQ(refusal(l.handshake(test::hex(c.body))), c.want) << c.body;
  }
}

TEST(record_reader, handshake_fragments_may_not_be_interleaved_with_other_records) {
  {
    link l;  // a partial message header, then data
    ASSERT_EQ(l.handshake(test::hex("18 00")).what, kind::control);
    EXPECT_EQ(refusal(l.data(10)), "mixed handshake and non handshake data / 10");
  }
  {
    link l;  // ... then an empty data record
    ASSERT_EQ(l.handshake(test::hex("18")).what, kind::control);
    EXPECT_EQ(refusal(l.data(0)), "mixed handshake and non handshake data / 10");
  }
  {
    link l;  // ... then an alert
    ASSERT_EQ(l.handshake(test::hex("04 00")).what, kind::control);
    EXPECT_EQ(refusal(l.alert(alert_level_warning, alert_user_canceled)),
              "mixed handshake and non handshake data / 10");
  }
  {
    link l;  // a ticket's body not yet complete, then data
    ASSERT_EQ(l.handshake(test::hex("04 00 00 10 01 02 03")).what, kind::control);
    EXPECT_EQ(refusal(l.data(10)), "unexpected record / 10");
  }
}

TEST(record_reader, a_client_skips_tickets_and_a_server_refuses_them) {
  link client(false);
  std::vector<std::byte> ticket = test::hex("04 00 01 00");  // 256-byte body over 3 records
  ticket.resize(4 + 100, std::byte{9});
  ASSERT_EQ(client.handshake(ticket).what, kind::control);
  ASSERT_EQ(client.handshake(std::vector<std::byte>(100, std::byte{9})).what, kind::control);
  ASSERT_EQ(client.handshake(std::vector<std::byte>(56, std::byte{9})).what, kind::control);
  EXPECT_EQ(client.data(3).what, kind::application_data);
  // A ticket over libssl's maximum is refused from its header.
  link big(false);
  EXPECT_EQ(refusal(big.handshake(test::hex("04 02 01 0b 00"))), "excessive message size / 47");
  link ok_size(false);
  EXPECT_EQ(ok_size.handshake(test::hex("04 02 01 0a 00")).what, kind::control);

  link server(true);
  EXPECT_EQ(refusal(server.handshake(test::hex("04 00 00 01 00"))), "unexpected message / 10");
  link other(false);  // a CertificateRequest (no post-handshake auth here)
  EXPECT_EQ(refusal(other.handshake(test::hex("0d 00 00 01 00"))), "unexpected message / 10");
}

}  // namespace
}  // namespace kiteline::tls
