#include "net/listener.hpp"

#include <cerrno>
#include <system_error>

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

namespace kiteline::net {

namespace {

result<tcp::acceptor> open_acceptor(asio::io_context& ctx, const tcp::endpoint& ep,
                                    bool reuse_port) {
  tcp::acceptor acc(ctx);
  std::error_code ec;
  acc.open(ep.protocol(), ec);
  if (ec) {
    return ec;
  }
  acc.set_option(tcp::acceptor::reuse_address(true), ec);
  if (reuse_port) {
    int one = 1;
    ::setsockopt(acc.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  }
  if (ep.address().is_v6() && ep.address().to_v6().is_unspecified()) {
    acc.set_option(asio::ip::v6_only(false), ec);
  }
  acc.bind(ep, ec);
  if (ec) {
    return ec;
  }
  acc.listen(1024, ec);
  if (ec) {
    return ec;
  }
  return acc;
}

}  // namespace

result<tcp::endpoint> bind_endpoint(const std::string& host, std::uint16_t port) {
  if (host.empty()) {
    return tcp::endpoint(asio::ip::address_v6::any(), port);
  }
  std::error_code ec;
  std::string h = host;
  if (h.size() > 2 && h.front() == '[' && h.back() == ']') {
    h = h.substr(1, h.size() - 2);
  }
  auto addr = asio::ip::make_address(h, ec);
  if (ec) {
    return ec;
  }
  return tcp::endpoint(addr, port);
}

result<tcp::acceptor> make_acceptor(asio::io_context& ctx, const tcp::endpoint& ep) {
  return open_acceptor(ctx, ep, true);
}

result<tcp::acceptor> make_exclusive_acceptor(asio::io_context& ctx, const tcp::endpoint& ep) {
  return open_acceptor(ctx, ep, false);
}

result<tcp::acceptor> share_acceptor(asio::io_context& ctx, tcp::acceptor& first) {
  const int fd = ::fcntl(first.native_handle(), F_DUPFD_CLOEXEC, 0);
  if (fd < 0) {
    return std::error_code(errno, std::system_category());
  }
  std::error_code ec;
  const tcp::endpoint local = first.local_endpoint(ec);
  if (ec) {
    ::close(fd);
    return ec;
  }
  tcp::acceptor acc(ctx);
  acc.assign(local.protocol(), fd, ec);
  if (ec) {
    ::close(fd);
    return ec;
  }
  return acc;
}

std::string describe_listen_error(const std::string& where, const std::error_code& error) {
  // Asio's system category does not map its codes to std::errc: compare with both.
  if (error == asio::error::address_in_use || error == std::errc::address_in_use) {
    return "cannot listen on " + where +
           ": port already in use by another process (is another relay running?)";
  }
  return "cannot listen on " + where + ": " + error.message();
}

}  // namespace kiteline::net
