#include "net/loopback_pair.hpp"

namespace kiteline::net {
namespace {

result<std::pair<tcp::socket, tcp::socket>> pair_on(const asio::ip::address& loopback,
                                                    const asio::any_io_executor& a,
                                                    const asio::any_io_executor& b) {
  std::error_code ec;
  tcp::acceptor acc(b);
  const tcp::endpoint ep(loopback, 0);
  acc.open(ep.protocol(), ec);
  if (!ec) {
    acc.bind(ep, ec);
  }
  if (!ec) {
    acc.listen(8, ec);
  }
  const tcp::endpoint listening = ec ? tcp::endpoint() : acc.local_endpoint(ec);
  tcp::socket first(a);
  if (!ec) {
    first.connect(listening, ec);  // blocking: completes at once against a listening socket
  }
  const tcp::endpoint mine = ec ? tcp::endpoint() : first.local_endpoint(ec);
  if (ec) {
    return ec;
  }
  // Only our own connection is taken; anything else that raced to the port is closed. Bounded:
  // the backlog holds at most 8 strangers before ours, and each turn takes one.
  for (int i = 0; i < 16; ++i) {
    tcp::endpoint peer;
    tcp::socket second(b);
    acc.accept(second, peer, ec);
    if (ec) {
      return ec;
    }
    if (peer == mine) {
      for (tcp::socket* s : {&first, &second}) {
        s->set_option(tcp::no_delay(true), ec);
        s->non_blocking(true, ec);
        if (ec) {
          return ec;
        }
      }
      return std::pair<tcp::socket, tcp::socket>(std::move(first), std::move(second));
    }
  }
  return make_error_code(asio::error::connection_refused);
}

}  // namespace

result<std::pair<tcp::socket, tcp::socket>> make_loopback_pair(const asio::any_io_executor& a,
                                                               const asio::any_io_executor& b) {
  auto v4 = pair_on(asio::ip::address_v4::loopback(), a, b);
  if (v4) {
    return v4;
  }
  return pair_on(asio::ip::address_v6::loopback(), a, b);
}

}  // namespace kiteline::net
