#include "support/raw_tls13_peer.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <string_view>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/ssl.h>

#include "core/text.hpp"
#include "support/test_env.hpp"

namespace kiteline::test {

namespace {

constexpr std::size_t tag_size = 16;

int peer_index() {
  static const int index = ::SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

const EVP_CIPHER* cipher_of(const void* p) { return static_cast<const EVP_CIPHER*>(p); }
const EVP_MD* md_of(const void* p) { return static_cast<const EVP_MD*>(p); }

/// HKDF-Expand-Label(secret, label, "", length) for length <= the hash size (RFC 8446 §7.1):
/// HKDF-Expand's first block, HMAC(secret, HkdfLabel || 0x01).
bool expand_label(const EVP_MD* md, const std::vector<unsigned char>& secret,
                  std::string_view label, unsigned char* out, std::size_t length) {
  std::vector<unsigned char> info;
  const std::string full = "tls13 " + std::string(label);
  info.push_back(static_cast<unsigned char>(length >> 8));
  info.push_back(static_cast<unsigned char>(length & 0xff));
  info.push_back(static_cast<unsigned char>(full.size()));
  info.insert(info.end(), full.begin(), full.end());
  info.push_back(0);  // empty context
  info.push_back(1);  // HKDF-Expand block counter
  std::array<unsigned char, EVP_MAX_MD_SIZE> block{};
  unsigned int block_len = 0;
  if (::HMAC(md, secret.data(), static_cast<int>(secret.size()), info.data(), info.size(),
             block.data(), &block_len) == nullptr ||
      length > block_len) {
    return false;
  }
  std::memcpy(out, block.data(), length);
  return true;
}

void set_timeouts(int fd) {
  const auto t = std::chrono::duration_cast<std::chrono::seconds>(test_timeout());
  timeval tv{static_cast<time_t>(t.count()), 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

}  // namespace

void raw_tls13_peer_keylog(const SSL* ssl, const char* line) {
  auto* p = static_cast<raw_tls13_peer*>(::SSL_get_ex_data(ssl, peer_index()));
  if (p != nullptr && line != nullptr) {
    p->take_secret(line);
  }
}

raw_tls13_peer::raw_tls13_peer(int fd, role r, const options& o) : fd_(fd) {
  if (fd_ < 0) {
    error_ = "no socket";
    return;
  }
  set_timeouts(fd_);
  ok_ = run_handshake(r, o);
}

raw_tls13_peer::~raw_tls13_peer() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

int raw_tls13_peer::connect_loopback(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    if (fd >= 0) {
      ::close(fd);
    }
    return -1;
  }
  return fd;
}

std::array<std::byte, 5> raw_tls13_peer::key_update_message(bool request_update) {
  return {std::byte{24}, std::byte{0}, std::byte{0}, std::byte{1},
          request_update ? std::byte{1} : std::byte{0}};
}

void raw_tls13_peer::take_secret(const char* line) {
  const std::string_view l(line);
  std::vector<unsigned char>* dst = nullptr;
  if (l.starts_with("CLIENT_TRAFFIC_SECRET_0 ")) {
    dst = &client_secret_;
  } else if (l.starts_with("SERVER_TRAFFIC_SECRET_0 ")) {
    dst = &server_secret_;
  } else {
    return;
  }
  const std::string_view hex = l.substr(l.rfind(' ') + 1);
  const std::optional<std::string> bytes = decode_hex(hex);
  dst->clear();
  if (bytes) {
    dst->assign(bytes->begin(), bytes->end());
  }
}

bool raw_tls13_peer::run_handshake(role r, const options& o) {
  SSL_CTX* ctx = ::SSL_CTX_new(r == role::client ? TLS_client_method() : TLS_server_method());
  if (ctx == nullptr) {
    error_ = "SSL_CTX_new failed";
    return false;
  }
  ::SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
  ::SSL_CTX_set_keylog_callback(ctx, &raw_tls13_peer_keylog);
  bool ok = o.suites.empty() || ::SSL_CTX_set_ciphersuites(ctx, o.suites.c_str()) == 1;
  if (r == role::client) {
    ::SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  } else {
    ::SSL_CTX_set_num_tickets(ctx, 0);  // our first record is number 0
    ok = ok && ::SSL_CTX_use_certificate_chain_file(ctx, o.pem_file.c_str()) == 1 &&
         ::SSL_CTX_use_PrivateKey_file(ctx, o.pem_file.c_str(), SSL_FILETYPE_PEM) == 1;
  }
  SSL* ssl = ok ? ::SSL_new(ctx) : nullptr;
  if (ssl != nullptr) {
    ::SSL_set_ex_data(ssl, peer_index(), this);
    ::SSL_set_fd(ssl, fd_);
    if (r == role::client && !o.server_name.empty()) {
      ::SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                 const_cast<char*>(o.server_name.c_str()));
    }
    // Read-ahead stays off: libssl reads no byte past the handshake's last record.
    ok = (r == role::client ? ::SSL_connect(ssl) : ::SSL_accept(ssl)) == 1;
    if (!ok) {
      error_ = "handshake failed: ";
      char buf[256];
      ::ERR_error_string_n(::ERR_get_error(), buf, sizeof buf);
      error_ += buf;
    } else if (::SSL_version(ssl) != TLS1_3_VERSION) {
      ok = false;
      error_ = "not TLS 1.3";
    } else {
      suite_name_ = ::SSL_CIPHER_get_name(::SSL_get_current_cipher(ssl));
      switch (::SSL_CIPHER_get_id(::SSL_get_current_cipher(ssl)) & 0xffff) {
        case 0x1301:
          cipher_ = ::EVP_aes_128_gcm();
          md_ = ::EVP_sha256();
          key_size_ = 16;
          break;
        case 0x1302:
          cipher_ = ::EVP_aes_256_gcm();
          md_ = ::EVP_sha384();
          key_size_ = 32;
          break;
        case 0x1303:
          cipher_ = ::EVP_chacha20_poly1305();
          md_ = ::EVP_sha256();
          key_size_ = 32;
          break;
        default:
          ok = false;
          error_ = "suite not supported: " + suite_name_;
      }
    }
  } else if (error_.empty()) {
    error_ = "cannot set up the TLS context (suites, certificate or key)";
  }
  ::SSL_free(ssl);  // nothing is sent: the connection goes on without libssl
  ::SSL_CTX_free(ctx);
  ::ERR_clear_error();
  if (!ok) {
    return false;
  }
  if (client_secret_.empty() || server_secret_.empty()) {
    error_ = "the keylog hook gave no traffic secrets";
    return false;
  }
  tx_.secret = r == role::client ? client_secret_ : server_secret_;
  rx_.secret = r == role::client ? server_secret_ : client_secret_;
  if (!derive(tx_) || !derive(rx_)) {
    error_ = "key derivation failed";
    return false;
  }
  return true;
}

bool raw_tls13_peer::derive(direction& d) const {
  d.seq = 0;
  return expand_label(md_of(md_), d.secret, "key", d.key.data(), key_size_) &&
         expand_label(md_of(md_), d.secret, "iv", d.iv.data(), d.iv.size());
}

bool raw_tls13_peer::next_secret(direction& d) const {
  std::vector<unsigned char> next(d.secret.size());
  if (!expand_label(md_of(md_), d.secret, "traffic upd", next.data(), next.size())) {
    return false;
  }
  d.secret = std::move(next);
  return derive(d);
}

void raw_tls13_peer::update_write_key() { (void)next_secret(tx_); }
void raw_tls13_peer::update_read_key() { (void)next_secret(rx_); }

std::vector<std::byte> raw_tls13_peer::seal(std::uint8_t type,
                                            std::span<const std::byte> content,
                                            std::size_t padding) {
  std::vector<std::byte> inner(content.begin(), content.end());
  inner.push_back(std::byte{type});
  inner.resize(inner.size() + padding, std::byte{0});
  return seal_inner(inner);
}

std::vector<std::byte> raw_tls13_peer::seal_inner(std::span<const std::byte> inner,
                                                  std::uint8_t outer_type,
                                                  std::uint16_t version) {
  const std::size_t len = inner.size() + tag_size;
  std::vector<std::byte> rec(5 + len);
  auto* r = reinterpret_cast<unsigned char*>(rec.data());
  r[0] = outer_type;
  r[1] = static_cast<unsigned char>(version >> 8);
  r[2] = static_cast<unsigned char>(version & 0xff);
  r[3] = static_cast<unsigned char>(len >> 8);
  r[4] = static_cast<unsigned char>(len & 0xff);
  std::array<unsigned char, 12> nonce = tx_.iv;
  for (int i = 0; i < 8; ++i) {
    nonce[11 - static_cast<std::size_t>(i)] ^= static_cast<unsigned char>(tx_.seq >> (8 * i));
  }
  EVP_CIPHER_CTX* c = ::EVP_CIPHER_CTX_new();
  int outl = 0;
  const bool ok =
      ::EVP_EncryptInit_ex(c, cipher_of(cipher_), nullptr, tx_.key.data(), nonce.data()) == 1 &&
      ::EVP_EncryptUpdate(c, nullptr, &outl, r, 5) == 1 &&
      (inner.empty() ||
       ::EVP_EncryptUpdate(c, r + 5, &outl, reinterpret_cast<const unsigned char*>(inner.data()),
                           static_cast<int>(inner.size())) == 1) &&
      ::EVP_EncryptFinal_ex(c, r + 5 + inner.size(), &outl) == 1 &&
      ::EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, static_cast<int>(tag_size),
                            r + 5 + inner.size()) == 1;
  ::EVP_CIPHER_CTX_free(c);
  ++tx_.seq;
  if (!ok) {
    ADD_FAILURE() << "raw_tls13_peer: sealing failed";
  }
  return rec;
}

bool raw_tls13_peer::send_raw(std::span<const std::byte> bytes) {
  std::size_t off = 0;
  while (off < bytes.size()) {
    const ssize_t n = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return false;
    }
    off += static_cast<std::size_t>(n);
  }
  return true;
}

