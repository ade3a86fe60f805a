// TLS 1.3 record protection (RFC 8446 §5.2-5.5, §7.1-7.3) for connections whose handshake
// OpenSSL ran. No I/O: bytes in, bytes out.
//
// Why: once a TLS 1.3 handshake is done, moving the bulk of a tunnel through libssl costs two
// extra copies per byte on the sending side (plaintext into libssl's record buffer, records into
// our BIO's buffer) and two on the receiving side (records into libssl's buffer, plaintext out of
// it), plus libssl's per-record bookkeeping. With the traffic secrets (OpenSSL hands them to a
// keylog callback) the same AEAD seals the plaintext straight from the caller's buffers into the
// output buffer and opens records straight into the caller's buffer: what kernel TLS does, in
// user space. The handshake, certificates, verification and the key process stay OpenSSL's.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include <openssl/evp.h>
#include <openssl/ssl.h>

namespace kiteline::tls {

inline constexpr std::size_t record_header_size = 5;
inline constexpr std::size_t record_tag_size = 16;
/// The largest plaintext a record may carry (2^14).
inline constexpr std::size_t max_record_plaintext = 16384;
/// The largest ciphertext a TLS 1.3 record may carry (2^14 + 256).
inline constexpr std::size_t max_record_ciphertext = max_record_plaintext + 256;
/// The size of a sealed record carrying `content` bytes: header, content, content type, tag.
constexpr std::size_t sealed_record_size(std::size_t content) noexcept {
  return record_header_size + content + 1 + record_tag_size;
}
/// TLSInnerPlaintext / TLSPlaintext content types.
inline constexpr std::uint8_t content_alert = 21;
inline constexpr std::uint8_t content_handshake = 22;
inline constexpr std::uint8_t content_application_data = 23;
/// Post-handshake message types (RFC 8446 §4).
inline constexpr std::uint8_t message_new_session_ticket = 4;
inline constexpr std::uint8_t message_key_update = 24;
/// Records sealed (or opened) under one traffic key before it is renewed with a KeyUpdate, in
/// either direction: 2^20 (16 GiB of full records), 1/23 of RFC 8446 §5.5's AES-GCM limit of
/// 2^24.5 records per key, so that a long tunnel never comes near it (ChaCha20-Poly1305's
/// limit is far above). A KeyUpdate costs one 27-byte record and two HKDF-Expand calls.
inline constexpr std::uint64_t key_update_records = std::uint64_t{1} << 20;

/// The AEAD and key-schedule hash of a TLS 1.3 cipher suite.
struct record_suite {
  const EVP_CIPHER* cipher = nullptr;
  const char* digest = nullptr;  ///< "SHA256" / "SHA384"
  std::size_t key_size = 0;
  std::size_t hash_size = 0;
};

/// The suite of `ssl`'s negotiated TLS 1.3 connection; nullopt for TLS 1.2 and older and for
/// the CCM suites (which kiteline does not enable), so the caller stays with libssl.
std::optional<record_suite> record_suite_of(const SSL* ssl);

/// The application traffic secrets of one connection as OpenSSL's keylog callback reports them.
struct traffic_secrets {
  std::array<std::byte, 64> client{};
  std::array<std::byte, 64> server{};
  std::size_t client_size = 0;
  std::size_t server_size = 0;
  /// Overwrites both secrets.
  void wipe() noexcept;
};

/// Installs OpenSSL's keylog hook on `ctx` so that connections registered with
/// collect_traffic_secrets() receive their traffic secrets. Call once when the context is made,
/// before any connection uses it (the hook is the context's; setting it later would race).
void enable_traffic_secrets(SSL_CTX* ctx) noexcept;
/// Where the hook puts `ssl`'s application traffic secrets (nullptr: nowhere, the default).
/// `s` must outlive the registration.
void collect_traffic_secrets(SSL* ssl, traffic_secrets* s) noexcept;

/// Takes a keylog line ("CLIENT_TRAFFIC_SECRET_0 <client random> <secret>" or the SERVER one)
/// into `s`; other lines (handshake secrets, TLS 1.2 master secrets) are ignored. Returns true
/// when the line was a well-formed application traffic secret.
bool take_keylog_line(std::string_view line, traffic_secrets& s);

/// One direction of a connection: AEAD key, IV, sequence number and the traffic secret (for
/// KeyUpdate). Not copyable; wipes its secrets when destroyed.
class record_keys {
 public:
  record_keys() = default;
  ~record_keys();
  record_keys(const record_keys&) = delete;
  record_keys& operator=(const record_keys&) = delete;

  /// Derives the key and IV from `secret` for sealing or opening, the next record being number
  /// `sequence` (0 unless records were already sealed under this key elsewhere: an OpenSSL
  /// server's session tickets). False when OpenSSL fails (the caller then stays with libssl).
  bool init(const record_suite& suite, std::span<const std::byte> secret, bool seal,
            std::uint64_t sequence = 0);
  /// KeyUpdate: the next traffic secret ("traffic upd"), its key and IV, sequence 0.
  bool update();
  [[nodiscard]] std::uint64_t sequence() const noexcept { return seq_; }

  /// Sealing one record whose TLSInnerPlaintext content is `plain_size` bytes, in three steps so
  /// the content may come from several buffers: begin() writes the 5-byte header at `header`,
  /// add() encrypts content from `in` to `out` (in == out allowed), finish() encrypts the
  /// content type and writes it and the tag at `tail` (17 bytes). The record is
  /// sealed_record_size(plain_size) bytes long.
  bool seal_begin(std::byte* header, std::size_t plain_size);
  bool seal_add(const std::byte* in, std::size_t n, std::byte* out);
  bool seal_finish(std::uint8_t content_type, std::byte* tail);

  /// Opens one whole record (header + ciphertext, `size` bytes), writing the inner plaintext
  /// (content, content type, padding: size - 5 - 16 bytes) to `out`, which may be record + 5.
  /// False when the record does not authenticate.
  bool open(const std::byte* record, std::size_t size, std::byte* out);

 private:
  bool derive();
  void next_nonce(std::array<unsigned char, 12>& nonce) const noexcept;

  record_suite suite_{};
  bool seal_ = false;
  EVP_CIPHER_CTX* ctx_ = nullptr;
  std::array<std::byte, 64> secret_{};
  std::array<unsigned char, 12> iv_{};
  std::uint64_t seq_ = 0;
};

/// The write key and IV of a traffic secret (RFC 8446 §7.3): HKDF-Expand-Label(secret, "key"
/// / "iv", "", length). `key` must hold suite.key_size bytes. False when OpenSSL fails.
bool traffic_key_and_iv(const record_suite& suite, std::span<const std::byte> secret,
                        std::span<unsigned char> key, std::span<unsigned char, 12> iv);

/// Encodes a TLSInnerPlaintext handshake message KeyUpdate (RFC 8446 §4.6.3).
std::array<std::byte, 5> key_update_message(bool request_update) noexcept;

}  // namespace kiteline::tls
