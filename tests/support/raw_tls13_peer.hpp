// A raw TLS 1.3 endpoint for tests: OpenSSL runs the handshake, then the test seals and sends
// whatever records it likes (any content type, empty, fragmented, reordered, tampered) and
// opens what the other side sends. The "hostile peer" of the record-layer tests.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

using SSL = struct ssl_st;
using SSL_CTX = struct ssl_ctx_st;

namespace kiteline::test {

/// One TLS 1.3 connection whose records the test moves by hand, over a connected socket.
///
/// **How it works.** The constructor runs OpenSSL's handshake on the socket (blocking; as
/// client or server), and OpenSSL's keylog hook hands over both application traffic secrets.
/// From then on libssl is never called again: the peer reads and writes the socket itself and
/// every record is sealed and opened here, with a key schedule (HKDF-Expand-Label, key/IV,
/// nonce = IV xor sequence number, KeyUpdate's "traffic upd") written from RFC 8446 §5.2-5.3
/// and §7.1-7.3 on OpenSSL's HMAC and AEADs, independent of kiteline's src/tls: a test compares
/// two implementations, not one with itself.
///
/// **What it can send.** Any record under the current write key: seal() builds one (content +
/// inner content type + zero padding), seal_inner() any inner plaintext whatsoever (no content
/// type, all zeros, an unknown type, more than 2^14 bytes) under any header type/version; the
/// bytes come back to the test, which sends them with send_raw() (tampered, reordered, split
/// across sends, concatenated: 10 000 KeyUpdate requests in one send) or drops them. Sealing
/// advances the write sequence number whether or not the bytes are sent. The send_* helpers
/// do both steps for the common cases; send_key_update() also moves the write key on.
///
/// **What it reads.** read_record() reads one record and opens it under the current read key
/// (any content type; plaintext records, e.g. a handshake alert, come back unopened). A
/// KeyUpdate received moves the read key on (the next record is under the new key) and is
/// counted; with answer_key_update_requests set, a KeyUpdate(update_requested) is answered at
/// once with send_key_update(false). NewSessionTickets are returned like any record. read_data(),
/// read_until_alert() and wait_for_close() read on until an event.
///
/// **Limits.** Messages of the other side are parsed per record (a KeyUpdate split across
/// records is not seen). A server peer sends no session tickets (num_tickets 0), so its first
/// record is number 0. TLS 1.3 only, the suites TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384,
/// TLS_CHACHA20_POLY1305_SHA256.
///
/// **Threading and time.** A blocking object for one thread (run the kiteline side on an
/// io_context in another), with one exception: send_raw() touches only the socket, so a second
/// thread may send bytes sealed beforehand while the first reads (a peer that floods without
/// waiting for the other side to read). Every socket call is bounded by socket timeouts of test_timeout();
/// a timeout counts as the end of the connection. Not copyable; closes the socket when
/// destroyed.
///
/// Example (kiteline's server on `port`, a flood of KeyUpdate requests in one send):
///   raw_tls13_peer p(raw_tls13_peer::connect_loopback(port), raw_tls13_peer::role::client,
///                    {.server_name = "fe.test"});
///   ASSERT_TRUE(p.ok()) << p.error();
///   std::vector<std::byte> flood;
///   for (int i = 0; i < 10000; ++i) {
///     auto r = p.seal(raw_tls13_peer::handshake, raw_tls13_peer::key_update_message(true));
///     flood.insert(flood.end(), r.begin(), r.end());
///     p.update_write_key();
///   }
///   ASSERT_TRUE(p.send_raw(flood));
///   auto alert = p.read_until_alert();   // std::nullopt: the other side closed without one
class raw_tls13_peer {
 public:
  enum class role { client, server };
  struct options {
    std::string server_name;  ///< client: SNI sent (empty: none); the certificate is not checked
    std::string pem_file;     ///< server: certificate chain and private key, PEM (required)
    std::string suites;       ///< TLS 1.3 suites, SSL_CTX_set_ciphersuites syntax ("": default)
  };
  /// Content types (TLSPlaintext / TLSInnerPlaintext).
  static constexpr std::uint8_t alert = 21;
  static constexpr std::uint8_t handshake = 22;
  static constexpr std::uint8_t application_data = 23;

  /// Runs the handshake on the connected socket `fd`, which the peer owns from now on (closed
  /// by the destructor, also when the handshake fails). Check ok().
  raw_tls13_peer(int fd, role r, const options& o);
  ~raw_tls13_peer();
  raw_tls13_peer(const raw_tls13_peer&) = delete;
  raw_tls13_peer& operator=(const raw_tls13_peer&) = delete;

  /// A blocking TCP connection to 127.0.0.1:`port` (-1 on failure).
  [[nodiscard]] static int connect_loopback(std::uint16_t port);
  /// The 5 bytes of a KeyUpdate handshake message (RFC 8446 §4.6.3).
  [[nodiscard]] static std::array<std::byte, 5> key_update_message(bool request_update);

