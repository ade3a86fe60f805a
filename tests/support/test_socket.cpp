#include "support/test_socket.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>

namespace kiteline::test {

namespace {

int remaining_ms(clock::time_point deadline) {
  auto left = std::chrono::duration_cast<milliseconds>(deadline - clock::now()).count();
  return left <= 0 ? 0 : static_cast<int>(std::min<long long>(left, 1000000));
}

/// Waits for `events` on fd until deadline; true when ready.
bool wait_fd(int fd, short events, clock::time_point deadline) {
  while (true) {
    pollfd p{fd, events, 0};
    int r = ::poll(&p, 1, remaining_ms(deadline));
    if (r > 0) {
      return true;
    }
    if (r == 0 || (r < 0 && errno != EINTR)) {
      return false;
    }
  }
}

}  // namespace

test_socket::~test_socket() { close(); }

test_socket::test_socket(test_socket&& o) noexcept
    : fd_(o.fd_), ctx_(o.ctx_), ssl_(o.ssl_), pending_(std::move(o.pending_)) {
  o.fd_ = -1;
  o.ctx_ = nullptr;
  o.ssl_ = nullptr;
}

test_socket& test_socket::operator=(test_socket&& o) noexcept {
  if (this != &o) {
    close();
    fd_ = o.fd_;
    ctx_ = o.ctx_;
    ssl_ = o.ssl_;
    pending_ = std::move(o.pending_);
    o.fd_ = -1;
    o.ctx_ = nullptr;
    o.ssl_ = nullptr;
  }
  return *this;
}

bool test_socket::connect(std::uint16_t port, const std::string& host, int receive_buffer) {
  close();
  sockaddr_storage ss{};
  socklen_t len = 0;
  int family = AF_INET;
  if (host == "::1") {
    auto* a6 = reinterpret_cast<sockaddr_in6*>(&ss);
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons(port);
    a6->sin6_addr = in6addr_loopback;
    len = sizeof(sockaddr_in6);
    family = AF_INET6;
  } else if (host == "127.0.0.1") {
    auto* a4 = reinterpret_cast<sockaddr_in*>(&ss);
    a4->sin_family = AF_INET;
    a4->sin_port = htons(port);
    a4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    len = sizeof(sockaddr_in);
  } else {
    return false;  // loopback only (project rule)
  }
  fd_ = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd_ < 0) {
    return false;
  }
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (receive_buffer > 0 &&
      ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer) != 0) {
    close();
    return false;
  }
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    if (errno != EINPROGRESS) {
      close();
      return false;
    }
    if (!wait_fd(fd_, POLLOUT, clock::now() + test_timeout())) {
      close();
      return false;
    }
    int err = 0;
    socklen_t el = sizeof err;
    ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &el);
    if (err != 0) {
      close();
      return false;
    }
  }
  return true;
}

bool test_socket::start_tls(const std::string& sni, const std::string& ca_file,
                            std::string& error, const std::string& verify_name) {
  // OpenSSL writes with write(2), not send(MSG_NOSIGNAL): a peer that hung up must give an
  // error value, not kill the test process.
  std::signal(SIGPIPE, SIG_IGN);
  ctx_ = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_options(ctx_, SSL_OP_IGNORE_UNEXPECTED_EOF);  // the relay half-closes with a FIN
  if (!ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(ctx_, ca_file.c_str(), nullptr) != 1) {
      error = "cannot load CA file " + ca_file;
      return false;
    }
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
  }
  ssl_ = SSL_new(ctx_);
  SSL_set_fd(ssl_, fd_);
  if (!sni.empty()) {
    SSL_ctrl(ssl_, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
             const_cast<char*>(sni.c_str()));
  }
  const std::string name = verify_name.empty() ? sni : verify_name;
  if (!ca_file.empty() && !name.empty()) {
    SSL_set1_host(ssl_, name.c_str());
  }
  const auto deadline = clock::now() + test_timeout();
  while (true) {
    ERR_clear_error();
    int r = SSL_connect(ssl_);
    if (r == 1) {
      return true;
    }
    int e = SSL_get_error(ssl_, r);
    if (e == SSL_ERROR_WANT_READ && wait_fd(fd_, POLLIN, deadline)) {
      continue;
    }
    if (e == SSL_ERROR_WANT_WRITE && wait_fd(fd_, POLLOUT, deadline)) {
      continue;
    }
    char buf[256];
    ERR_error_string_n(ERR_get_error(), buf, sizeof buf);
    error = std::string("TLS handshake failed: ") + buf + " verify=" +
            X509_verify_cert_error_string(SSL_get_verify_result(ssl_));
    return false;
  }
}

