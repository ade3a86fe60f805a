// relay/peer_forward and relay/peer_port: forwarding between the relays of a fleet, one hop
// (issue 24). A visitor whose kite this relay does not hold goes to a relay that does (found by
// fleet::holder_lookup): a PROXY v2 header signed with --fleet_secret (fleet/peer_mark), the
// bytes read so far, then both directions spliced. The peer port takes only such headers and
// hands the visitor, with its real address, to the normal routing, marked forwarded (never
// forwarded again: no route gives the usual 503, and no loop).
#pragma once

#include "core/outcome.hpp"
#include "net/asio.hpp"
#include "relay/server.hpp"
#include "tls/transport.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace kiteline::relay {

/// True when a visitor on `t` may be forwarded: the relay has a peer port and a DNS server,
/// the visitor did not come through the peer port, and its bytes are not TLS this relay
/// terminated.
[[nodiscard]] bool may_forward(server::impl& srv, const tls::transport& t, bool forwarded);

/// Forwards the visitor on `t` (kite `kite`, `replay` = every byte read from it so far) to a
/// holder of the kite and splices until both sides are done. False (nothing sent to the
/// visitor, `t` untouched) when no holder is known or none could be reached: the caller
/// answers as for a missing tunnel. A forwarded visitor gets one access-log line here too
/// (`proto`, since `started`, bytes both ways, note "forwarded to HOLDER").
net::awaitable<bool> forward_to_peer(server::impl& srv, tls::transport& t, std::string kite,
                                     std::span<const std::byte> replay, std::string peer,
                                     std::uint16_t peer_port, std::string_view proto,
                                     std::chrono::steady_clock::time_point started);

/// With --fleet_dns and --fleet_port: the holder lookup and a peer port on every
/// --fleet_address, on every worker (the listeners go with the others at stop and drain).
outcome<void> start_fleet(server::impl& srv);

}  // namespace kiteline::relay