  /// Whether the handshake succeeded (TLS 1.3, a known suite, both secrets); else error().
  [[nodiscard]] bool ok() const noexcept { return ok_; }
  [[nodiscard]] const std::string& error() const noexcept { return error_; }
  [[nodiscard]] int fd() const noexcept { return fd_; }
  /// The negotiated suite's name ("TLS_AES_128_GCM_SHA256").
  [[nodiscard]] const std::string& suite() const noexcept { return suite_name_; }

  // ---- sealing (the write key's sequence number advances by one per record)
  /// One record: inner plaintext = `content` || `type` || `padding` zero bytes, header
  /// application_data / 0x0303 / length.
  [[nodiscard]] std::vector<std::byte> seal(std::uint8_t type, std::span<const std::byte> content,
                                            std::size_t padding = 0);
  /// One record whose inner plaintext is exactly `inner` (the test appends the content type
  /// itself, or not), under a header of `outer_type` and `version`.
  [[nodiscard]] std::vector<std::byte> seal_inner(std::span<const std::byte> inner,
                                                  std::uint8_t outer_type = application_data,
                                                  std::uint16_t version = 0x0303);
  /// Renews the write / read key by hand (RFC 8446 §7.2), sequence number 0.
  void update_write_key();
  void update_read_key();
  [[nodiscard]] std::uint64_t write_sequence() const noexcept { return tx_.seq; }
  [[nodiscard]] std::uint64_t read_sequence() const noexcept { return rx_.seq; }

  // ---- sending (false when the socket failed: the other side closed, or a timeout)
  /// Sends `bytes` as they are.
  bool send_raw(std::span<const std::byte> bytes);
  /// seal() and send.
  bool send_record(std::uint8_t type, std::span<const std::byte> content,
                   std::size_t padding = 0);
  /// Application data in records of at most `record_size` bytes, one send.
  bool send_data(std::span<const std::byte> data, std::size_t record_size = 16384);
  /// An alert record (`level` 1 warning, 2 fatal).
  bool send_alert(std::uint8_t level, std::uint8_t description);
  /// A KeyUpdate in its own record, then the write key moves on.
  bool send_key_update(bool request_update);
  /// Half-closes TCP (shutdown SHUT_WR) without close_notify.
  void shutdown_send();

  // ---- reading
  struct record {
    std::uint8_t outer_type = 0;     ///< the header's content type
    std::uint8_t type = 0;           ///< the inner content type (opened records)
    std::vector<std::byte> content;  ///< opened: the content; else the record body as sent
    bool opened = false;             ///< authenticated under the read key
  };
  /// Reads and opens the next record; nullopt once the connection ended (EOF, reset, timeout,
  /// a record that does not authenticate: see ended_by()).
  std::optional<record> read_record();
  /// Reads records until `n` bytes of application data came, or an alert, an unopened record
  /// or the end. Returns the data (check its size).
  std::vector<std::byte> read_data(std::size_t n);
  /// Reads until an alert record: its (level, description); nullopt at the end without one.
  /// Application data on the way is counted in data_received.
  std::optional<std::array<std::uint8_t, 2>> read_until_alert();
  /// Reads until the other side closed TCP (EOF or reset): true; false on a timeout.
  bool wait_for_close();

  /// When set, a KeyUpdate(update_requested) read is answered at once.
  bool answer_key_update_requests = false;
  // What was read so far.
  std::uint64_t key_updates_received = 0;
  std::uint64_t key_update_requests_received = 0;
  std::uint64_t data_received = 0;
  std::vector<std::array<std::uint8_t, 2>> alerts_received;
  /// Why read_record() returned nullopt: "eof", "reset", "timeout", "bad record mac", ...
  std::string ended_by;

 private:
  struct direction {
    std::vector<unsigned char> secret;
    std::array<unsigned char, 32> key{};
    std::array<unsigned char, 12> iv{};
    std::uint64_t seq = 0;
  };
  bool run_handshake(role r, const options& o);
  bool derive(direction& d) const;
  bool next_secret(direction& d) const;
  bool recv_exact(unsigned char* p, std::size_t n);
  void take_secret(const char* line);
  friend void raw_tls13_peer_keylog(const SSL* ssl, const char* line);

  int fd_ = -1;
  bool ok_ = false;
  std::string error_;
  std::string suite_name_;
  const void* cipher_ = nullptr;  // EVP_CIPHER*
  const void* md_ = nullptr;      // EVP_MD*
  std::size_t key_size_ = 0;
  direction tx_;
  direction rx_;
  std::vector<unsigned char> client_secret_;
  std::vector<unsigned char> server_secret_;
};

}  // namespace kiteline::test