bool test_socket::send_all(std::span<const std::byte> data, milliseconds timeout) {
  const auto deadline = clock::now() + timeout;
  while (!data.empty() && fd_ >= 0) {
    if (ssl_ != nullptr) {
      int e = 0;
      {
        std::lock_guard lock(ssl_mu_);
        ERR_clear_error();
        int r = SSL_write(ssl_, data.data(), static_cast<int>(std::min<std::size_t>(data.size(), 1 << 20)));
        if (r > 0) {
          data = data.subspan(static_cast<std::size_t>(r));
          continue;
        }
        e = SSL_get_error(ssl_, r);
      }
      short ev = e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
      if ((e != SSL_ERROR_WANT_WRITE && e != SSL_ERROR_WANT_READ) || !wait_fd(fd_, ev, deadline)) {
        return false;
      }
      continue;
    }
    ssize_t r = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (r > 0) {
      data = data.subspan(static_cast<std::size_t>(r));
      continue;
    }
    if (r < 0 && errno == EINTR) {
      continue;
    }
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && wait_fd(fd_, POLLOUT, deadline)) {
      continue;
    }
    return false;
  }
  return data.empty();
}

void test_socket::shutdown_write() {
  if (fd_ < 0) {
    return;
  }
  if (ssl_ != nullptr) {
    std::lock_guard lock(ssl_mu_);
    SSL_shutdown(ssl_);
  }
  ::shutdown(fd_, SHUT_WR);
}

void test_socket::close(bool reset) {
  if (ssl_ != nullptr) {
    SSL_free(ssl_);
    ssl_ = nullptr;
  }
  if (ctx_ != nullptr) {
    SSL_CTX_free(ctx_);
    ctx_ = nullptr;
  }
  if (fd_ >= 0) {
    if (reset) {
      linger l{1, 0};
      ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    }
    ::close(fd_);
    fd_ = -1;
  }
  pending_.clear();
}

read_status test_socket::read_raw(std::span<std::byte> out, std::size_t& n, milliseconds timeout) {
  n = 0;
  const auto deadline = clock::now() + timeout;
  while (fd_ >= 0) {
    if (ssl_ != nullptr) {
      int e = 0;
      {
        std::lock_guard lock(ssl_mu_);
        ERR_clear_error();
        int r = SSL_read(ssl_, out.data(), static_cast<int>(std::min<std::size_t>(out.size(), 1 << 20)));
        if (r > 0) {
          n = static_cast<std::size_t>(r);
          return read_status::data;
        }
        e = SSL_get_error(ssl_, r);
      }
      if (e == SSL_ERROR_ZERO_RETURN) {
        return read_status::eof;
      }
      if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
        return read_status::eof;  // TCP FIN without close_notify
      }
      if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        if (!wait_fd(fd_, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline)) {
          return read_status::timeout;
        }
        continue;
      }
      return read_status::error;
    }
    ssize_t r = ::recv(fd_, out.data(), out.size(), 0);
    if (r > 0) {
      n = static_cast<std::size_t>(r);
      return read_status::data;
    }
    if (r == 0) {
      return read_status::eof;
    }
    if (errno == EINTR) {
      continue;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      if (!wait_fd(fd_, POLLIN, deadline)) {
        return read_status::timeout;
      }
      continue;
    }
    if (errno == ECONNRESET) {
      was_reset_ = true;
      return read_status::eof;
    }
    return read_status::error;
  }
  return read_status::error;
}

