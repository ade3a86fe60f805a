// Two connected TCP sockets on the loopback interface, for a tunnel between two parts of one
// process (a relay and its in-process connector: docs/operations.md "A relay that also serves
// its own sites"). Real TCP sockets, so every socket option and fd move of the tunnel code works
// on them as on any tunnel.
#pragma once

#include <utility>

#include "core/result.hpp"
#include "net/asio.hpp"

namespace kiteline::net {

/// A connected pair: `first` on executor `a`, `second` on executor `b`. A listener on
/// 127.0.0.1 (or ::1 when IPv4 has no loopback) port 0 lives only while the pair is made; a
/// connection from anyone else that reaches it meanwhile is closed, the accepted socket must be
/// the one this call connected (its address and port are compared). Blocking, but on loopback
/// to a listening socket the connect and the accept complete at once. Both sockets are
/// non-blocking with TCP_NODELAY.
result<std::pair<tcp::socket, tcp::socket>> make_loopback_pair(const asio::any_io_executor& a,
                                                               const asio::any_io_executor& b);

}  // namespace kiteline::net
