// kiteline_floor: the cheapest two-hop relay this machine can run, as a yardstick for the
// `kiteline` chain of bench/run.sh (chains `floor-tls`, `floor-ssl` and `floor-plain`).
//
//   visitor -> floor relay -> tunnel -> floor connector -> origin
//
// It does only what any relay with a user-space encrypted tunnel must do per byte, and nothing
// else: read from one socket, seal (or open) the bytes with AES-128-GCM in 16 KiB records, write
// to the other socket. No TLS handshake (a fixed key: this is a measuring stick, not a security
// tool), no multiplexing (one tunnel connection per visitor), no HTTP, no flow control, no event
// loop (two blocking threads per visitor, one per direction). The record layout matches what a
// TLS 1.3 record costs: a header, the ciphertext, a 16-byte tag, a fresh nonce per record.
//
// The sealing side reads straight into the payload slots of its output buffer (readv) and
// encrypts in place, so each byte is copied in by the kernel once, encrypted once and copied out
// by the kernel once; the opening side decrypts in place and writes the plaintext slices with
// one writev. That is the floor for user-space encryption: two socket copies and one AES pass per
// byte per hop.
//
// Mode `ssl` (chain floor-ssl) is a minimal relay whose tunnel is real TLS 1.3 through OpenSSL's
// libssl, as kiteline's is, driven the way an event loop drives it: one thread per visitor
// polls both sockets (the tunnel socket non-blocking); a read of up to 256 KiB from the plain
// side goes to SSL_write, whose records collect in a memory BIO and leave in one send; the
// tunnel side reads ahead into a 256 KiB record buffer straight from the socket, every whole
// record is drained per wake-up and the plaintext leaves in one send. Beyond `tls` it pays
// libssl's copies and bookkeeping (plaintext into the record buffer before sealing, the BIO copy,
// plaintext out after opening) and readiness-driven I/O (a poll per wake-up, reads of what has
// arrived rather than of what a blocking read waits for), plus a handshake per visitor (an
// ephemeral P-256 certificate, not verified: a measuring stick, not a security tool). No
// multiplexing, no HTTP, no flow control.
//
// Usage: kiteline_floor relay|connector tls|plain|ssl TARGET_PORT
//   Listens on 127.0.0.1 (a free port), prints "floor ready port=N", and for every accepted
//   connection connects to 127.0.0.1:TARGET_PORT. The relay's accepted side is the visitor's
//   (plain) and its connected side the tunnel; the connector's accepted side is the tunnel and
//   its connected side the origin. Loopback only.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

namespace {

constexpr std::size_t kRecord = 16384;  // plaintext per record, as TLS
constexpr std::size_t kHeader = 4;      // big-endian plaintext length
constexpr std::size_t kTag = 16;
constexpr std::size_t kSlot = kHeader + kRecord + kTag;
constexpr std::size_t kSlots = 16;      // 256 KiB of payload per socket read

// A fixed key and per-direction nonce prefixes: both ends must agree without a handshake.
constexpr std::array<unsigned char, 16> kKey = {
    0x6b, 0x69, 0x74, 0x65, 0x6c, 0x69, 0x6e, 0x65, 0x2d, 0x66, 0x6c, 0x6f, 0x6f, 0x72, 0x2d, 0x6b};

enum class direction : std::uint32_t { toward_origin = 1, toward_visitor = 2 };

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "kiteline_floor: %s: %s\n", what, std::strerror(errno));
  std::exit(1);
}