bool raw_tls13_peer::send_record(std::uint8_t type, std::span<const std::byte> content,
                                 std::size_t padding) {
  const auto rec = seal(type, content, padding);
  return send_raw(rec);
}

bool raw_tls13_peer::send_data(std::span<const std::byte> data, std::size_t record_size) {
  std::vector<std::byte> out;
  for (std::size_t off = 0; off < data.size(); off += record_size) {
    const auto rec = seal(application_data, data.subspan(off, std::min(record_size,
                                                                       data.size() - off)));
    out.insert(out.end(), rec.begin(), rec.end());
  }
  return send_raw(out);
}

bool raw_tls13_peer::send_alert(std::uint8_t level, std::uint8_t description) {
  const std::array<std::byte, 2> body{std::byte{level}, std::byte{description}};
  return send_record(alert, body);
}

bool raw_tls13_peer::send_key_update(bool request_update) {
  const auto rec = seal(handshake, key_update_message(request_update));
  update_write_key();
  return send_raw(rec);
}

void raw_tls13_peer::shutdown_send() { ::shutdown(fd_, SHUT_WR); }

bool raw_tls13_peer::recv_exact(unsigned char* p, std::size_t n) {
  std::size_t got = 0;
  while (got < n) {
    const ssize_t k = ::recv(fd_, p + got, n - got, 0);
    if (k < 0 && errno == EINTR) {
      continue;
    }
    if (k <= 0) {
      ended_by = k == 0 ? "eof"
                 : (errno == EAGAIN || errno == EWOULDBLOCK) ? "timeout"
                 : errno == ECONNRESET                       ? "reset"
                                                             : std::strerror(errno);
      return false;
    }
    got += static_cast<std::size_t>(k);
  }
  return true;
}

