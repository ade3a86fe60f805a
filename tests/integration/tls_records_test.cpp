// net::tls_stream's own TLS 1.3 record layer (tls/record_protection.hpp) against libssl itself
// as the peer: the reference every TLS stack built on OpenSSL (pagekite.py's among them) uses.
// The peer runs blocking OpenSSL on its own thread; the stream runs on an io_context here.
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <array>
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
#include "net/tls_stream.hpp"
#include "support/key_material.hpp"
#include "support/test_env.hpp"
#include "tls/client_context.hpp"
#include "tls/policy.hpp"
#include "tls/record_protection.hpp"
#include "tls/server_context.hpp"

namespace kiteline::net {
namespace {

using namespace std::chrono_literals;

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

std::shared_ptr<asio::ssl::context> our_client_ctx(const fe_files& f) {
  tls::client_settings s;
  s.names.push_back({"fe.test", std::nullopt});
  s.ca_file = f.crt;
  std::string error;
  auto ctx = tls::make_client_context(s, error);
  EXPECT_TRUE(ctx) << error;
  return ctx;
}

std::shared_ptr<asio::ssl::context> our_server_ctx(const fe_files& f, tls::protocol_policy p = {}) {
  std::string error;
  auto ctx = tls::make_server_context(f.pem, p, error);
  EXPECT_TRUE(ctx) << error;
  return ctx;
}

/// Reads exactly n bytes from the stream (or what came before an error).
awaitable<std::tuple<std::error_code, std::vector<std::byte>>> read_exact(tls_stream& s,
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
awaitable<std::error_code> write_gathered(tls_stream& s, const std::vector<std::byte>& data) {
  const std::size_t a = data.size() / 3 + 1;
  const std::size_t b = data.size() / 5 + 3;
  std::array<asio::const_buffer, 3> bufs{asio::buffer(data.data(), a),
                                         asio::buffer(data.data() + a, b),
                                         asio::buffer(data.data() + a + b, data.size() - a - b)};
  co_return co_await s.write(bufs);
}

struct loopback {
  asio::io_context io;
  tcp::acceptor acceptor{io, tcp::endpoint(asio::ip::address_v4::loopback(), 0)};
  std::uint16_t port() const { return acceptor.local_endpoint().port(); }
};

/// Accepts one connection, runs the server handshake (its result in `hs_ec`) and then `serve`
/// on the stream; runs the io_context until all is done or test_timeout(), then joins `peer`.
template <class Serve>
void serve_one(loopback& lb, asio::ssl::context& ctx, std::error_code& hs_ec, std::thread& peer,
               Serve serve) {
  asio::co_spawn(
      lb.io,
      [&]() -> awaitable<void> {
        auto [aec, sock] = co_await lb.acceptor.async_accept(use_tuple);
        if (aec) {
          hs_ec = aec;
          co_return;
        }
        tls_stream s(prefixed_socket(std::move(sock), {}), ctx);
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
    tcp::socket s = lb.acceptor.accept();
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
      [&]() -> awaitable<void> {
        tcp::socket sock(lb.io);
        co_await sock.async_connect(lb.acceptor.local_endpoint(), use_tuple);
        tls_stream s(prefixed_socket(std::move(sock), {}), *ctx);
        ::SSL_ctrl(s.native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                   const_cast<char*>("fe.test"));
        s.set_key_update_interval(7);  // a KeyUpdate of its own every 7 records
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

TEST(tls_records, a_server_stream_opens_itself_and_answers_a_key_update_request_through_libssl) {
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
  bool own_writes = true;
  auto ctx = our_server_ctx(f);
  serve_one(lb, *ctx, hs_ec, client, [&](tls_stream& s) -> awaitable<void> {
    own_reads = s.own_reads();
    own_writes = s.own_writes();
    // A small reader buffer: records are opened in place and handed out in pieces.
    std::tie(up_ec, got_up) = co_await read_exact(s, up1.size() + up2.size(), 5000);
    down_ec = co_await write_gathered(s, down);
    (void)co_await s.shutdown_send();
  });

  ASSERT_FALSE(hs_ec) << hs_ec.message();
  EXPECT_TRUE(own_reads);
  EXPECT_FALSE(own_writes);  // a server's writes stay with libssl (its ticket records)
  EXPECT_FALSE(up_ec) << up_ec.message();
  auto up = up1;
  up.insert(up.end(), up2.begin(), up2.end());
  EXPECT_EQ(got_up, up);
  EXPECT_FALSE(down_ec) << down_ec.message();
  EXPECT_EQ(cli_down, down);
  EXPECT_EQ(cli_key_updates, 1);  // libssl answered the request for us
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
  serve_one(lb, *ctx, hs_ec, client, [&](tls_stream& s) -> awaitable<void> {
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
  serve_one(lb, *ctx, hs_ec, client, [&](tls_stream& s) -> awaitable<void> {
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

// ------------------------------------------------------------ record_keys without a network

std::vector<std::byte> secret_bytes(std::size_t n, int seed) {
  std::vector<std::byte> s(n);
  for (std::size_t i = 0; i < n; ++i) {
    s[i] = static_cast<std::byte>((seed * 31 + static_cast<int>(i) * 7) & 0xff);
  }
  return s;
}

std::vector<std::byte> seal_one(tls::record_keys& k, const std::vector<std::byte>& plain,
                                std::uint8_t type) {
  std::vector<std::byte> rec(tls::sealed_record_size(plain.size()));
  EXPECT_TRUE(k.seal_begin(rec.data(), plain.size()));
  EXPECT_TRUE(k.seal_add(plain.data(), plain.size(), rec.data() + tls::record_header_size));
  EXPECT_TRUE(k.seal_finish(type, rec.data() + tls::record_header_size + plain.size()));
  return rec;
}

class record_keys_suites : public ::testing::TestWithParam<int> {
 protected:
  tls::record_suite suite() const {
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
  tls::record_keys tx;
  tls::record_keys rx;
  ASSERT_TRUE(tx.init(s, secret, true));
  ASSERT_TRUE(rx.init(s, secret, false));
  const auto plain = test::pattern(9).bytes(tls::max_record_plaintext);
  for (int i = 0; i < 3; ++i) {
    auto rec = seal_one(tx, plain, tls::content_application_data);
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
  auto rec = seal_one(tx, plain, tls::content_application_data);
  std::vector<std::byte> out(rec.size());
  for (std::size_t at : {std::size_t{100}, rec.size() - 1, std::size_t{2}}) {
    auto bad = rec;
    bad[at] ^= std::byte{1};
    EXPECT_FALSE(rx.open(bad.data(), bad.size(), out.data())) << "flipped byte " << at;
  }
  tls::record_keys late;
  ASSERT_TRUE(late.init(s, secret, false));  // at sequence 0, the record was sealed at 3
  EXPECT_FALSE(late.open(rec.data(), rec.size(), out.data()));
  // In place, at the right sequence number, it opens.
  ASSERT_TRUE(rx.open(rec.data(), rec.size(), rec.data() + 5));

  // After a KeyUpdate on both sides the keys agree again; a side that did not update fails.
  ASSERT_TRUE(tx.update());
  ASSERT_TRUE(rx.update());
  EXPECT_EQ(tx.sequence(), 0u);
  auto after = seal_one(tx, plain, tls::content_application_data);
  tls::record_keys stale;
  ASSERT_TRUE(stale.init(s, secret, false));
  EXPECT_FALSE(stale.open(after.data(), after.size(), out.data()));
  EXPECT_TRUE(rx.open(after.data(), after.size(), out.data()));
}

INSTANTIATE_TEST_SUITE_P(suites, record_keys_suites, ::testing::Values(0, 1, 2));

TEST(tls_records, keylog_lines_give_the_application_traffic_secrets_only) {
  tls::traffic_secrets s;
  const std::string rnd(64, 'a');
  EXPECT_FALSE(tls::take_keylog_line("CLIENT_HANDSHAKE_TRAFFIC_SECRET " + rnd + " 0011", s));
  EXPECT_FALSE(tls::take_keylog_line("CLIENT_RANDOM " + rnd + " 0011", s));
  EXPECT_TRUE(tls::take_keylog_line("CLIENT_TRAFFIC_SECRET_0 " + rnd + " 00ff10Ab", s));
  ASSERT_EQ(s.client_size, 4u);
  EXPECT_EQ(s.client[1], std::byte{0xff});
  EXPECT_EQ(s.client[3], std::byte{0xab});
  EXPECT_TRUE(tls::take_keylog_line("SERVER_TRAFFIC_SECRET_0 " + rnd + " " + std::string(96, '1'),
                                    s));
  EXPECT_EQ(s.server_size, 48u);
  EXPECT_FALSE(tls::take_keylog_line("SERVER_TRAFFIC_SECRET_0 " + rnd + " 0g", s));
  EXPECT_FALSE(tls::take_keylog_line("SERVER_TRAFFIC_SECRET_0 " + rnd + " 123", s));
  EXPECT_FALSE(tls::take_keylog_line("SERVER_TRAFFIC_SECRET_0 " + rnd + " " +
                                         std::string(130, '1'),
                                     s));
  EXPECT_FALSE(tls::take_keylog_line("SERVER_TRAFFIC_SECRET_0 nospace", s));
  s.wipe();
  EXPECT_EQ(s.client_size, 0u);
  EXPECT_EQ(s.client[1], std::byte{0});
}

}  // namespace
}  // namespace kiteline::net
