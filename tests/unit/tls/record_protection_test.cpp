// tls/record_protection: RFC 8448's known answers for the key schedule and record protection,
// sealing/opening round trips, keylog lines.
#include "tls/record_protection.hpp"

#include <array>
#include <cstddef>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include "tls/record_reader.hpp"
#include "unit/tls/test_sealer.hpp"

namespace kiteline::tls {
namespace {

using test::hex;

// RFC 8448 §3 "Simple 1-RTT Handshake" (TLS_AES_128_GCM_SHA256): the application traffic
// secrets ({server} derive secret "tls13 c ap traffic" / "tls13 s ap traffic"), the write keys
// and IVs derived from them, and the protected records sent under them.
const std::vector<std::byte> client_secret =
    hex("9e 40 64 6c e7 9a 7f 9d c0 5a f8 88 9b ce 65 52 87 5a fa 0b 06 df 00 87 f7 92 eb b7 c1"
        " 75 04 a5");
const std::vector<std::byte> server_secret =
    hex("a1 1a f9 f0 55 31 f8 56 ad 47 11 6b 45 a9 50 32 82 04 b4 f4 4b fb 6b 3a 4b 4f 1f 3f cb"
        " 63 16 43");
// {client} send application_data record (sequence 0), payload 00 01 .. 31.
const std::vector<std::byte> client_data_record =
    hex("17 03 03 00 43 a2 3f 70 54 b6 2c 94 d0 af fa fe 82 28 ba 55 cb ef ac ea 42 f9 14 aa 66"
        " bc ab 3f 2b 98 19 a8 a5 b4 6b 39 5b d5 4a 9a 20 44 1e 2b 62 97 4e 1f 5a 62 92 a2 97 70"
        " 14 bd 1e 3d ea e6 3a ee bb 21 69 49 15 e4");
// {client} send alert record (sequence 1): close_notify, payload 01 00.
const std::vector<std::byte> client_alert_record =
    hex("17 03 03 00 13 c9 87 27 60 65 56 66 b7 4d 7f f1 15 3e fd 6d b6 d0 b0 e3");
// {server} send handshake record (sequence 0): a NewSessionTicket.
const std::vector<std::byte> server_ticket_record = hex(
    "17 03 03 00 de 3a 6b 8f 90 41 4a 97 d6 95 9c 34 87 68 0d e5 13 4a 2b 24 0e 6c ff ac 11 6e"
    " 95 d4 1d 6a f8 f6 b5 80 dc f3 d1 1d 63 c7 58 db 28 9a 01 59 40 25 2f 55 71 3e 06 1d c1 3e"
    " 07 88 91 a3 8e fb cf 57 53 ad 8e f1 70 ad 3c 73 53 d1 6d 9d a7 73 b9 ca 7f 2b 9f a1 b6 c0"
    " d4 a3 d0 3f 75 e0 9c 30 ba 1e 62 97 2a c4 6f 75 f7 b9 81 be 63 43 9b 29 99 ce 13 06 46 15"
    " 13 98 91 d5 e4 c5 b4 06 f1 6e 3f c1 81 a7 7c a4 75 84 00 25 db 2f 0a 77 f8 1b 5a b0 5b 94"
    " c0 13 46 75 5f 69 23 2c 86 51 9d 86 cb ee ac 87 aa c3 47 d1 43 f9 60 5d 64 f6 50 db 4d 02"
    " 3e 70 e9 52 ca 49 fe 51 37 12 1c 74 bc 26 97 68 7e 24 87 46 d6 df 35 30 05 f3 bc e1 86 96"
    " 12 9c 81 53 55 6b 3b 6c 67 79 b3 7b f1 59 85 68 4f");
// {server} send application_data record (sequence 1), payload 00 01 .. 31.
const std::vector<std::byte> server_data_record =
    hex("17 03 03 00 43 2e 93 7e 11 ef 4a c7 40 e5 38 ad 36 00 5f c4 a4 69 32 fc 32 25 d0 5f 82"
        " aa 1b 36 e3 0e fa f9 7d 90 e6 df fc 60 2d cb 50 1a 59 a8 fc c4 9c 4b f2 e5 f0 a2 1c 00"
        " 47 c2 ab f3 32 54 0d d0 32 e1 67 c2 95 5d");
// {server} send alert record (sequence 2): close_notify.
const std::vector<std::byte> server_alert_record =
    hex("17 03 03 00 13 b5 8f d6 71 66 eb f5 99 d2 47 20 cf be 7e fa 7a 88 64 a9");

const record_suite aes128{::EVP_aes_128_gcm(), "SHA256", 16, 32};

std::vector<std::byte> payload_0_to_49() {
  std::vector<std::byte> p(50);
  for (std::size_t i = 0; i < p.size(); ++i) {
    p[i] = static_cast<std::byte>(i);
  }
  return p;
}

std::vector<std::byte> seal_one(record_keys& k, const std::vector<std::byte>& plain,
                                std::uint8_t type) {
  std::vector<std::byte> rec(sealed_record_size(plain.size()));
  EXPECT_TRUE(k.seal_begin(rec.data(), plain.size()));
  EXPECT_TRUE(k.seal_add(plain.data(), plain.size(), rec.data() + record_header_size));
  EXPECT_TRUE(k.seal_finish(type, rec.data() + record_header_size + plain.size()));
  return rec;
}

TEST(record_protection_rfc8448, application_traffic_secrets_give_the_write_keys_and_ivs) {
  std::array<unsigned char, 16> key{};
  std::array<unsigned char, 12> iv{};
  ASSERT_TRUE(traffic_key_and_iv(aes128, client_secret, key, iv));
  EXPECT_EQ(std::vector<std::byte>(reinterpret_cast<std::byte*>(key.data()),
                                   reinterpret_cast<std::byte*>(key.data()) + key.size()),
            hex("17 42 2d da 59 6e d5 d9 ac d8 90 e3 c6 3f 50 51"));
  EXPECT_EQ(std::vector<std::byte>(reinterpret_cast<std::byte*>(iv.data()),
                                   reinterpret_cast<std::byte*>(iv.data()) + iv.size()),
            hex("5b 78 92 3d ee 08 57 90 33 e5 23 d9"));
  ASSERT_TRUE(traffic_key_and_iv(aes128, server_secret, key, iv));
  EXPECT_EQ(std::vector<std::byte>(reinterpret_cast<std::byte*>(key.data()),
                                   reinterpret_cast<std::byte*>(key.data()) + key.size()),
            hex("9f 02 28 3b 6c 9c 07 ef c2 6b b9 f2 ac 92 e3 56"));
  EXPECT_EQ(std::vector<std::byte>(reinterpret_cast<std::byte*>(iv.data()),
                                   reinterpret_cast<std::byte*>(iv.data()) + iv.size()),
            hex("cf 78 2b 88 dd 83 54 9a ad f1 e9 84"));
  // A key buffer of the wrong size is refused.
  std::array<unsigned char, 32> long_key{};
  EXPECT_FALSE(traffic_key_and_iv(aes128, client_secret, long_key, iv));
}

TEST(record_protection_rfc8448, the_clients_records_are_sealed_byte_for_byte) {
  record_keys tx;
  ASSERT_TRUE(tx.init(aes128, client_secret, true));
  EXPECT_EQ(seal_one(tx, payload_0_to_49(), content_application_data), client_data_record);
  EXPECT_EQ(seal_one(tx, hex("01 00"), content_alert), client_alert_record);
  EXPECT_EQ(tx.sequence(), 2u);
  // The test sealer (unit/tls/test_sealer.hpp) agrees with the RFC too.
  test::sealer s(client_secret);
  EXPECT_EQ(s.record(content_application_data, payload_0_to_49()), client_data_record);
  EXPECT_EQ(s.record(content_alert, hex("01 00")), client_alert_record);
}

TEST(record_protection_rfc8448, a_server_sealing_after_its_ticket_starts_at_sequence_1) {
  record_keys tx;
  ASSERT_TRUE(tx.init(aes128, server_secret, true, 1));  // libssl sealed the ticket (0)
  EXPECT_EQ(seal_one(tx, payload_0_to_49(), content_application_data), server_data_record);
  EXPECT_EQ(seal_one(tx, hex("01 00"), content_alert), server_alert_record);
}

TEST(record_protection_rfc8448, a_client_reader_skips_the_ticket_then_opens_data_and_close) {
  record_reader rx;
  ASSERT_TRUE(rx.init(aes128, server_secret, false));
  std::vector<std::byte> out(300);
  record_error err;
  ASSERT_EQ(rx.record_size(server_ticket_record.data(), err), server_ticket_record.size());
  auto ev = rx.open(server_ticket_record.data(), server_ticket_record.size(), out.data());
  EXPECT_EQ(ev.what, record_event::kind::control);
  // In place (the plaintext overwrites the record), as the stream does with a small buffer.
  auto rec = server_data_record;
  ASSERT_EQ(rx.record_size(rec.data(), err), rec.size());
  ev = rx.open(rec.data(), rec.size(), rec.data() + record_header_size);
  ASSERT_EQ(ev.what, record_event::kind::application_data);
  ASSERT_EQ(ev.size, 50u);
  EXPECT_EQ(std::vector<std::byte>(rec.begin() + 5, rec.begin() + 55), payload_0_to_49());
  ev = rx.open(server_alert_record.data(), server_alert_record.size(), out.data());
  EXPECT_EQ(ev.what, record_event::kind::close_notify);
  EXPECT_EQ(rx.records_under_key(), 3u);
}

TEST(record_protection_rfc8448, a_server_reader_opens_the_clients_records) {
  record_reader rx;
  ASSERT_TRUE(rx.init(aes128, client_secret, true));
  std::vector<std::byte> out(100);
  auto ev = rx.open(client_data_record.data(), client_data_record.size(), out.data());
  ASSERT_EQ(ev.what, record_event::kind::application_data);
  out.resize(ev.size);
  EXPECT_EQ(out, payload_0_to_49());
  out.resize(100);
  ev = rx.open(client_alert_record.data(), client_alert_record.size(), out.data());
  EXPECT_EQ(ev.what, record_event::kind::close_notify);
  // Under the server's key (a reflected record) nothing opens.
  record_reader wrong;
  ASSERT_TRUE(wrong.init(aes128, server_secret, true));
  ev = wrong.open(client_data_record.data(), client_data_record.size(), out.data());
  EXPECT_EQ(ev.what, record_event::kind::error);
  EXPECT_EQ(ev.error.reason, SSL_R_DECRYPTION_FAILED_OR_BAD_RECORD_MAC);
}

// ------------------------------------------------------------ round trips, every suite

std::vector<std::byte> secret_bytes(std::size_t n, int seed) {
  std::vector<std::byte> s(n);
  for (std::size_t i = 0; i < n; ++i) {
    s[i] = static_cast<std::byte>((seed * 31 + static_cast<int>(i) * 7) & 0xff);
  }
  return s;
}

class record_keys_suites : public ::testing::TestWithParam<int> {
 protected:
  record_suite suite() const {
    switch (GetParam()) {
      case 0:
        return {::EVP_aes_128_gcm(), "SHA256", 16, 32};
      case 1:
        return {::EVP_aes_256_gcm(), "SHA384", 32, 48};
      default:
        return {::EVP_chacha20_poly1305(), "SHA256", 32, 32};
    }
  }
};

TEST_P(record_keys_suites, seal_then_open_round_trips_and_any_change_fails) {
  const auto s = suite();
  const auto secret = secret_bytes(s.hash_size, 1);
  record_keys tx;
  record_keys rx;
  ASSERT_TRUE(tx.init(s, secret, true));
  ASSERT_TRUE(rx.init(s, secret, false));
  const auto plain = secret_bytes(max_record_plaintext, 9);
  for (int i = 0; i < 3; ++i) {
    auto rec = seal_one(tx, plain, content_application_data);
    ASSERT_EQ(rec.size(), 5 + plain.size() + 17);
    EXPECT_EQ(rec[0], std::byte{23});
    std::vector<std::byte> out(rec.size() - 5 - 16);
    ASSERT_TRUE(rx.open(rec.data(), rec.size(), out.data())) << "record " << i;
    EXPECT_EQ(out.back(), std::byte{23});
    out.pop_back();
    EXPECT_EQ(out, plain);
  }
  EXPECT_EQ(tx.sequence(), 3u);
  EXPECT_EQ(rx.sequence(), 3u);

  // A flipped bit in the ciphertext, the tag or the header (authenticated data) fails, and so
  // does a record out of order (the sequence number is in the nonce).
  auto rec = seal_one(tx, plain, content_application_data);
  std::vector<std::byte> out(rec.size());
  for (std::size_t at : {std::size_t{100}, rec.size() - 1, std::size_t{2}}) {
    auto bad = rec;
    bad[at] ^= std::byte{1};
    EXPECT_FALSE(rx.open(bad.data(), bad.size(), out.data())) << "flipped byte " << at;
  }
  record_keys late;
  ASSERT_TRUE(late.init(s, secret, false));  // at sequence 0, the record was sealed at 3
  EXPECT_FALSE(late.open(rec.data(), rec.size(), out.data()));
  record_keys started;
  ASSERT_TRUE(started.init(s, secret, false, 3));  // told where the sender is
  EXPECT_TRUE(started.open(rec.data(), rec.size(), out.data()));
  // In place, at the right sequence number, it opens.
  ASSERT_TRUE(rx.open(rec.data(), rec.size(), rec.data() + 5));

  // After a KeyUpdate on both sides the keys agree again; a side that did not update fails.
  ASSERT_TRUE(tx.update());
  ASSERT_TRUE(rx.update());
  EXPECT_EQ(tx.sequence(), 0u);
  auto after = seal_one(tx, plain, content_application_data);
  record_keys stale;
  ASSERT_TRUE(stale.init(s, secret, false));
  EXPECT_FALSE(stale.open(after.data(), after.size(), out.data()));
  EXPECT_TRUE(rx.open(after.data(), after.size(), out.data()));
}

INSTANTIATE_TEST_SUITE_P(suites, record_keys_suites, ::testing::Values(0, 1, 2));

TEST(record_protection, the_sealer_refuses_more_than_2_14_bytes_and_openers_do_not_seal) {
  record_keys tx;
  record_keys rx;
  ASSERT_TRUE(tx.init(aes128, client_secret, true));
  ASSERT_TRUE(rx.init(aes128, client_secret, false));
  std::array<std::byte, 5> header{};
  EXPECT_FALSE(tx.seal_begin(header.data(), max_record_plaintext + 1));
  EXPECT_FALSE(rx.seal_begin(header.data(), 1));
  std::vector<std::byte> out(100);
  EXPECT_FALSE(tx.open(client_data_record.data(), client_data_record.size(), out.data()));
}

TEST(record_protection, keylog_lines_give_the_application_traffic_secrets_only) {
  traffic_secrets s;
  const std::string rnd(64, 'a');
  EXPECT_FALSE(take_keylog_line("CLIENT_HANDSHAKE_TRAFFIC_SECRET " + rnd + " 0011", s));
  EXPECT_FALSE(take_keylog_line("CLIENT_RANDOM " + rnd + " 0011", s));
  EXPECT_TRUE(take_keylog_line("CLIENT_TRAFFIC_SECRET_0 " + rnd + " 00ff10Ab", s));
  ASSERT_EQ(s.client_size, 4u);
  EXPECT_EQ(s.client[1], std::byte{0xff});
  EXPECT_EQ(s.client[3], std::byte{0xab});
  EXPECT_TRUE(take_keylog_line("SERVER_TRAFFIC_SECRET_0 " + rnd + " " + std::string(96, '1'), s));
  EXPECT_EQ(s.server_size, 48u);
  EXPECT_FALSE(take_keylog_line("SERVER_TRAFFIC_SECRET_0 " + rnd + " 0g", s));
  EXPECT_FALSE(take_keylog_line("SERVER_TRAFFIC_SECRET_0 " + rnd + " 123", s));
  EXPECT_FALSE(
      take_keylog_line("SERVER_TRAFFIC_SECRET_0 " + rnd + " " + std::string(130, '1'), s));
  EXPECT_FALSE(take_keylog_line("SERVER_TRAFFIC_SECRET_0 nospace", s));
  s.wipe();
  EXPECT_EQ(s.client_size, 0u);
  EXPECT_EQ(s.client[1], std::byte{0});
}

TEST(record_protection, key_update_messages_are_encoded_as_rfc_8446_says) {
  const auto not_requested = key_update_message(false);
  const auto requested = key_update_message(true);
  EXPECT_EQ(std::vector<std::byte>(not_requested.begin(), not_requested.end()),
            hex("18 00 00 01 00"));
  EXPECT_EQ(std::vector<std::byte>(requested.begin(), requested.end()), hex("18 00 00 01 01"));
}

}  // namespace
}  // namespace kiteline::tls