bool write_all(int fd, const unsigned char* p, std::size_t n) {
  while (n > 0) {
    const ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {  // a non-blocking socket (ssl)
      pollfd pfd{fd, POLLOUT, 0};
      if (::poll(&pfd, 1, 30000) <= 0) return false;
      continue;
    }
    if (w <= 0) return false;
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

bool writev_all(int fd, iovec* iov, int count) {
  while (count > 0) {
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = static_cast<std::size_t>(count);
    ssize_t w = ::sendmsg(fd, &msg, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    while (count > 0 && static_cast<std::size_t>(w) >= iov->iov_len) {
      w -= static_cast<ssize_t>(iov->iov_len);
      ++iov;
      --count;
    }
    if (count > 0) {
      iov->iov_base = static_cast<unsigned char*>(iov->iov_base) + w;
      iov->iov_len -= static_cast<std::size_t>(w);
    }
  }
  return true;
}

struct cipher_ctx {
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  std::array<unsigned char, 12> nonce{};
  std::uint64_t counter = 0;

  cipher_ctx(direction dir, bool seal) {
    if (ctx == nullptr) die("EVP_CIPHER_CTX_new");
    const auto d = static_cast<std::uint32_t>(dir);
    std::memcpy(nonce.data(), &d, sizeof d);
    const int ok = seal ? EVP_EncryptInit_ex(ctx, EVP_aes_128_gcm(), nullptr, kKey.data(), nullptr)
                        : EVP_DecryptInit_ex(ctx, EVP_aes_128_gcm(), nullptr, kKey.data(), nullptr);
    if (ok != 1) die("EVP init");
  }
  ~cipher_ctx() { EVP_CIPHER_CTX_free(ctx); }
  cipher_ctx(const cipher_ctx&) = delete;
  cipher_ctx& operator=(const cipher_ctx&) = delete;

  const unsigned char* next_nonce() {
    ++counter;
    std::memcpy(nonce.data() + 4, &counter, sizeof counter);
    return nonce.data();
  }
};

// plain socket -> tunnel: readv into the records' payload slots, seal in place, one write.
void seal_loop(int src, int dst, direction dir, bool aead) {
  std::vector<unsigned char> buf(kSlots * kSlot);
  if (!aead) {
    for (;;) {
      const ssize_t n = ::read(src, buf.data(), buf.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0 || !write_all(dst, buf.data(), static_cast<std::size_t>(n))) return;
    }
  }
  cipher_ctx c(dir, true);
  std::array<iovec, kSlots> iov{};
  for (std::size_t i = 0; i < kSlots; ++i) iov[i] = {buf.data() + i * kSlot + kHeader, kRecord};
  for (;;) {
    const ssize_t got = ::readv(src, iov.data(), static_cast<int>(kSlots));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return;
    auto left = static_cast<std::size_t>(got);
    std::size_t out = 0;  // every slot before the last is full, so the records are contiguous
    while (left > 0) {
      const std::size_t k = left < kRecord ? left : kRecord;
      unsigned char* rec = buf.data() + out;
      const auto len = htonl(static_cast<std::uint32_t>(k));
      std::memcpy(rec, &len, kHeader);
      int outl = 0;
      if (EVP_EncryptInit_ex(c.ctx, nullptr, nullptr, nullptr, c.next_nonce()) != 1 ||
          EVP_EncryptUpdate(c.ctx, rec + kHeader, &outl, rec + kHeader, static_cast<int>(k)) != 1 ||
          EVP_EncryptFinal_ex(c.ctx, rec + kHeader + k, &outl) != 1 ||
          EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_GCM_GET_TAG, kTag, rec + kHeader + k) != 1) {
        die("seal");
      }
      out += kHeader + k + kTag;
      left -= k;
    }
    if (!write_all(dst, buf.data(), out)) return;
  }
}

// tunnel -> plain socket: read records, open them in place, one writev of the plaintexts.
void open_loop(int src, int dst, direction dir, bool aead) {
  std::vector<unsigned char> buf((kSlots + 1) * kSlot);
  if (!aead) {
    for (;;) {
      const ssize_t n = ::read(src, buf.data(), buf.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0 || !write_all(dst, buf.data(), static_cast<std::size_t>(n))) return;
    }
  }
  cipher_ctx c(dir, false);
  std::array<iovec, kSlots + 1> iov{};
  std::size_t have = 0;
  for (;;) {
    const ssize_t got = ::read(src, buf.data() + have, buf.size() - have);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return;
    have += static_cast<std::size_t>(got);
    std::size_t off = 0;
    int count = 0;
    while (have - off >= kHeader && count < static_cast<int>(iov.size())) {
      std::uint32_t len = 0;
      std::memcpy(&len, buf.data() + off, kHeader);
      const std::size_t k = ntohl(len);
      if (k == 0 || k > kRecord) {
        std::fprintf(stderr, "kiteline_floor: bad record length %zu\n", k);
        return;
      }
      if (have - off < kHeader + k + kTag) break;
      unsigned char* rec = buf.data() + off;
      int outl = 0;
      if (EVP_DecryptInit_ex(c.ctx, nullptr, nullptr, nullptr, c.next_nonce()) != 1 ||
          EVP_DecryptUpdate(c.ctx, rec + kHeader, &outl, rec + kHeader, static_cast<int>(k)) != 1 ||
          EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_GCM_SET_TAG, kTag, rec + kHeader + k) != 1 ||
          EVP_DecryptFinal_ex(c.ctx, rec + kHeader + k, &outl) != 1) {
        std::fprintf(stderr, "kiteline_floor: record failed authentication\n");
        return;
      }
      iov[static_cast<std::size_t>(count++)] = {rec + kHeader, k};
      off += kHeader + k + kTag;
    }
    if (count > 0 && !writev_all(dst, iov.data(), count)) return;
    std::memmove(buf.data(), buf.data() + off, have - off);
    have -= off;
  }
}

// ---- mode ssl: libssl, one polling thread per visitor ----

constexpr std::size_t kSslChunk = 256 * 1024;

SSL_CTX* make_ssl_ctx(bool server) {
  SSL_CTX* ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
  if (ctx == nullptr) die("SSL_CTX_new");
  SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
  // The suite kiteline negotiates (src/tls/policy.hpp): AES-128-GCM first.
  SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384");
  SSL_CTX_set_read_ahead(ctx, 1);
  SSL_CTX_set_default_read_buffer_len(ctx, kSslChunk);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  if (!server) return ctx;
  SSL_CTX_set_num_tickets(ctx, 0);
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* cert = X509_new();
  if (key == nullptr || cert == nullptr) die("ephemeral key");
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert), 86400);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("floor.test"), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  if (X509_sign(cert, key, EVP_sha256()) == 0 || SSL_CTX_use_certificate(ctx, cert) != 1 ||
      SSL_CTX_use_PrivateKey(ctx, key) != 1) {
    die("ephemeral certificate");
  }
  X509_free(cert);
  EVP_PKEY_free(key);
  return ctx;
}

