// Listening sockets: one exclusive socket per address and port, shared by every worker through
// dup()ed descriptors (no other process can join it), plus the older SO_REUSEPORT acceptor.
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
/// port to the other workers' acceptors. Any other socket of the same user that sets
/// SO_REUSEPORT can join the port, so kiteline's own listeners use make_exclusive_acceptor.
result<tcp::acceptor> make_acceptor(asio::io_context& ctx, const tcp::endpoint& ep);

/// As make_acceptor, without SO_REUSEPORT: the bind fails with address_in_use when any other
/// socket holds the port (a second relay, another server), whatever options it set, and no
/// later socket can join this one. SO_REUSEADDR is kept (restarts do not wait for TIME_WAIT).
result<tcp::acceptor> make_exclusive_acceptor(asio::io_context& ctx, const tcp::endpoint& ep);

/// Another worker's handle on the listening socket of `first`: a dup() of its descriptor
/// registered with `ctx`. All handles share one accept queue (each connection is accepted by
/// exactly one worker); the socket stops listening when the last handle is closed. Call before
/// the workers run (`first` is only read).
result<tcp::acceptor> share_acceptor(asio::io_context& ctx, tcp::acceptor& first);

/// `error` as the operator should read it for a listener on `where` ("HOST:PORT"):
/// address_in_use names the port and the likely cause, others give the system's text.
std::string describe_listen_error(const std::string& where, const std::error_code& error);

}  // namespace kiteline::net
