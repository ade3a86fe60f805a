// Test-side TLS 1.3 record sealing for the record-layer unit tests: HKDF-Expand-Label, key/IV
// and AES-128-GCM records written on OpenSSL's HMAC and EVP directly (not src/tls), so that the
// tests check kiteline's reader against a second implementation. RFC 8448's known answers
// check this one (record_protection_test.cpp).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/text.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace kiteline::tls::test {

/// Bytes from hex ("17 03 03" or "170303": spaces ignored).
inline std::vector<std::byte> hex(std::string_view h) {
  std::vector<std::byte> out;
  std::string digits;
  for (char c : h) {
    if (c != ' ' && c != '\n') {
      digits.push_back(c);
    }
  }
  out.resize(digits.size() / 2);
  EXPECT_TRUE(decode_hex_into(digits, out).has_value()) << h;
  return out;
}

/// HKDF-Expand-Label(secret, label, "", length), SHA-256, length <= 32 (one HMAC block).
inline std::vector<unsigned char> expand_label(std::span<const std::byte> secret,
                                               std::string_view label, std::size_t length) {
  std::vector<unsigned char> info{static_cast<unsigned char>(length >> 8),
                                  static_cast<unsigned char>(length & 0xff),
                                  static_cast<unsigned char>(6 + label.size())};
  const std::string full = "tls13 " + std::string(label);
  info.insert(info.end(), full.begin(), full.end());
  info.push_back(0);
  info.push_back(1);
  std::array<unsigned char, EVP_MAX_MD_SIZE> block{};
  unsigned int n = 0;
  EXPECT_NE(::HMAC(::EVP_sha256(), secret.data(), static_cast<int>(secret.size()), info.data(),
                   info.size(), block.data(), &n),
            nullptr);
  return {block.begin(), block.begin() + static_cast<std::ptrdiff_t>(length)};
}

/// One direction of a TLS_AES_128_GCM_SHA256 connection, sealing.
class sealer {
 public:
  explicit sealer(std::span<const std::byte> secret) : secret_(secret.begin(), secret.end()) {
    derive();
  }
  /// The next traffic secret ("traffic upd"), sequence 0.
  void update() {
    const auto next = expand_label(secret_, "traffic upd", 32);
    secret_.assign(reinterpret_cast<const std::byte*>(next.data()),
                   reinterpret_cast<const std::byte*>(next.data()) + next.size());
    derive();
  }
  [[nodiscard]] std::uint64_t sequence() const { return seq_; }

  /// A record whose inner plaintext is exactly `inner`, under the given header type/version.
  std::vector<std::byte> inner(std::span<const std::byte> in, std::uint8_t outer_type = 23,
                               std::uint16_t version = 0x0303) {
    const std::size_t len = in.size() + 16;
    std::vector<std::byte> rec(5 + len);
    auto* r = reinterpret_cast<unsigned char*>(rec.data());
    r[0] = outer_type;
    r[1] = static_cast<unsigned char>(version >> 8);
    r[2] = static_cast<unsigned char>(version & 0xff);
    r[3] = static_cast<unsigned char>(len >> 8);
    r[4] = static_cast<unsigned char>(len & 0xff);
    std::array<unsigned char, 12> nonce{};
    std::memcpy(nonce.data(), iv_.data(), 12);
    for (int i = 0; i < 8; ++i) {
      nonce[11 - static_cast<std::size_t>(i)] ^= static_cast<unsigned char>(seq_ >> (8 * i));
    }
    EVP_CIPHER_CTX* c = ::EVP_CIPHER_CTX_new();
    int outl = 0;
    EXPECT_EQ(::EVP_EncryptInit_ex(c, ::EVP_aes_128_gcm(), nullptr, key_.data(), nonce.data()), 1);
    EXPECT_EQ(::EVP_EncryptUpdate(c, nullptr, &outl, r, 5), 1);
    if (!in.empty()) {
      EXPECT_EQ(::EVP_EncryptUpdate(c, r + 5, &outl,
                                    reinterpret_cast<const unsigned char*>(in.data()),
                                    static_cast<int>(in.size())),
                1);
    }
    EXPECT_EQ(::EVP_EncryptFinal_ex(c, r + 5 + in.size(), &outl), 1);
    EXPECT_EQ(::EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, 16, r + 5 + in.size()), 1);
    ::EVP_CIPHER_CTX_free(c);
    ++seq_;
    return rec;
  }
  /// content || type || padding zeros.
  std::vector<std::byte> record(std::uint8_t type, std::span<const std::byte> content,
                                std::size_t padding = 0) {
    std::vector<std::byte> in(content.begin(), content.end());
    in.push_back(std::byte{type});
    in.resize(in.size() + padding);
    return inner(in);
  }

 private:
  void derive() {
    key_ = expand_label(secret_, "key", 16);
    iv_ = expand_label(secret_, "iv", 12);
    seq_ = 0;
  }
  std::vector<std::byte> secret_;
  std::vector<unsigned char> key_;
  std::vector<unsigned char> iv_;
  std::uint64_t seq_ = 0;
};

}  // namespace kiteline::tls::test