std::optional<raw_tls13_peer::record> raw_tls13_peer::read_record() {
  std::array<unsigned char, 5> h{};
  if (!recv_exact(h.data(), h.size())) {
    return std::nullopt;
  }
  const std::size_t len = (std::size_t{h[3]} << 8) | h[4];
  std::vector<unsigned char> body(len);
  if (!recv_exact(body.data(), len)) {
    return std::nullopt;
  }
  record rec;
  rec.outer_type = h[0];
  if (h[0] != application_data || len < tag_size + 1) {
    rec.content.assign(reinterpret_cast<const std::byte*>(body.data()),
                       reinterpret_cast<const std::byte*>(body.data()) + len);
    return rec;
  }
  std::array<unsigned char, 12> nonce = rx_.iv;
  for (int i = 0; i < 8; ++i) {
    nonce[11 - static_cast<std::size_t>(i)] ^= static_cast<unsigned char>(rx_.seq >> (8 * i));
  }
  std::vector<unsigned char> plain(len - tag_size);
  EVP_CIPHER_CTX* c = ::EVP_CIPHER_CTX_new();
  int outl = 0;
  const bool ok =
      ::EVP_DecryptInit_ex(c, cipher_of(cipher_), nullptr, rx_.key.data(), nonce.data()) == 1 &&
      ::EVP_DecryptUpdate(c, nullptr, &outl, h.data(), 5) == 1 &&
      ::EVP_DecryptUpdate(c, plain.data(), &outl, body.data(),
                          static_cast<int>(plain.size())) == 1 &&
      ::EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, static_cast<int>(tag_size),
                            body.data() + plain.size()) == 1 &&
      ::EVP_DecryptFinal_ex(c, plain.data() + plain.size(), &outl) == 1;
  ::EVP_CIPHER_CTX_free(c);
  if (!ok) {
    ended_by = "bad record mac";
    return std::nullopt;
  }
  ++rx_.seq;
  std::size_t k = plain.size();
  while (k > 0 && plain[k - 1] == 0) {
    --k;
  }
  if (k == 0) {
    ended_by = "no content type";
    return std::nullopt;
  }
  rec.opened = true;
  rec.type = plain[k - 1];
  rec.content.assign(reinterpret_cast<const std::byte*>(plain.data()),
                     reinterpret_cast<const std::byte*>(plain.data()) + (k - 1));
  if (rec.type == alert && rec.content.size() == 2) {
    alerts_received.push_back({std::to_integer<std::uint8_t>(rec.content[0]),
                               std::to_integer<std::uint8_t>(rec.content[1])});
  } else if (rec.type == application_data) {
    data_received += rec.content.size();
  } else if (rec.type == handshake) {
    // Whole messages in this record; a KeyUpdate renews the read key after it.
    bool update = false;
    bool requested = false;
    for (std::size_t at = 0; at + 4 <= rec.content.size();) {
      const auto mt = std::to_integer<std::uint8_t>(rec.content[at]);
      const std::size_t ml = (std::to_integer<std::size_t>(rec.content[at + 1]) << 16) |
                             (std::to_integer<std::size_t>(rec.content[at + 2]) << 8) |
                             std::to_integer<std::size_t>(rec.content[at + 3]);
      if (mt == 24 && ml == 1 && at + 5 <= rec.content.size()) {
        update = true;
        requested = rec.content[at + 4] == std::byte{1};
      }
      at += 4 + ml;
    }
    if (update) {
      update_read_key();
      ++key_updates_received;
      if (requested) {
        ++key_update_requests_received;
        if (answer_key_update_requests) {
          (void)send_key_update(false);
        }
      }
    }
  }
  return rec;
}

