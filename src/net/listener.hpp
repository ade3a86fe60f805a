// Listening sockets: SO_REUSEPORT acceptors, one per worker, all on the same address and port.
#pragma once

#include <cstdint>
#include <string>

#include "core/result.hpp"
#include "net/asio.hpp"

namespace kiteline::net {

/// Resolves a bind host ("" = all addresses, dual-stack) and port into an endpoint.
/// IPv4 literals give an IPv4 socket; anything else an IPv6 socket with V6ONLY off (spec §6.1).
result<tcp::endpoint> bind_endpoint(const std::string& host, std::uint16_t port);

/// Opens, configures (SO_REUSEADDR, SO_REUSEPORT, V6ONLY off for "::") and binds an acceptor
/// on `ctx`, listening with a large backlog. Port 0 picks an ephemeral port; pass the chosen
/// port to the other workers' acceptors.
result<tcp::acceptor> make_acceptor(asio::io_context& ctx, const tcp::endpoint& ep);

}  // namespace kiteline::net
