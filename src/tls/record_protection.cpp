#include "tls/record_protection.hpp"

#include <cstring>
#include <string>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/kdf.h>
#include <openssl/tls1.h>

#include "core/text.hpp"

namespace kiteline::tls {

namespace {

constexpr std::size_t iv_size = 12;

/// HKDF-Expand-Label(secret, label, "", out.size()) of RFC 8446 §7.1.
bool expand_label(const char* digest, std::span<const std::byte> secret, std::string_view label,
                  std::span<unsigned char> out) {
  // struct { uint16 length; opaque label<7..255> = "tls13 " + label; opaque context<0..255>; }
  std::array<unsigned char, 2 + 1 + 6 + 32 + 1> info{};
  const std::size_t label_size = 6 + label.size();
  if (label.size() > 32 || out.size() > 0xffff) {
    return false;
  }
  info[0] = static_cast<unsigned char>(out.size() >> 8);
  info[1] = static_cast<unsigned char>(out.size() & 0xff);
  info[2] = static_cast<unsigned char>(label_size);
  std::memcpy(info.data() + 3, "tls13 ", 6);
  std::memcpy(info.data() + 9, label.data(), label.size());
  info[9 + label.size()] = 0;  // empty context
  const std::size_t info_size = 3 + label_size + 1;

  EVP_KDF* kdf = ::EVP_KDF_fetch(nullptr, "HKDF", nullptr);
  EVP_KDF_CTX* kctx = kdf != nullptr ? ::EVP_KDF_CTX_new(kdf) : nullptr;
  ::EVP_KDF_free(kdf);
  if (kctx == nullptr) {
    return false;
  }
  int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
  std::array<OSSL_PARAM, 5> params{
      ::OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
      ::OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, const_cast<char*>(digest), 0),
      ::OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
                                          const_cast<std::byte*>(secret.data()), secret.size()),
      ::OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info.data(), info_size),
      ::OSSL_PARAM_construct_end()};
  const bool ok = ::EVP_KDF_derive(kctx, out.data(), out.size(), params.data()) == 1;
  ::EVP_KDF_CTX_free(kctx);
  return ok;
}

/// The SSL ex_data slot holding a connection's traffic_secrets*. OpenSSL assigns it once; it
/// is constant afterwards (no mutable state).
int secrets_index() {
  static const int index = ::SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

void on_keylog_line(const SSL* ssl, const char* line) {
  auto* s = static_cast<traffic_secrets*>(::SSL_get_ex_data(ssl, secrets_index()));
  if (s != nullptr && line != nullptr) {
    (void)take_keylog_line(line, *s);
  }
}

}  // namespace

void enable_traffic_secrets(SSL_CTX* ctx) noexcept {
  (void)secrets_index();
  ::SSL_CTX_set_keylog_callback(ctx, &on_keylog_line);
}

void collect_traffic_secrets(SSL* ssl, traffic_secrets* s) noexcept {
  ::SSL_set_ex_data(ssl, secrets_index(), s);
}

std::optional<record_suite> record_suite_of(const SSL* ssl) {
  if (ssl == nullptr || ::SSL_version(ssl) != TLS1_3_VERSION) {
    return std::nullopt;
  }
  const SSL_CIPHER* c = ::SSL_get_current_cipher(ssl);
  if (c == nullptr) {
    return std::nullopt;
  }
  switch (::SSL_CIPHER_get_id(c)) {
    case TLS1_3_CK_AES_128_GCM_SHA256:
      return record_suite{::EVP_aes_128_gcm(), "SHA256", 16, 32};
    case TLS1_3_CK_AES_256_GCM_SHA384:
      return record_suite{::EVP_aes_256_gcm(), "SHA384", 32, 48};
    case TLS1_3_CK_CHACHA20_POLY1305_SHA256:
      return record_suite{::EVP_chacha20_poly1305(), "SHA256", 32, 32};
    default:
      return std::nullopt;
  }
}

