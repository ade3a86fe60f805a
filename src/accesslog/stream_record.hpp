// accesslog::stream_record: the access-log record of a stream a tunnel carried, from the
// tunnel's stream_note and byte counts, for either role.
#pragma once

#include <cstdint>
#include <string>

#include "accesslog/record.hpp"
#include "tunnel/local_stream.hpp"

namespace kiteline::accesslog {

/// Which side of the tunnel the stream's local socket is.
enum class side : std::uint8_t {
  relay,      ///< the local socket is the visitor: read = request, delivered = response
  connector,  ///< the local socket is the origin: delivered = request, read = response
};

/// The record of a stream that ended: time and duration from the note, kite, proto, port and
/// visitor from its opening headers, method and path from the first request bytes and the
/// status from the first response bytes when the kite speaks HTTP (http*, websocket; not
/// https, whose bytes are TLS here), bytes each way. `tunnel`: the peer (relay: connector's
/// address; connector: the relay's name).
[[nodiscard]] record stream_record(side s, const tunnel::stream_note& note, std::uint64_t read,
                                   std::uint64_t delivered, std::string tunnel);

}  // namespace kiteline::accesslog
