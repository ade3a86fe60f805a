// The state of one local socket of a tunnel (a visitor on a relay, an origin on a connector),
// shared by the stream pump's plain and TLS drivers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "net/asio.hpp"
#include "net/signal.hpp"
#include "tls/transport.hpp"
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

/// Where a local stream is in its life.
enum class local_state : std::uint8_t {
  dialing,  ///< a connector's origin is being dialed: no socket yet
  plain,    ///< plain socket, driven by completion handlers (an idle one holds one wait)
  tls,      ///< TLS socket, driven by a reader and a writer coroutine
  gone,     ///< closed and removed from the link's table
};

/// What the mux lets the local read side do (stopped wins over paused).
enum class read_gate : std::uint8_t { open, paused, stopped };

/// What a plain stream's read side waits for.
enum class read_wait : std::uint8_t {
  none,
  readable,  ///< a wait for readability (or a posted re-read) is pending
  outbox,    ///< parked in the link's blocked readers until the outbox drains
};

/// What happens once everything delivered was written (close wins over shutdown).
enum class after_flush : std::uint8_t { keep_open, shutdown_send, close };

/// Wake-ups of the coroutines that drive a TLS local stream.
struct stream_signals {
  explicit stream_signals(const asio::any_io_executor& ex) : wake_writer(ex), wake_reader(ex) {}
  net::signal wake_writer;
  net::signal wake_reader;
};

/// One local socket of a tunnel. Owned by the link (its table) and by the handlers and
/// coroutines pumping it; used on the link's executor only.
struct local_stream : std::enable_shared_from_this<local_stream> {
  /// Takes the connected socket (attach_visitor, attach_local).
  void adopt(tls::transport&& transport) {
    t.emplace(std::move(transport));
    state = t->is_tls() ? local_state::tls : local_state::plain;
  }

  wire::sid_t sid = 0;
  std::optional<tls::transport> t;     // nullopt while dialing
  std::vector<std::byte> wbuf;         // bytes delivered, waiting for the writer
  std::vector<std::byte> wbuf_busy;    // bytes being written (never touched by deliver)
  std::uint64_t wbuf_delivered = 0;    // delivered (peer) bytes behind wbuf
  std::unique_ptr<delivery_filter> filter;
  std::unique_ptr<stream_signals> sig;  // TLS streams only, once their coroutines run
  local_state state = local_state::dialing;
  read_gate gate = read_gate::open;
  read_wait wait = read_wait::none;
  after_flush then = after_flush::keep_open;
  bool no_compress = false;  // compressing it saves too little (the outbox's ZChunk policy)
};

}  // namespace kiteline::tunnel