std::vector<std::byte> raw_tls13_peer::read_data(std::size_t n) {
  std::vector<std::byte> out;
  while (out.size() < n) {
    auto r = read_record();
    if (!r || !r->opened || r->type == alert) {
      break;
    }
    if (r->type == application_data) {
      out.insert(out.end(), r->content.begin(), r->content.end());
    }
  }
  return out;
}

std::optional<std::array<std::uint8_t, 2>> raw_tls13_peer::read_until_alert() {
  // Bounded in count, and each read by the socket timeout.
  for (int i = 0; i < 10'000'000; ++i) {
    auto r = read_record();
    if (!r) {
      return std::nullopt;
    }
    if ((r->type == alert || r->outer_type == alert) && r->content.size() == 2) {
      return std::array<std::uint8_t, 2>{std::to_integer<std::uint8_t>(r->content[0]),
                                         std::to_integer<std::uint8_t>(r->content[1])};
    }
  }
  ended_by = "too many records";
  return std::nullopt;
}

bool raw_tls13_peer::wait_for_close() {
  std::array<unsigned char, 64 * 1024> b{};
  for (int i = 0; i < 1'000'000; ++i) {  // bounded in count, each recv by the socket timeout
    const ssize_t k = ::recv(fd_, b.data(), b.size(), 0);
    if (k < 0 && errno == EINTR) {
      continue;
    }
    if (k == 0 || (k < 0 && errno == ECONNRESET)) {
      return true;
    }
    if (k < 0) {
      return false;
    }
  }
  return false;
}

}  // namespace kiteline::test