struct ssl_pair {
  int plain = -1;
  int tunnel = -1;
  bool server = false;
  SSL_CTX* ctx = nullptr;
};

void ssl_relay(ssl_pair& p) {
  SSL* ssl = SSL_new(p.ctx);
  if (ssl == nullptr) return;
  // Records collect in a memory BIO and leave in one send per socket read; reads go straight
  // from the socket into libssl's (read-ahead) record buffer.
  BIO* rbio = BIO_new_socket(p.tunnel, BIO_NOCLOSE);
  BIO* wbio = BIO_new(BIO_s_mem());
  SSL_set_bio(ssl, rbio, wbio);
  const auto flush = [&] {  // one send of every record libssl produced
    char* data = nullptr;
    const long n = BIO_get_mem_data(wbio, &data);
    const bool ok = n <= 0 || write_all(p.tunnel, reinterpret_cast<unsigned char*>(data),
                                        static_cast<std::size_t>(n));
    (void)BIO_reset(wbio);
    return ok;
  };
  // The tunnel socket is non-blocking: libssl hands back control when it needs more bytes, so
  // each handshake flight is sent before the answer is awaited, and SSL_read can be repeated
  // until the socket is drained (one SSL_read returns one record).
  ::fcntl(p.tunnel, F_SETFL, ::fcntl(p.tunnel, F_GETFL) | O_NONBLOCK);
  for (int round = 0;; ++round) {
    const int r = p.server ? SSL_accept(ssl) : SSL_connect(ssl);
    if (!flush() || round == 64 || (r != 1 && SSL_get_error(ssl, r) != SSL_ERROR_WANT_READ)) {
      std::fprintf(stderr, "kiteline_floor: TLS handshake failed\n");
      SSL_free(ssl);
      return;
    }
    if (r == 1) break;
    pollfd pfd{p.tunnel, POLLIN, 0};
    (void)::poll(&pfd, 1, 10000);
  }
  std::vector<unsigned char> buf(kSslChunk);
  bool plain_open = true, tunnel_open = true, failed = false;
  // Drains every whole record libssl can read now (one SSL_read returns one record). True if
  // the buffer filled first, so records may be waiting in libssl's read-ahead buffer.
  const auto tunnel_to_plain = [&] {
    std::size_t got = 0;
    bool end = false;
    while (got < buf.size()) {
      std::size_t n = 0;
      if (SSL_read_ex(ssl, buf.data() + got, buf.size() - got, &n) == 1) {
        got += n;
        continue;
      }
      end = SSL_get_error(ssl, 0) != SSL_ERROR_WANT_READ;  // close_notify, EOF or error
      break;
    }
    if (got > 0) failed = !write_all(p.plain, buf.data(), got);
    if (end) {
      tunnel_open = false;
      ::shutdown(p.plain, SHUT_WR);
    }
    return got == buf.size() && !end;
  };
  const auto plain_to_tunnel = [&] {
    const ssize_t n = ::read(p.plain, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) return;
    if (n <= 0) {
      plain_open = false;
      SSL_shutdown(ssl);
      failed = !flush();
      ::shutdown(p.tunnel, SHUT_WR);
      return;
    }
    std::size_t done = 0;
    while (done < static_cast<std::size_t>(n) && !failed) {
      std::size_t w = 0;
      failed = SSL_write_ex(ssl, buf.data() + done, static_cast<std::size_t>(n) - done, &w) != 1;
      done += w;
    }
    failed = failed || !flush();
  };
  // Read-ahead may already hold records that came with the handshake's last flight (a
  // visitor's request right behind the client's Finished): the socket would not show them.
  bool records_waiting = true;
  while ((plain_open || tunnel_open) && !failed) {
    if (records_waiting) {
      records_waiting = tunnel_to_plain();
      continue;
    }
    pollfd fds[2] = {{plain_open ? p.plain : -1, POLLIN, 0}, {tunnel_open ? p.tunnel : -1, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      failed = errno != EINTR;
      continue;
    }
    if (fds[1].revents != 0) records_waiting = tunnel_to_plain();
    if (fds[0].revents != 0 && !failed) plain_to_tunnel();
  }
  SSL_free(ssl);
}

void* ssl_thread(void* arg) {
  std::unique_ptr<ssl_pair> p(static_cast<ssl_pair*>(arg));
  ssl_relay(*p);
  ::close(p->plain);
  ::close(p->tunnel);
  return nullptr;
}

struct pair_state {
  int plain = -1;
  int tunnel = -1;
  bool relay = false;
  bool aead = false;
  std::atomic<int> running{2};
};

void finish(pair_state* s, int dst) {
  ::shutdown(dst, SHUT_WR);
  if (s->running.fetch_sub(1) == 1) {
    ::close(s->plain);
    ::close(s->tunnel);
    delete s;
  }
}

void* seal_thread(void* arg) {
  auto* s = static_cast<pair_state*>(arg);
  seal_loop(s->plain, s->tunnel, s->relay ? direction::toward_origin : direction::toward_visitor,
            s->aead);
  finish(s, s->tunnel);
  return nullptr;
}

void* open_thread(void* arg) {
  auto* s = static_cast<pair_state*>(arg);
  open_loop(s->tunnel, s->plain, s->relay ? direction::toward_visitor : direction::toward_origin,
            s->aead);
  finish(s, s->plain);
  return nullptr;
}

int listen_loopback(std::uint16_t& port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket");
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) die("bind 127.0.0.1:0");
  if (::listen(fd, 4096) != 0) die("listen");
  socklen_t len = sizeof a;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) die("getsockname");
  port = ntohs(a.sin_port);
  return fd;
}

