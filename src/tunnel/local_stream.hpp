// The state of one local socket of a tunnel (a visitor on a relay, an origin on a connector),
// plain or TLS alike, which the stream pump drives.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "tls/transport.hpp"
#include "tunnel/local_socket.hpp"
#include "wire/chunk_headers.hpp"

namespace kiteline::tunnel {

/// Rewrites the bytes delivered to one local socket (the connector's X-Forwarded-* injection).
/// Flow control keeps counting the bytes the peer sent, not the rewritten ones.
class delivery_filter {
 public:
  virtual ~delivery_filter() = default;
  /// Appends the rewritten form of `in` to `out`. Called in delivery order.
  virtual void transform(std::span<const std::byte> in, std::vector<std::byte>& out) = 0;
};

/// A local stream's state, read side and write side apart (each is one enum; together they are
/// the whole state the stream pump drives a stream by):
///
///   local_state  dialing -> open -> gone        (gone may follow dialing too)
///   read side    read_gate (what the mux allows) x read_wait (what is pending)
///   write side   write_wait (what is pending) + after_flush (what follows the last write)
///
/// Where a local stream is in its life.
enum class local_state : std::uint8_t {
  dialing,  ///< a connector's origin is being dialed: no socket yet
  open,     ///< its socket (plain or TLS) is pumped
  gone,     ///< closed and removed from the link's table
};

/// What the mux lets the local read side do (stopped wins over paused).
enum class read_gate : std::uint8_t { open, paused, stopped };

/// What the read side waits for.
enum class read_wait : std::uint8_t {
  none,
  readable,  ///< a wait for readability (or a posted re-read) is pending
  outbox,    ///< parked in the link's blocked readers until the outbox drains
};

/// What the write side has pending.
enum class write_wait : std::uint8_t {
  none,
  write,     ///< a write of wbuf_busy
  shutdown,  ///< the end of our sending direction (a TLS close_notify being sent)
};

/// What happens once everything delivered was written (close wins over shutdown).
enum class after_flush : std::uint8_t { keep_open, shutdown_send, close };

/// What an access log needs of one stream beyond its byte counts: who opened it for which kite,
/// when, and the first bytes seen each way (a request line, a status line). Kept only when
/// link_options::stream_notes is set; filled on the link's executor.
struct stream_note {
  /// At most this many of the first bytes each way are kept (one read's worth, not more).
  static constexpr std::size_t head_bytes = 1024;
  std::string proto;
  std::string host;
  std::uint32_t port = 0;
  std::string rip;
  std::uint32_t rport = 0;
  std::chrono::system_clock::time_point opened{};
  std::chrono::steady_clock::time_point opened_steady{};
  std::string head_read;       ///< start of the first read from the local socket
  std::string head_delivered;  ///< start of the first delivery to it
};

/// One local socket of a tunnel. Owned by the link (its table) and by the handlers pumping it;
/// used on the link's executor only.
struct local_stream : std::enable_shared_from_this<local_stream> {
  /// Takes the connected socket (attach_visitor, attach_local).
  void adopt(tls::transport&& transport) {
    sock.emplace(std::move(transport));
    state = local_state::open;
  }

  wire::sid_t sid = 0;
  std::optional<local_socket> sock;    // nullopt while dialing
  std::vector<std::byte> wbuf;         // bytes delivered, waiting for the writer
  std::vector<std::byte> wbuf_busy;    // bytes being written (never touched by deliver)
  std::uint64_t wbuf_delivered = 0;    // delivered (peer) bytes behind wbuf
  std::unique_ptr<delivery_filter> filter;
  local_state state = local_state::dialing;
  read_gate gate = read_gate::open;
  read_wait wait = read_wait::none;
  write_wait writing = write_wait::none;
  after_flush then = after_flush::keep_open;
  bool no_compress = false;  // compressing it saves too little (the outbox's ZChunk policy)
  // Plain counters for the access log (this executor only): bytes read from the local socket
  // (plus a relay visitor's sniffed bytes, a connector's refusal reply) and bytes the peer
  // delivered for it.
  std::uint64_t bytes_read = 0;
  std::uint64_t bytes_delivered = 0;
  std::unique_ptr<stream_note> note;  // only with link_options::stream_notes
};

}  // namespace kiteline::tunnel