read_status test_socket::read_some(std::span<std::byte> out, std::size_t& n, milliseconds timeout) {
  if (!pending_.empty()) {
    n = std::min(out.size(), pending_.size());
    std::copy_n(pending_.begin(), n, out.begin());
    pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(n));
    return read_status::data;
  }
  return read_raw(out, n, timeout);
}

std::vector<std::byte> test_socket::read_to_eof(read_status& st, milliseconds timeout,
                                                std::size_t max) {
  std::vector<std::byte> all;
  std::vector<std::byte> buf(64 * 1024);
  const auto deadline = clock::now() + timeout;
  while (all.size() < max) {
    std::size_t n = 0;
    st = read_some(std::span<std::byte>(buf.data(), std::min(buf.size(), max - all.size())), n,
                   std::chrono::duration_cast<milliseconds>(deadline - clock::now()));
    if (st != read_status::data) {
      return all;
    }
    all.insert(all.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
  }
  st = read_status::data;
  return all;
}

std::vector<std::byte> test_socket::read_exact(std::size_t want, milliseconds timeout) {
  std::vector<std::byte> all;
  all.reserve(std::min<std::size_t>(want, 1 << 26));
  std::vector<std::byte> buf(64 * 1024);
  const auto deadline = clock::now() + timeout;
  while (all.size() < want) {
    std::size_t n = 0;
    auto st = read_some(std::span<std::byte>(buf.data(), std::min(buf.size(), want - all.size())),
                        n, std::chrono::duration_cast<milliseconds>(deadline - clock::now()));
    if (st != read_status::data) {
      break;
    }
    all.insert(all.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
  }
  return all;
}

std::string test_socket::read_head(milliseconds timeout, std::size_t max) {
  std::vector<std::byte> got = std::move(pending_);
  pending_.clear();
  std::vector<std::byte> buf(16 * 1024);
  const auto deadline = clock::now() + timeout;
  while (true) {
    auto text = as_text(got);
    auto end = text.find("\r\n\r\n");
    if (end != std::string_view::npos) {
      std::string head(text.substr(0, end + 4));
      pending_.assign(got.begin() + static_cast<std::ptrdiff_t>(end + 4), got.end());
      return head;
    }
    if (got.size() >= max) {
      pending_ = std::move(got);
      return {};
    }
    std::size_t n = 0;
    auto st = read_raw(buf, n, std::chrono::duration_cast<milliseconds>(deadline - clock::now()));
    if (st != read_status::data) {
      pending_ = std::move(got);
      return {};
    }
    got.insert(got.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
  }
}

bool test_socket::wait_closed(milliseconds timeout) {
  std::vector<std::byte> buf(64 * 1024);
  const auto deadline = clock::now() + timeout;
  pending_.clear();
  while (true) {
    std::size_t n = 0;
    auto st = read_raw(buf, n, std::chrono::duration_cast<milliseconds>(deadline - clock::now()));
    if (st == read_status::eof || st == read_status::error) {
      return true;
    }
    if (st == read_status::timeout) {
      return false;
    }
  }
}

std::vector<std::byte> make_client_hello(const std::string& sni) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL* ssl = SSL_new(ctx);
  BIO* rbio = BIO_new(BIO_s_mem());
  BIO* wbio = BIO_new(BIO_s_mem());
  SSL_set_bio(ssl, rbio, wbio);
  if (!sni.empty()) {
    SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
             const_cast<char*>(sni.c_str()));
  }
  (void)SSL_connect(ssl);  // WANT_READ: the ClientHello is in wbio
  std::vector<std::byte> out;
  char buf[4096];
  int n = 0;
  while ((n = BIO_read(wbio, buf, sizeof buf)) > 0) {
    auto* p = reinterpret_cast<const std::byte*>(buf);
    out.insert(out.end(), p, p + n);
  }
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  return out;
}

}  // namespace kiteline::test