void traffic_secrets::wipe() noexcept {
  ::OPENSSL_cleanse(client.data(), client.size());
  ::OPENSSL_cleanse(server.data(), server.size());
  client_size = 0;
  server_size = 0;
}

bool take_keylog_line(std::string_view line, traffic_secrets& s) {
  constexpr std::string_view client_label = "CLIENT_TRAFFIC_SECRET_0 ";
  constexpr std::string_view server_label = "SERVER_TRAFFIC_SECRET_0 ";
  std::array<std::byte, 64>* dst = nullptr;
  std::size_t* dst_size = nullptr;
  if (line.starts_with(client_label)) {
    dst = &s.client;
    dst_size = &s.client_size;
    line.remove_prefix(client_label.size());
  } else if (line.starts_with(server_label)) {
    dst = &s.server;
    dst_size = &s.server_size;
    line.remove_prefix(server_label.size());
  } else {
    return false;
  }
  const auto space = line.find(' ');
  if (space == std::string_view::npos) {
    return false;
  }
  const std::string_view hex = line.substr(space + 1);
  if (hex.size() % 2 != 0 || hex.size() / 2 > dst->size() || hex.empty()) {
    return false;
  }
  // The length fits, so only a non-hex byte fails, after part of the secret was written.
  const std::optional<std::size_t> n = kiteline::decode_hex_into(hex, *dst);
  if (!n) {
    ::OPENSSL_cleanse(dst->data(), dst->size());
    return false;
  }
  *dst_size = *n;
  return true;
}

record_keys::~record_keys() {
  ::EVP_CIPHER_CTX_free(ctx_);
  ::OPENSSL_cleanse(secret_.data(), secret_.size());
  ::OPENSSL_cleanse(iv_.data(), iv_.size());
}

bool record_keys::init(const record_suite& suite, std::span<const std::byte> secret, bool seal,
                       std::uint64_t sequence) {
  if (suite.cipher == nullptr || secret.size() != suite.hash_size ||
      secret.size() > secret_.size()) {
    return false;
  }
  suite_ = suite;
  seal_ = seal;
  std::memcpy(secret_.data(), secret.data(), secret.size());
  if (ctx_ == nullptr) {
    ctx_ = ::EVP_CIPHER_CTX_new();
    if (ctx_ == nullptr) {
      return false;
    }
  }
  if (!derive()) {
    return false;
  }
  seq_ = sequence;
  return true;
}

bool traffic_key_and_iv(const record_suite& suite, std::span<const std::byte> secret,
                        std::span<unsigned char> key, std::span<unsigned char, 12> iv) {
  return key.size() == suite.key_size && suite.digest != nullptr &&
         expand_label(suite.digest, secret, "key", key) &&
         expand_label(suite.digest, secret, "iv", iv);
}

bool record_keys::derive() {
  std::array<unsigned char, 32> key{};
  const std::span<const std::byte> secret(secret_.data(), suite_.hash_size);
  bool ok = traffic_key_and_iv(suite_, secret,
                               std::span<unsigned char>(key.data(), suite_.key_size), iv_);
  if (ok) {
    ok = (seal_ ? ::EVP_EncryptInit_ex(ctx_, suite_.cipher, nullptr, key.data(), nullptr)
                : ::EVP_DecryptInit_ex(ctx_, suite_.cipher, nullptr, key.data(), nullptr)) == 1;
  }
  ::OPENSSL_cleanse(key.data(), key.size());
  seq_ = 0;
  return ok;
}

bool record_keys::update() {
  std::array<unsigned char, 64> next{};
  const std::span<const std::byte> secret(secret_.data(), suite_.hash_size);
  if (!expand_label(suite_.digest, secret, "traffic upd",
                    std::span<unsigned char>(next.data(), suite_.hash_size))) {
    return false;
  }
  std::memcpy(secret_.data(), next.data(), suite_.hash_size);
  ::OPENSSL_cleanse(next.data(), next.size());
  return derive();
}

