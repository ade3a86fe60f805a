#include "tls/transport.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace kiteline::tls {

net::tcp::socket& transport::socket() noexcept {
  if (auto* p = std::get_if<net::prefixed_socket>(&v_)) {
    return p->socket();
  }
  return std::get<1>(v_)->lowest_layer();
}

SSL* transport::ssl() noexcept {
  if (auto* t = std::get_if<1>(&v_)) {
    return (*t)->native_handle();
  }
  return nullptr;
}

net::awaitable<std::tuple<std::error_code, std::size_t>> transport::read_some(std::span<std::byte> buf) {
  auto b = asio::buffer(buf.data(), buf.size());
  if (auto* p = std::get_if<net::prefixed_socket>(&v_)) {
    auto [ec, n] = co_await p->async_read_some(b, net::use_tuple);
    co_return std::tuple{ec, n};
  }
  co_return co_await std::get<1>(v_)->read_some(buf);
}

std::tuple<std::error_code, std::size_t> transport::try_read_plain(
    std::span<std::byte> buf) noexcept {
  auto* p = std::get_if<net::prefixed_socket>(&v_);
  if (p == nullptr || p->prefix_size() != 0 || !p->socket().is_open()) {
    return {asio::error::would_block, 0};
  }
  while (true) {
    const ssize_t n = ::recv(p->socket().native_handle(), buf.data(), buf.size(), MSG_DONTWAIT);
    if (n >= 0) {
      return {std::error_code{}, static_cast<std::size_t>(n)};
    }
    if (errno == EINTR) {
      continue;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      return {asio::error::would_block, 0};
    }
    return {std::error_code(errno, asio::error::get_system_category()), 0};
  }
}

net::awaitable<std::error_code> transport::write(std::span<const asio::const_buffer> bufs) {
  if (auto* p = std::get_if<net::prefixed_socket>(&v_)) {
    auto [ec, n] = co_await asio::async_write(*p, bufs, net::transfer_whole{}, net::use_tuple);
    co_return ec;
  }
  co_return co_await std::get<1>(v_)->write(bufs);
}

net::awaitable<std::error_code> transport::write(asio::const_buffer buf) {
  std::array<asio::const_buffer, 1> one{buf};
  co_return co_await write(std::span<const asio::const_buffer>(one));
}

net::awaitable<std::error_code> transport::shutdown_send() {
  if (auto* t = std::get_if<1>(&v_)) {
    co_return co_await (*t)->shutdown_send();
  }
  std::error_code ec;
  socket().shutdown(net::tcp::socket::shutdown_send, ec);
  co_return ec;
}

net::awaitable<std::error_code> transport::wait_readable() {
  if (auto* t = std::get_if<1>(&v_)) {
    co_return co_await (*t)->wait_readable();
  }
  auto& plain = std::get<0>(v_);
  if (plain.prefix_size() > 0) {
    co_return std::error_code{};
  }
  auto [ec] = co_await plain.socket().async_wait(net::tcp::socket::wait_read, net::use_tuple);
  co_return ec;
}

void transport::release_idle_buffers() noexcept {
  if (v_.index() == 1) {
    std::get<1>(v_)->release_idle_buffers();
  }
}

void transport::release_libssl() noexcept {
  if (v_.index() == 1) {
    std::get<1>(v_)->release_libssl();
  }
}

void transport::close() noexcept {
  std::error_code ec;
  socket().close(ec);
}

transport& transport::operator=(transport&& o) noexcept {
  if (this != &o) {
    if (detached_fd_ >= 0) {
      ::close(detached_fd_);
    }
    v_ = std::move(o.v_);
    detached_fd_ = std::exchange(o.detached_fd_, -1);
    detached_protocol_ = o.detached_protocol_;
  }
  return *this;
}

transport::~transport() {
  if (detached_fd_ >= 0) {
    ::close(detached_fd_);
  }
}

std::error_code transport::detach() noexcept {
  std::error_code ec;
  net::tcp::socket& s = socket();
  const auto endpoint = s.local_endpoint(ec);
  if (!ec) {
    detached_protocol_ = endpoint.protocol();
    detached_fd_ = s.release(ec);
  }
  if (ec) {
    close();
    detached_fd_ = -1;
  }
  return ec;
}

std::error_code transport::attach(const asio::any_io_executor& ex) noexcept {
  std::error_code ec;
  if (detached_fd_ < 0) {
    return asio::error::bad_descriptor;
  }
  net::tcp::socket s(ex);
  s.assign(detached_protocol_, detached_fd_, ec);
  if (ec) {
    ::close(detached_fd_);
    detached_fd_ = -1;
    return ec;
  }
  detached_fd_ = -1;
  s.non_blocking(true, ec);
  if (auto* p = std::get_if<net::prefixed_socket>(&v_)) {
    p->replace_socket(std::move(s));
  } else {
    std::get<1>(v_)->rebind(std::move(s));
  }
  return ec;
}

}  // namespace kiteline::tls
