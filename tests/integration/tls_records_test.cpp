// tls::tls_stream's own TLS 1.3 record layer (tls/record_protection.hpp) against libssl itself
// as the peer: the reference every TLS stack built on OpenSSL (pagekite.py's among them) uses.
// The peer runs blocking OpenSSL on its own thread; the stream runs on an io_context here.
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "net/asio.hpp"
#include "tls/tls_stream.hpp"
#include "support/key_material.hpp"
#include "support/raw_tls13_peer.hpp"
#include "support/test_env.hpp"
#include "tls/client_context.hpp"
#include "tls/policy.hpp"
#include "tls/record_protection.hpp"
#include "tls/server_context.hpp"

namespace kiteline::tls {
namespace {

using namespace std::chrono_literals;
using namespace asio::experimental::awaitable_operators;
using raw_peer = test::raw_tls13_peer;

/// fe.test's certificate and key in a temp dir: fe.pem (both), fe.crt (the certificate).
struct fe_files {
  test::temp_dir dir;
  std::string pem = dir.file("fe.pem");
  std::string crt = dir.file("fe.crt");
  fe_files() {
    const test::test_key key("p256");
    const std::string cert = test::cert_pem(key, 7, -1h, 1h);
    test::write_file_atomically(pem, cert + test::key_pem(key));
    test::write_file_atomically(crt, cert);
  }
};

/// Counts the KeyUpdate messages an SSL received (msg callback; the counter is the callback arg).
void count_key_updates(int write_p, int /*version*/, int content_type, const void* buf,
                       std::size_t len, SSL* /*ssl*/, void* arg) {
  if (write_p == 0 && content_type == SSL3_RT_HANDSHAKE && len > 0 &&
      static_cast<const unsigned char*>(buf)[0] == SSL3_MT_KEY_UPDATE) {
    ++*static_cast<int*>(arg);
  }
}

/// A blocking libssl endpoint over a loopback socket, bounded by socket timeouts.
class libssl_peer {
 public:
  libssl_peer(SSL_CTX* ctx, int fd) : ctx_(ctx), fd_(fd), ssl_(::SSL_new(ctx)) {
    const auto t = std::chrono::duration_cast<std::chrono::seconds>(test::test_timeout());
    timeval tv{static_cast<time_t>(t.count()), 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    ::SSL_set_fd(ssl_, fd_);
    ::SSL_set_msg_callback(ssl_, &count_key_updates);
    ::SSL_set_msg_callback_arg(ssl_, &key_updates_received);
  }
  ~libssl_peer() {
    ::SSL_free(ssl_);
    ::SSL_CTX_free(ctx_);
    ::close(fd_);
  }
  libssl_peer(const libssl_peer&) = delete;
  libssl_peer& operator=(const libssl_peer&) = delete;

  SSL* ssl() { return ssl_; }
  bool write_all(const std::vector<std::byte>& data) {
    std::size_t off = 0;
    while (off < data.size()) {
      std::size_t n = 0;
      if (::SSL_write_ex(ssl_, data.data() + off, std::min<std::size_t>(data.size() - off, 100000),
                         &n) != 1) {
        return false;
      }
      off += n;
    }
    return true;
  }
  std::vector<std::byte> read_exact(std::size_t n) {
    std::vector<std::byte> out(n);
    std::size_t off = 0;
    while (off < n) {
      std::size_t got = 0;
      if (::SSL_read_ex(ssl_, out.data() + off, n - off, &got) != 1) {
        out.resize(off);
        return out;
      }
      off += got;
    }
    return out;
  }
  /// Reads until the peer's close_notify; true if that is what ended the stream.
  bool read_until_close_notify() {
    std::array<std::byte, 4096> b{};
    for (int i = 0; i < 1000; ++i) {
      std::size_t got = 0;
      const int r = ::SSL_read_ex(ssl_, b.data(), b.size(), &got);
      if (r != 1) {
        return ::SSL_get_error(ssl_, r) == SSL_ERROR_ZERO_RETURN;
      }
    }
    return false;
  }

  int key_updates_received = 0;

 private:
  SSL_CTX* ctx_;
  int fd_;
  SSL* ssl_;
};

SSL_CTX* libssl_server_ctx(const fe_files& f, const char* suites = nullptr) {
  SSL_CTX* c = ::SSL_CTX_new(TLS_server_method());
  if (suites != nullptr) {
    EXPECT_EQ(::SSL_CTX_set_ciphersuites(c, suites), 1);
  }
  EXPECT_EQ(::SSL_CTX_use_certificate_chain_file(c, f.pem.c_str()), 1);
  EXPECT_EQ(::SSL_CTX_use_PrivateKey_file(c, f.pem.c_str(), SSL_FILETYPE_PEM), 1);
  return c;  // OpenSSL's defaults: TLS 1.3, two session tickets after the handshake
}

SSL_CTX* libssl_client_ctx() {
  SSL_CTX* c = ::SSL_CTX_new(TLS_client_method());
  ::SSL_CTX_set_verify(c, SSL_VERIFY_NONE, nullptr);
  return c;
}

std::shared_ptr<asio::ssl::context> our_client_ctx(const fe_files& f,
                                                   tls::protocol_policy p = {}) {
  tls::client_settings s;
  s.policy = p;
  s.names.push_back({"fe.test", std::nullopt});
  s.ca_file = f.crt;
  auto ctx = tls::make_client_context(s);
  EXPECT_TRUE(ctx) << (ctx ? "" : ctx.error().message());
  return ctx ? *ctx : nullptr;
}

std::shared_ptr<asio::ssl::context> our_server_ctx(const fe_files& f, tls::protocol_policy p = {}) {
  auto ctx = tls::make_server_context(f.pem, p);
  EXPECT_TRUE(ctx) << (ctx ? "" : ctx.error().message());
  return ctx ? *ctx : nullptr;
}

/// Reads exactly n bytes from the stream (or what came before an error).
net::awaitable<std::tuple<std::error_code, std::vector<std::byte>>> read_exact(tls_stream& s,
                                                                          std::size_t n,
                                                                          std::size_t chunk) {
  std::vector<std::byte> out;
  std::vector<std::byte> buf(chunk);
  while (out.size() < n) {
    auto [ec, got] = co_await s.read_some(
        std::span<std::byte>(buf.data(), std::min(buf.size(), n - out.size())));
    if (ec) {
      co_return std::tuple{ec, out};
    }
    out.insert(out.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(got));
  }
  co_return std::tuple{std::error_code{}, out};
}

/// Sends `data` as three gather buffers of uneven sizes (records span buffer boundaries).
net::awaitable<std::error_code> write_gathered(tls_stream& s, const std::vector<std::byte>& data) {
  const std::size_t a = data.size() / 3 + 1;
  const std::size_t b = data.size() / 5 + 3;
  std::array<asio::const_buffer, 3> bufs{asio::buffer(data.data(), a),
                                         asio::buffer(data.data() + a, b),
                                         asio::buffer(data.data() + a + b, data.size() - a - b)};
  co_return co_await s.write(bufs);
}

struct loopback {
  asio::io_context io;
  net::tcp::acceptor acceptor{io, net::tcp::endpoint(asio::ip::address_v4::loopback(), 0)};
  std::uint16_t port() const { return acceptor.local_endpoint().port(); }
};

/// Accepts one connection, runs the server handshake (its result in `hs_ec`) and then `serve`
/// on the stream; runs the io_context until all is done or test_timeout(), then joins `peer`.
template <class Serve>
void serve_one(loopback& lb, asio::ssl::context& ctx, std::error_code& hs_ec, std::thread& peer,
               Serve serve) {
  asio::co_spawn(
      lb.io,
      [&]() -> net::awaitable<void> {
        auto [aec, sock] = co_await lb.acceptor.async_accept(net::use_tuple);
        if (aec) {
          hs_ec = aec;
          co_return;
        }
        tls_stream s(net::prefixed_socket(std::move(sock), {}), ctx);
        hs_ec = co_await s.handshake(asio::ssl::stream_base::server);
        if (!hs_ec) {
          co_await serve(s);
        }
      },
      asio::detached);
  lb.io.run_for(test::test_timeout());
  peer.join();
}

int blocking_connect(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  return fd;
}

class tls_records_suites : public ::testing::TestWithParam<const char*> {};

TEST_P(tls_records_suites, a_client_stream_seals_and_opens_itself_against_a_libssl_server) {
  const fe_files f;
  loopback lb;
  const auto up1 = test::pattern(1).bytes(1024 * 1024 + 7);
  const auto down = test::pattern(2).bytes(3 * 1024 * 1024 + 11);
  const auto up2 = test::pattern(3).bytes(200 * 1024 + 5);

  std::vector<std::byte> srv_up1;
  std::vector<std::byte> srv_up2;
  bool srv_close_notify = false;
  int srv_key_updates = -1;
  std::thread server([&] {
    net::tcp::socket s = lb.acceptor.accept();
    libssl_peer p(libssl_server_ctx(f, GetParam()), s.release());
    if (::SSL_accept(p.ssl()) != 1) {
      return;
    }
    srv_up1 = p.read_exact(up1.size());
    // Ask the client to renew its key, then send; the client's data after that must come
    // under its new key, announced by its own KeyUpdate.
    ::SSL_key_update(p.ssl(), SSL_KEY_UPDATE_REQUESTED);
    if (!p.write_all(down)) {
      return;
    }
    srv_up2 = p.read_exact(up2.size());
    srv_close_notify = p.read_until_close_notify();
    srv_key_updates = p.key_updates_received;
    ::SSL_shutdown(p.ssl());
  });

  std::error_code hs_ec = asio::error::would_block;
  std::error_code up_ec = asio::error::would_block;
  std::error_code down_ec = asio::error::would_block;
  std::error_code end_ec;
  std::vector<std::byte> got_down;
  bool own_reads = false;
  bool own_writes = false;
  std::string suite;
  auto ctx = our_client_ctx(f);
  asio::co_spawn(
      lb.io,
      [&]() -> net::awaitable<void> {
        net::tcp::socket sock(lb.io);
        co_await sock.async_connect(lb.acceptor.local_endpoint(), net::use_tuple);
        tls_stream s(net::prefixed_socket(std::move(sock), {}), *ctx);
        ::SSL_ctrl(s.native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                   const_cast<char*>("fe.test"));
        s.set_key_update_interval_for_test(7, tls::key_update_records);  // ours every 7 records
        hs_ec = co_await s.handshake(asio::ssl::stream_base::client);
        if (hs_ec) {
          co_return;
        }
        own_reads = s.own_reads();
        own_writes = s.own_writes();
        suite = ::SSL_CIPHER_get_name(::SSL_get_current_cipher(s.native_handle()));
        up_ec = co_await write_gathered(s, up1);
        std::tie(down_ec, got_down) = co_await read_exact(s, down.size(), 100 * 1024);
        (void)co_await write_gathered(s, up2);
        (void)co_await s.shutdown_send();
        std::array<std::byte, 64> b{};
        std::size_t n = 0;
        std::tie(end_ec, n) = co_await s.read_some(b);
      },
      asio::detached);
  lb.io.run_for(test::test_timeout());
  server.join();

  ASSERT_FALSE(hs_ec) << hs_ec.message();
  EXPECT_EQ(suite, GetParam());
  EXPECT_TRUE(own_reads);
  EXPECT_TRUE(own_writes);
  EXPECT_FALSE(up_ec) << up_ec.message();
  EXPECT_FALSE(down_ec) << down_ec.message();
  EXPECT_EQ(srv_up1, up1);
  EXPECT_EQ(got_down, down);  // past two session tickets and the server's KeyUpdate
  EXPECT_EQ(srv_up2, up2);
  EXPECT_TRUE(srv_close_notify);
  EXPECT_EQ(end_ec, asio::error::eof) << end_ec.message();
  // 65 records of up1 renew the key before records 8, 15, ..., 64 (9 KeyUpdates); the answer
  // to the server's request starts a new count; up2's 13 records renew once more: 11.
  EXPECT_EQ(srv_key_updates, 11);
}

INSTANTIATE_TEST_SUITE_P(suites, tls_records_suites,
                         ::testing::Values("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
                                           "TLS_CHACHA20_POLY1305_SHA256"));

TEST(tls_records, a_server_stream_seals_and_opens_itself_after_libssls_session_tickets) {
  const fe_files f;
  loopback lb;
  const auto up1 = test::pattern(4).bytes(700 * 1024 + 1);
  const auto up2 = test::pattern(5).bytes(300 * 1024 + 9);
  const auto down = test::pattern(6).bytes(2 * 1024 * 1024 + 3);

  std::vector<std::byte> cli_down;
  bool cli_close_notify = false;
  int cli_key_updates = -1;
  const std::uint16_t port = lb.port();
  std::thread client([&] {
    libssl_peer p(libssl_client_ctx(), blocking_connect(port));
    if (::SSL_connect(p.ssl()) != 1) {
      return;
    }
    if (!p.write_all(up1)) {
      return;
    }
    ::SSL_key_update(p.ssl(), SSL_KEY_UPDATE_REQUESTED);
    if (!p.write_all(up2)) {
      return;
    }
    cli_down = p.read_exact(down.size());
    cli_close_notify = p.read_until_close_notify();
    cli_key_updates = p.key_updates_received;
  });

  std::error_code hs_ec = asio::error::would_block;
  std::error_code up_ec = asio::error::would_block;
  std::error_code down_ec = asio::error::would_block;
  std::vector<std::byte> got_up;
  bool own_reads = false;
  bool own_writes = false;
  auto ctx = our_server_ctx(f);
  serve_one(lb, *ctx, hs_ec, client, [&](tls_stream& s) -> net::awaitable<void> {
    own_reads = s.own_reads();
    own_writes = s.own_writes();
    // A small reader buffer: records are opened in place and handed out in pieces.
    std::tie(up_ec, got_up) = co_await read_exact(s, up1.size() + up2.size(), 5000);
    down_ec = co_await write_gathered(s, down);
    (void)co_await s.shutdown_send();
  });

  ASSERT_FALSE(hs_ec) << hs_ec.message();
  EXPECT_TRUE(own_reads);
  EXPECT_TRUE(own_writes);  // sealing from the sequence number after libssl's two tickets
  EXPECT_FALSE(up_ec) << up_ec.message();
  auto up = up1;
  up.insert(up.end(), up2.begin(), up2.end());
  EXPECT_EQ(got_up, up);
  EXPECT_FALSE(down_ec) << down_ec.message();
  EXPECT_EQ(cli_down, down);
  EXPECT_EQ(cli_key_updates, 1);  // the answer to the client's request
  EXPECT_TRUE(cli_close_notify);
}

/// Where libssl keeps every record: a TLS 1.2 connection, or --tls_openssl_records.
struct libssl_case {
  int client_max_version;
  bool own_records;
  int expected_version;
};

class tls_records_libssl : public ::testing::TestWithParam<libssl_case> {};

TEST_P(tls_records_libssl, libssl_moves_every_record) {
  const fe_files f;
  loopback lb;
  const auto up = test::pattern(8).bytes(100 * 1024 + 1);
  std::vector<std::byte> got;
  std::error_code hs_ec = asio::error::would_block;
  std::error_code rec = asio::error::would_block;
  bool own_reads = true;
  int version = 0;
  const std::uint16_t port = lb.port();
  std::thread client([&] {
    libssl_peer p(libssl_client_ctx(), blocking_connect(port));
    ::SSL_set_max_proto_version(p.ssl(), GetParam().client_max_version);
    if (::SSL_connect(p.ssl()) == 1) {
      (void)p.write_all(up);
      (void)p.read_until_close_notify();
    }
  });
  tls::protocol_policy policy;
  policy.own_records = GetParam().own_records;
  auto ctx = our_server_ctx(f, policy);
  serve_one(lb, *ctx, hs_ec, client, [&](tls_stream& s) -> net::awaitable<void> {
    own_reads = s.own_reads();
    version = ::SSL_version(s.native_handle());
    std::tie(rec, got) = co_await read_exact(s, up.size(), 64 * 1024);
    (void)co_await s.shutdown_send();
  });
  ASSERT_FALSE(hs_ec) << hs_ec.message();
  EXPECT_EQ(version, GetParam().expected_version);
  EXPECT_FALSE(own_reads);
  EXPECT_FALSE(rec) << rec.message();
  EXPECT_EQ(got, up);
}

INSTANTIATE_TEST_SUITE_P(cases, tls_records_libssl,
                         ::testing::Values(libssl_case{TLS1_2_VERSION, true, TLS1_2_VERSION},
                                           libssl_case{0, false, TLS1_3_VERSION}));

class tls_records_tamper : public ::testing::TestWithParam<bool> {};

// The same error text whether kiteline (true) or libssl (false) opens the records.
TEST_P(tls_records_tamper, a_tampered_record_ends_the_stream_with_libssls_error_text) {
  const fe_files f;
  loopback lb;
  const auto good = test::pattern(10).bytes(3000);
  const std::uint16_t port = lb.port();
  std::thread client([&] {
    const int fd = blocking_connect(port);
    libssl_peer p(libssl_client_ctx(), fd);
    if (::SSL_connect(p.ssl()) != 1 || !p.write_all(good)) {
      return;
    }
    // The next record goes to memory instead; one bit of its ciphertext is flipped on the way.
    BIO* mem = ::BIO_new(BIO_s_mem());
    ::SSL_set0_wbio(p.ssl(), mem);
    const auto bad = test::pattern(11).bytes(100);
    std::size_t n = 0;
    if (::SSL_write_ex(p.ssl(), bad.data(), bad.size(), &n) != 1) {
      return;
    }
    char* data = nullptr;
    const long len = BIO_get_mem_data(mem, &data);
    std::vector<char> rec(data, data + len);
    rec[rec.size() / 2] ^= 1;
    (void)::send(fd, rec.data(), rec.size(), MSG_NOSIGNAL);
    // Drain (session tickets, the alert) until the server closes: closing with unread bytes
    // would reset the connection before the server has read the tampered record.
    std::array<char, 4096> b{};
    for (int i = 0; i < 1000 && ::recv(fd, b.data(), b.size(), 0) > 0; ++i) {
    }
  });
  std::error_code hs_ec = asio::error::would_block;
  std::error_code first_ec = asio::error::would_block;
  std::error_code bad_ec;
  std::vector<std::byte> got;
  tls::protocol_policy policy;
  policy.own_records = GetParam();
  auto ctx = our_server_ctx(f, policy);
  bool own_reads = !GetParam();
  serve_one(lb, *ctx, hs_ec, client, [&](tls_stream& s) -> net::awaitable<void> {
    own_reads = s.own_reads();
    std::tie(first_ec, got) = co_await read_exact(s, good.size(), 64 * 1024);
    std::vector<std::byte> more;
    std::tie(bad_ec, more) = co_await read_exact(s, 100, 64 * 1024);
    EXPECT_TRUE(more.empty());
    s.lowest_layer().close();
  });
  ASSERT_FALSE(hs_ec) << hs_ec.message();
  EXPECT_FALSE(first_ec) << first_ec.message();
  EXPECT_EQ(got, good);
  EXPECT_EQ(bad_ec.category(), asio::error::get_ssl_category());
  EXPECT_EQ(own_reads, GetParam());
  EXPECT_EQ(bad_ec.message(), "decryption failed or bad record mac (SSL routines)");
}

INSTANTIATE_TEST_SUITE_P(readers, tls_records_tamper, ::testing::Values(true, false));

TEST(tls_records, a_server_seals_after_however_many_tickets_libssl_sent) {
  for (const int tickets : {0, 1, 3}) {
    const fe_files f;
    loopback lb;
    const auto down = test::pattern(30).bytes(100 * 1024 + static_cast<std::size_t>(tickets));
    std::vector<std::byte> got;
    const std::uint16_t port = lb.port();
    std::thread client([&] {
      libssl_peer p(libssl_client_ctx(), blocking_connect(port));
      if (::SSL_connect(p.ssl()) == 1) {
        got = p.read_exact(down.size());
        (void)p.read_until_close_notify();
      }
    });
    std::error_code hs_ec = asio::error::would_block;
    bool own_writes = false;
    auto ctx = our_server_ctx(f);
    ::SSL_CTX_set_num_tickets(ctx->native_handle(), static_cast<std::size_t>(tickets));
    serve_one(lb, *ctx, hs_ec, client, [&](tls_stream& s) -> net::awaitable<void> {
      own_writes = s.own_writes();
      (void)co_await write_gathered(s, down);
      (void)co_await s.shutdown_send();
    });
    ASSERT_FALSE(hs_ec) << hs_ec.message();
    EXPECT_TRUE(own_writes);
    EXPECT_EQ(got, down) << tickets << " tickets";
  }
}

// ------------------------------------------------------------ against a raw TLS 1.3 peer

/// kiteline's side (server or client) and who moves its records.
struct hostile_case {
  bool kiteline_server;
  bool own_records;
};

std::string hostile_name(const ::testing::TestParamInfo<hostile_case>& i) {
  return std::string(i.param.kiteline_server ? "server" : "client") +
         (i.param.own_records ? "_own_records" : "_libssl_records");
}

void shrink_socket_buffers(int fd, int bytes) {
  if (bytes > 0) {
    ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes);
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
  }
}

/// Runs kiteline's side `kl` (a coroutine on the stream, on the io_context here) against a raw
/// TLS 1.3 peer driven by `raw` on a thread; both sockets get `buffer`-byte socket buffers.
template <class Kl, class Raw>
void run_hostile(const hostile_case& c, Kl kl, Raw raw, int buffer = 0) {
  const fe_files f;
  loopback lb;
  tls::protocol_policy policy;
  policy.own_records = c.own_records;
  auto ctx = c.kiteline_server ? our_server_ctx(f, policy) : our_client_ctx(f, policy);
  std::error_code hs_ec = asio::error::would_block;
  const std::uint16_t port = lb.port();
  std::thread peer([&] {
    const int fd = c.kiteline_server ? raw_peer::connect_loopback(port)
                                     : lb.acceptor.accept().release();
    shrink_socket_buffers(fd, buffer);
    raw_peer p(fd, c.kiteline_server ? raw_peer::role::client : raw_peer::role::server,
               {.server_name = "fe.test", .pem_file = f.pem, .suites = ""});
    if (!p.ok()) {
      ADD_FAILURE() << p.error();
      return;
    }
    raw(p);
  });
  asio::co_spawn(
      lb.io,
      [&]() -> net::awaitable<void> {
        net::tcp::socket sock(lb.io);
        std::error_code ec;
        if (c.kiteline_server) {
          std::tie(ec, sock) = co_await lb.acceptor.async_accept(net::use_tuple);
        } else {
          std::tie(ec) = co_await sock.async_connect(lb.acceptor.local_endpoint(), net::use_tuple);
        }
        if (ec) {
          hs_ec = ec;
          co_return;
        }
        shrink_socket_buffers(sock.native_handle(), buffer);
        tls_stream s(net::prefixed_socket(std::move(sock), {}), *ctx);
        if (!c.kiteline_server) {
          ::SSL_ctrl(s.native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                     const_cast<char*>("fe.test"));
        }
        hs_ec = co_await s.handshake(c.kiteline_server ? asio::ssl::stream_base::server
                                                       : asio::ssl::stream_base::client);
        if (!hs_ec) {
          EXPECT_EQ(s.own_reads(), c.own_records);
          EXPECT_EQ(s.own_writes(), c.own_records);
          co_await kl(s);
        }
      },
      asio::detached);
  lb.io.run_for(test::test_timeout());
  peer.join();
  ASSERT_FALSE(hs_ec) << hs_ec.message();
}

class tls_records_hostile : public ::testing::TestWithParam<hostile_case> {};

TEST_P(tls_records_hostile, a_key_update_request_flood_while_not_reading_keeps_output_bounded) {
  constexpr int requests = 4000;
  const auto body = test::pattern(20).bytes(4 * 1024 * 1024);
  const auto marker = test::to_bytes("marker");
  // kiteline's side
  std::atomic<bool> stalled{false};  // the peer may read now
  bool marker_read = false;
  std::error_code write_ec = asio::error::would_block;
  std::error_code read_ec;
  std::vector<std::byte> got;
  std::size_t unsent_before = 0;
  std::size_t unsent_peak = 0;
  std::size_t unsent_at_marker = 0;
  tls_stream::counters st;
  // the raw peer's side
  std::vector<std::byte> raw_body;
  std::optional<std::array<std::uint8_t, 2>> raw_end;
  std::uint64_t raw_updates = 0;
  std::uint64_t raw_requests = 0;
  bool flood_sent = false;

  run_hostile(
      GetParam(),
      [&](tls_stream& s) -> net::awaitable<void> {
        auto writer = [&]() -> net::awaitable<void> {
          std::array<asio::const_buffer, 1> b{asio::buffer(body)};
          write_ec = co_await s.write(b);
        };
        auto reader = [&]() -> net::awaitable<void> {
          // Read once the writer's first send is under way: the peer reads nothing yet.
          for (int i = 0; i < 1000 && s.unsent_bytes() == 0; ++i) {
            co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
          }
          unsent_before = s.unsent_bytes();
          std::vector<std::byte> buf(64 * 1024);
          while (got.size() < marker.size()) {
            auto [ec, n] = co_await s.read_some(buf);
            if (ec) {
              read_ec = ec;
              break;
            }
            got.insert(got.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
            unsent_peak = std::max(unsent_peak, s.unsent_bytes());
          }
          unsent_at_marker = s.unsent_bytes();
          st = s.stats();
          marker_read = true;
          stalled = true;
        };
        // Tells the peer when reading stopped for the replies (libssl's path).
        auto watcher = [&]() -> net::awaitable<void> {
          asio::steady_timer t(co_await asio::this_coro::executor);
          for (int i = 0; i < 100000 && !marker_read; ++i) {
            if (s.stats().read_pauses > 0) {
              stalled = true;
              break;
            }
            t.expires_after(2ms);
            (void)co_await t.async_wait(net::use_tuple);
          }
        };
        co_await (writer() && reader() && watcher());
        (void)co_await s.shutdown_send();
      },
      [&](raw_peer& p) {
        std::vector<std::byte> flood;
        for (int i = 0; i < requests; ++i) {
          const auto r = p.seal(raw_peer::handshake, raw_peer::key_update_message(true));
          flood.insert(flood.end(), r.begin(), r.end());
          p.update_write_key();
        }
        const auto m = p.seal(raw_peer::application_data, marker);
        flood.insert(flood.end(), m.begin(), m.end());
        // Sent from a second thread: kiteline may stop reading until this thread reads.
        std::thread sender([&] { flood_sent = p.send_raw(flood); });
        EXPECT_TRUE(test::wait_for([&] { return stalled.load(); }, "kiteline's reader to stall"));
        raw_body = p.read_data(body.size());
        raw_updates = p.key_updates_received;
        raw_requests = p.key_update_requests_received;
        raw_end = p.read_until_alert();
        sender.join();
      },
      16 * 1024);

  EXPECT_TRUE(flood_sent);
  EXPECT_FALSE(read_ec) << read_ec.message();
  EXPECT_EQ(got, marker);
  EXPECT_FALSE(write_ec) << write_ec.message();
  EXPECT_EQ(raw_body, body);
  ASSERT_TRUE(raw_end.has_value());
  EXPECT_EQ((*raw_end)[1], tls::alert_close_notify);
  EXPECT_GT(unsent_before, 0u);
  EXPECT_LE(st.reply_peak, tls_stream::reply_cap + 64);
  if (GetParam().own_records) {
    // Nothing produced by reading: the 4000 requests got one KeyUpdate, sent with the next
    // application data once the peer read again; the writer's bytes were still waiting.
    EXPECT_EQ(st.key_updates_received, static_cast<std::uint64_t>(requests));
    EXPECT_EQ(st.reply_peak, 0u);
    EXPECT_EQ(st.read_pauses, 0u);
    EXPECT_LE(unsent_peak, unsent_before);
    EXPECT_GT(unsent_at_marker, 0u);
    EXPECT_EQ(raw_updates, 1u);
    EXPECT_EQ(raw_requests, 0u);
  } else {
    // libssl answers requests as it reads them (one for those it read in one go); reading
    // paused while the answers could not leave.
    EXPECT_GE(st.read_pauses, 1u);
    EXPECT_LE(unsent_peak, unsent_before + tls_stream::reply_cap + 64);
    EXPECT_GE(raw_updates, 1u);
    EXPECT_LE(raw_updates, static_cast<std::uint64_t>(requests));
  }
}

/// One refusal: the records the raw peer sends (built from a peer in its state), the error text
/// kiteline's reader returns and the alert description the peer then receives.
struct refusal_case {
  const char* name;
  std::vector<std::byte> (*records)(raw_peer& p);
  const char* error;
  std::uint8_t alert;
  std::size_t data_before;  // application data bytes that come before the refusal
};

std::vector<std::byte> concat(std::initializer_list<std::vector<std::byte>> parts) {
  std::vector<std::byte> out;
  for (const auto& p : parts) {
    out.insert(out.end(), p.begin(), p.end());
  }
  return out;
}

std::vector<std::byte> repeat(raw_peer& p, std::uint8_t type, const std::vector<std::byte>& body,
                              int times) {
  std::vector<std::byte> out;
  for (int i = 0; i < times; ++i) {
    const auto r = p.seal(type, body);
    out.insert(out.end(), r.begin(), r.end());
  }
  return out;
}

const std::vector<std::byte> user_canceled{std::byte{1}, std::byte{90}};

const refusal_case refusal_cases[] = {
    {"interleaved handshake fragment",
     [](raw_peer& p) {
       return concat({p.seal(raw_peer::handshake, std::vector<std::byte>{std::byte{24}, std::byte{0}}),
                      p.seal(raw_peer::application_data, test::to_bytes("x"))});
     },
     "mixed handshake and non handshake data (SSL routines)", 10, 0},
    {"33 empty records",
     [](raw_peer& p) {
       return concat({repeat(p, raw_peer::application_data, {}, 32),
                      p.seal(raw_peer::application_data, test::to_bytes("a")),
                      repeat(p, raw_peer::application_data, {}, 33)});
     },
     "record too small (SSL routines)", 10, 1},
    {"5 warning alerts",
     [](raw_peer& p) {
       return concat({repeat(p, raw_peer::alert, user_canceled, 4),
                      p.seal(raw_peer::application_data, test::to_bytes("b")),
                      repeat(p, raw_peer::alert, user_canceled, 5)});
     },
     "too many warn alerts (SSL routines)", 10, 1},
    {"empty handshake record",
     [](raw_peer& p) { return p.seal(raw_peer::handshake, {}); }, "bad length (SSL routines)",
     10, 0},
    {"tampered record",
     [](raw_peer& p) {
       auto r = p.seal(raw_peer::application_data, std::vector<std::byte>(300));
       r[100] ^= std::byte{4};
       return r;
     },
     "decryption failed or bad record mac (SSL routines)", 20, 0},
    {"content over 2^14 bytes",
     [](raw_peer& p) {
       return p.seal(raw_peer::application_data, std::vector<std::byte>(16385));
     },
     "data length too long (SSL routines)", 22, 0},
    {"KeyUpdate of value 2",
     [](raw_peer& p) {
       return p.seal(raw_peer::handshake, std::vector<std::byte>{std::byte{24}, std::byte{0},
                                                                 std::byte{0}, std::byte{1},
                                                                 std::byte{2}});
     },
     "bad key update (SSL routines)", 47, 0},
    {"plaintext alert record",
     [](raw_peer&) {
       return std::vector<std::byte>{std::byte{21}, std::byte{3}, std::byte{3}, std::byte{0},
                                     std::byte{2}, std::byte{1}, std::byte{0}};
     },
     "bad record type (SSL routines)", 10, 0},
};

TEST_P(tls_records_hostile, refusals_send_libssls_alert_then_the_connection_closes) {
  for (const auto& c : refusal_cases) {
    SCOPED_TRACE(c.name);
    std::error_code read_ec;
    std::size_t data = 0;
    std::optional<std::array<std::uint8_t, 2>> alert;
    bool closed = false;
    run_hostile(
        GetParam(),
        [&](tls_stream& s) -> net::awaitable<void> {
          std::vector<std::byte> buf(64 * 1024);
          for (int i = 0; i < 100; ++i) {
            auto [ec, n] = co_await s.read_some(buf);
            data += n;
            if (ec) {
              read_ec = ec;
              break;
            }
          }
          // What the application does on a read error: close.
          s.lowest_layer().close();
        },
        [&](raw_peer& p) {
          EXPECT_TRUE(p.send_raw(c.records(p)));
          alert = p.read_until_alert();
          closed = p.wait_for_close();
        });
    EXPECT_EQ(read_ec.message(), c.error);
    EXPECT_EQ(data, c.data_before);
    ASSERT_TRUE(alert.has_value());
    EXPECT_EQ((*alert)[0], tls::alert_level_fatal);
    EXPECT_EQ((*alert)[1], c.alert);
    EXPECT_TRUE(closed);
  }
}

TEST_P(tls_records_hostile, keys_are_renewed_in_both_directions_every_n_records) {
  constexpr int n = 8;
  constexpr int rounds = 3;
  const auto down = test::pattern(21).bytes(40 * tls::max_record_plaintext);
  const auto up = test::pattern(22).bytes(rounds * n * 100);
  std::vector<std::byte> got_up;
  std::error_code write_ec = asio::error::would_block;
  std::error_code read_ec;
  tls_stream::counters st;
  std::vector<std::byte> raw_down;
  std::uint64_t raw_updates = 0;
  std::uint64_t raw_requests = 0;
  std::optional<std::array<std::uint8_t, 2>> raw_end;
  run_hostile(
      GetParam(),
      [&](tls_stream& s) -> net::awaitable<void> {
        s.set_key_update_interval_for_test(n, n);
        std::array<asio::const_buffer, 1> b{asio::buffer(down)};
        write_ec = co_await s.write(b);
        std::tie(read_ec, got_up) = co_await read_exact(s, up.size(), 64 * 1024);
        st = s.stats();
        (void)co_await s.shutdown_send();
      },
      [&](raw_peer& p) {
        raw_down = p.read_data(down.size());
        raw_updates = p.key_updates_received;  // kiteline's own renewals, every n records
        // The peer's records: kiteline asks for a renewal after n of them, which the peer
        // gives (answering the request) before its next n.
        p.answer_key_update_requests = true;
        for (int r = 0; r < rounds; ++r) {
          for (int i = 0; i < n; ++i) {
            const std::size_t at = static_cast<std::size_t>((r * n + i) * 100);
            ASSERT_TRUE(p.send_record(raw_peer::application_data,
                                      std::span<const std::byte>(up).subspan(at, 100)));
          }
          const std::uint64_t asked = p.key_update_requests_received;
          for (int i = 0; i < 10 && p.key_update_requests_received == asked; ++i) {
            ASSERT_TRUE(p.read_record().has_value()) << p.ended_by;
          }
        }
        raw_requests = p.key_update_requests_received;
        raw_end = p.read_until_alert();
      });
  EXPECT_FALSE(write_ec) << write_ec.message();
  EXPECT_FALSE(read_ec) << read_ec.message();
  EXPECT_EQ(raw_down, down);
  EXPECT_EQ(got_up, up);
  // 40 records, a new key before records 9, 17, 25 and 33 (on libssl's path: per 4-record
  // SSL_write call, the same four). A server's own key also sealed libssl's two session
  // tickets: before records 7, 15, 23, 31 and 39.
  const std::uint64_t renewals = GetParam().kiteline_server && GetParam().own_records ? 5 : 4;
  EXPECT_EQ(raw_updates, renewals);
  EXPECT_EQ(raw_requests, static_cast<std::uint64_t>(rounds));
  EXPECT_EQ(st.key_update_requests, static_cast<std::uint64_t>(rounds));
  EXPECT_EQ(st.key_updates_sent, renewals + rounds);
  if (GetParam().own_records) {
    // The peer's answers to the first two requests (the third comes after the data read).
    EXPECT_EQ(st.key_updates_received, static_cast<std::uint64_t>(rounds - 1));
  }
  ASSERT_TRUE(raw_end.has_value());
  EXPECT_EQ((*raw_end)[1], tls::alert_close_notify);
}

INSTANTIATE_TEST_SUITE_P(cases, tls_records_hostile,
                         ::testing::Values(hostile_case{true, true}, hostile_case{true, false},
                                           hostile_case{false, true},
                                           hostile_case{false, false}),
                         hostile_name);

}  // namespace
}  // namespace kiteline::tls