void record_keys::next_nonce(std::array<unsigned char, 12>& nonce) const noexcept {
  nonce = iv_;
  for (int i = 0; i < 8; ++i) {
    nonce[iv_size - 1 - static_cast<std::size_t>(i)] ^=
        static_cast<unsigned char>((seq_ >> (8 * i)) & 0xff);
  }
}

bool record_keys::seal_begin(std::byte* header, std::size_t plain_size) {
  const std::size_t length = plain_size + 1 + record_tag_size;
  if (!seal_ || plain_size > max_record_plaintext) {
    return false;
  }
  header[0] = static_cast<std::byte>(content_application_data);
  header[1] = std::byte{0x03};
  header[2] = std::byte{0x03};
  header[3] = static_cast<std::byte>(length >> 8);
  header[4] = static_cast<std::byte>(length & 0xff);
  std::array<unsigned char, 12> nonce{};
  next_nonce(nonce);
  int outl = 0;
  return ::EVP_EncryptInit_ex(ctx_, nullptr, nullptr, nullptr, nonce.data()) == 1 &&
         ::EVP_EncryptUpdate(ctx_, nullptr, &outl, reinterpret_cast<unsigned char*>(header),
                             static_cast<int>(record_header_size)) == 1;
}

bool record_keys::seal_add(const std::byte* in, std::size_t n, std::byte* out) {
  int outl = 0;
  return n == 0 || ::EVP_EncryptUpdate(ctx_, reinterpret_cast<unsigned char*>(out), &outl,
                                       reinterpret_cast<const unsigned char*>(in),
                                       static_cast<int>(n)) == 1;
}

bool record_keys::seal_finish(std::uint8_t content_type, std::byte* tail) {
  auto* t = reinterpret_cast<unsigned char*>(tail);
  const unsigned char type = content_type;
  int outl = 0;
  int finl = 0;
  if (::EVP_EncryptUpdate(ctx_, t, &outl, &type, 1) != 1 ||
      ::EVP_EncryptFinal_ex(ctx_, t + outl, &finl) != 1 ||
      ::EVP_CIPHER_CTX_ctrl(ctx_, EVP_CTRL_AEAD_GET_TAG, static_cast<int>(record_tag_size),
                            t + 1) != 1) {
    return false;
  }
  ++seq_;
  return true;
}

bool record_keys::open(const std::byte* record, std::size_t size, std::byte* out) {
  if (seal_ || size < record_header_size + record_tag_size + 1 ||
      size > record_header_size + max_record_ciphertext) {
    return false;
  }
  const std::size_t n = size - record_header_size - record_tag_size;
  const auto* r = reinterpret_cast<const unsigned char*>(record);
  auto* o = reinterpret_cast<unsigned char*>(out);
  std::array<unsigned char, 12> nonce{};
  next_nonce(nonce);
  // The tag is read before the plaintext can overwrite it (out may be record + 5).
  std::array<unsigned char, record_tag_size> tag{};
  std::memcpy(tag.data(), r + record_header_size + n, record_tag_size);
  int outl = 0;
  int finl = 0;
  if (::EVP_DecryptInit_ex(ctx_, nullptr, nullptr, nullptr, nonce.data()) != 1 ||
      ::EVP_DecryptUpdate(ctx_, nullptr, &outl, r, static_cast<int>(record_header_size)) != 1 ||
      ::EVP_DecryptUpdate(ctx_, o, &outl, r + record_header_size, static_cast<int>(n)) != 1 ||
      ::EVP_CIPHER_CTX_ctrl(ctx_, EVP_CTRL_AEAD_SET_TAG, static_cast<int>(record_tag_size),
                            tag.data()) != 1 ||
      ::EVP_DecryptFinal_ex(ctx_, o + outl, &finl) != 1) {
    return false;
  }
  ++seq_;
  return true;
}

std::array<std::byte, 5> key_update_message(bool request_update) noexcept {
  return {std::byte{24}, std::byte{0}, std::byte{0}, std::byte{1},
          request_update ? std::byte{1} : std::byte{0}};
}

}  // namespace kiteline::tls
