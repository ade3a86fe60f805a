// The actions mux::session emits for its I/O driver, with the contract of each one.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "wire/chunk_headers.hpp"

namespace kiteline::mux {

using wire::sid_t;

/// Chunk headers the session wants sent, owning their strings (so an action stays valid however
/// long it sits in the outbox). Only the fields the mux ever sends exist here.
struct outgoing_headers {
  bool noop = false;
  std::optional<sid_t> sid;
  std::string proto;
  std::string host;
  std::optional<std::uint32_t> port;
  std::string rip;
  std::optional<std::uint32_t> rport;
  bool rtls = false;
  std::optional<wire::eof_flags> eof;
  std::optional<std::string> ping;
  std::optional<std::string> pong;
  std::optional<std::uint64_t> skb;

  /// A wire::chunk_headers view of these fields for the chunk encoder. The views point into
  /// *this: valid while this object is neither moved nor destroyed (i.e. while draining the
  /// outbox, before the next session input or clear_actions()).
  [[nodiscard]] wire::chunk_headers view() const noexcept;

  bool operator==(const outgoing_headers&) const = default;
};

/// Compares two byte views by content.
inline bool same_bytes(std::span<const std::byte> a, std::span<const std::byte> b) noexcept {
  return std::ranges::equal(a, b);
}

/// Write one chunk (headers + data) to the tunnel, in outbox order. `data` is a view into the
/// buffer the driver passed to open_stream()/on_local_data() (valid as long as the driver keeps
/// that buffer; gather-write it, do not copy) or into an immutable filler literal ("!", "Bye!").
/// Kinds: first chunk (SID+Proto+Host+Port+RIP+RPort[+RTLS]), data (SID), EOF (SID+EOF),
/// SKB (NOOP+SID+SKB), PING (NOOP+PING).
struct send_chunk {
  outgoing_headers headers;
  std::span<const std::byte> data;
  bool operator==(const send_chunk& o) const {
    return headers == o.headers && same_bytes(data, o.data);
  }
};

/// Write a PONG chunk (NOOP+PONG, data "!") in outbox order. Same contract as send_chunk; a
/// relay that knows the tunnel's quota may add `Quota:` to the encoded headers (§5.4 step 2).
struct send_pong {
  outgoing_headers headers;
  std::span<const std::byte> data;
  bool operator==(const send_pong& o) const {
    return headers == o.headers && same_bytes(data, o.data);
  }
};

/// Queue `data` for writing to the local socket of `sid`, after everything delivered before.
/// `data` is a view into the buffer the driver passed to on_chunk()/on_chunk_data(): copy it
/// into the stream's write buffer (or write it) before reusing that buffer. Report progress with
/// on_local_written(sid, n). Before the origin is connected (just after open_local) the driver
/// buffers it.
struct deliver {
  sid_t sid = 0;
  std::span<const std::byte> data;
  bool operator==(const deliver& o) const { return sid == o.sid && same_bytes(data, o.data); }
};

/// The peer sent EOF R: after every byte delivered so far is written, shutdown(SHUT_WR) the
/// local socket of `sid`. No further deliver for `sid` follows.
struct shutdown_local_write {
  sid_t sid = 0;
  bool operator==(const shutdown_local_write&) const = default;
};

/// The peer sent EOF W (it cannot deliver any more): stop reading the local socket of `sid`
/// (shutdown(SHUT_RD)); further on_local_data() for it is dropped.
struct stop_local_read {
  sid_t sid = 0;
  bool operator==(const stop_local_read&) const = default;
};

/// The stream is finished in both directions, or torn down by the peer; the session has
/// forgotten `sid`. Flush already-delivered bytes if still possible, then close the local socket.
/// Later local inputs for `sid` return errc::unknown_stream (harmless).
struct close_local {
  sid_t sid = 0;
  bool operator==(const close_local&) const = default;
};

/// Connector only: a new stream arrived. Choose and connect the local service (§7.1) for
/// (proto, host, port). A deliver of the first bytes usually follows in the same batch. If no
/// service matches or the connect fails, send the error page with on_local_data() if any, then
/// call close_stream(sid).
struct open_local {
  sid_t sid = 0;
  std::string proto;
  std::string host;
  std::optional<std::uint32_t> port;
  std::string rip;
  std::optional<std::uint32_t> rport;
  bool rtls = false;
  bool operator==(const open_local&) const = default;
};

/// The stream's send window is full (bytes sent − SKB×1024 ≥ window): stop reading the local
/// socket of `sid` until resume_local_read.
struct pause_local_read {
  sid_t sid = 0;
  bool operator==(const pause_local_read&) const = default;
};

/// An SKB brought the stream back under its window: read the local socket of `sid` again.
struct resume_local_read {
  sid_t sid = 0;
  bool operator==(const resume_local_read&) const = default;
};

/// Bytes delivered but not yet written exceed the global receive budget: stop reading the tunnel
/// (finish processing the bytes already read). Emitted only at chunk boundaries.
struct pause_tunnel_read {
  bool operator==(const pause_tunnel_read&) const = default;
};

/// Unwritten delivered bytes fell to half the budget or less: read the tunnel again.
struct resume_tunnel_read {
  bool operator==(const resume_tunnel_read&) const = default;
};

/// The peer could not inflate our data (ZRST): start a new deflater and mark the next frame we
/// send with the `R` suffix (§5.5).
struct reset_compressor {
  bool operator==(const reset_compressor&) const = default;
};

/// One owned header line.
struct owned_field {
  std::string name;
  std::string value;
  bool operator==(const owned_field&) const = default;
};

/// A NOOP chunk carried Quota and/or X-PageKite* lines: hand them to the tunnel layer (kite
/// rounds §4.5/§4.8, quota §5.9). Emitted only when at least one such line was present.
struct control_chunk {
  std::optional<std::int64_t> quota;
  std::vector<owned_field> fields;  ///< the X-PageKite* lines, in order
  bool operator==(const control_chunk&) const = default;
};

/// Why a stream was evicted.
enum class evict_reason : std::uint8_t {
  /// The receive budget overflowed while this stream held at least its share of it
  /// (receive_budget / streams holding bytes) and had not drained for stalled_after.
  stalled_share,
  /// The tunnel read stayed paused (budget full) for evict_after and this stream held the most.
  budget_full,
};

/// `sid` holds delivered-but-unwritten bytes (`held`) that stall the tunnel and is evicted. The
/// session already sent `EOF: 1WR` and forgot it. Drop its queued bytes and close the local
/// socket at once (no flush: its reader is what stalled everyone).
struct evict_local {
  sid_t sid = 0;
  std::uint64_t held = 0;
  evict_reason why = evict_reason::budget_full;
  bool operator==(const evict_local&) const = default;
};

/// Why a stream was reaped.
enum class reap_reason : std::uint8_t {
  half_closed,  ///< one direction ended and the other stayed silent for half_closed_timeout
  idle,         ///< nothing moved in either direction for idle_timeout
};

/// `sid` was reaped: the session already sent `EOF: 1WR` and forgot it. Close the local socket
/// (queued bytes are dropped).
struct reap_local {
  sid_t sid = 0;
  reap_reason why = reap_reason::half_closed;
  bool operator==(const reap_local&) const = default;
};

/// A PING is outstanding and nothing was received for dead_after: close the tunnel, then call
/// on_tunnel_lost(). Emitted once.
struct tunnel_dead {
  bool operator==(const tunnel_dead&) const = default;
};

/// Everything the session asks of its driver. The driver performs the actions in order.
using action = std::variant<send_chunk, send_pong, deliver, shutdown_local_write,
                            stop_local_read, close_local, open_local, pause_local_read,
                            resume_local_read, pause_tunnel_read, resume_tunnel_read,
                            reset_compressor, control_chunk, evict_local, reap_local,
                            tunnel_dead>;

}  // namespace kiteline::mux