int connect_loopback(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string_view role = argc == 4 ? argv[1] : "", mode = argc == 4 ? argv[2] : "";
  const long target = argc == 4 ? std::strtol(argv[3], nullptr, 10) : 0;
  if ((role != "relay" && role != "connector") ||
      (mode != "tls" && mode != "plain" && mode != "ssl") || target <= 0 || target > 65535) {
    std::fprintf(stderr, "usage: kiteline_floor relay|connector tls|plain|ssl TARGET_PORT\n");
    return 2;
  }
  const bool relay = role == "relay";
  // The relay is the TLS client (it dials the tunnel), the connector the server.
  SSL_CTX* ssl_ctx = mode == "ssl" ? make_ssl_ctx(!relay) : nullptr;
  std::uint16_t port = 0;
  const int lfd = listen_loopback(port);
  std::printf("floor ready port=%u role=%s mode=%s\n", port, argv[1], argv[2]);
  std::fflush(stdout);

  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&attr, 256 * 1024);
  for (;;) {
    const int a = ::accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC);
    if (a < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      die("accept");
    }
    const int c = connect_loopback(static_cast<std::uint16_t>(target));
    if (c < 0) {
      ::close(a);
      continue;
    }
    const int one = 1;
    ::setsockopt(a, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ::setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (ssl_ctx != nullptr) {
      auto* p = new ssl_pair{relay ? a : c, relay ? c : a, !relay, ssl_ctx};
      pthread_t t{};
      if (pthread_create(&t, &attr, ssl_thread, p) != 0) die("pthread_create");
      continue;
    }
    auto* s = new pair_state;
    s->plain = relay ? a : c;
    s->tunnel = relay ? c : a;
    s->relay = relay;
    s->aead = mode == "tls";
    pthread_t t1{}, t2{};
    if (pthread_create(&t1, &attr, seal_thread, s) != 0) die("pthread_create");
    if (pthread_create(&t2, &attr, open_thread, s) != 0) die("pthread_create");
  }
}
