#include "net/listener.hpp"

#include <sys/socket.h>

namespace kiteline::net {

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
  tcp::acceptor acc(ctx);
  std::error_code ec;
  acc.open(ep.protocol(), ec);
  if (ec) {
    return ec;
  }
  acc.set_option(tcp::acceptor::reuse_address(true), ec);
  int one = 1;
  ::setsockopt(acc.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
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

}  // namespace kiteline::net
