// The I/O driver of one tunnel after its handshake: frames in and out, the mux session, and the
// local sockets (visitors on a relay, origins on a connector) of its streams.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include <spdlog/logger.h>

#include "mux/session.hpp"
#include "core/memory.hpp"
#include "net/asio.hpp"
#include "net/signal.hpp"
#include "tls/transport.hpp"
#include "tunnel/byte_stream.hpp"
#include "tunnel/local_stream.hpp"
#include "tunnel/outbox.hpp"
#include "wire/frame_decoder.hpp"

namespace kiteline::tunnel {

/// Tuning of one tunnel link.
struct link_options {
  mux::role role = mux::role::relay;
  mux::session_limits session{};
  wire::frame_limits frames{};
  bool accept_compressed = false;           ///< we advertised ZChunks
  bool send_compressed = false;             ///< the peer advertised ZChunks (and we allow it)
  int compression_level = 1;                ///< zlib level (pagekite.py: relay 1, connector 9)
  /// The peer is pagekite.py, which processes at most 150 frames per 50,393-byte tunnel read
  /// and crashes beyond ("BugFoundError: Too much data"). Bursts of small frames (SKB, EOF,
  /// small requests) are then spread out with NOOP filler frames (see note_frame()).
  bool limit_frame_density = false;
  /// The peer may write a chunk's head and its body in two writes with Nagle on (libpagekite
  /// does): its kernel holds the body back until our ACK for the head arrives, and ours delays
  /// that ACK (40 ms) when we have nothing to send. On: after a tunnel read that ends inside a
  /// frame, the ACK goes out at once (net::quick_ack). Off for kiteline peers, which write
  /// whole chunks with TCP_NODELAY: their data path makes no extra system call.
  bool quick_ack = false;
  std::size_t tunnel_read_buffer = 256 * 1024;
  /// After a tunnel read of fewer bytes than this (control chunks, requests: not a bulk
  /// transfer), the next read first waits for the socket with no buffer held, and a tick
  /// without traffic gives the read buffers back: a relay's idle tunnels then hold none
  /// (docs/benchmarks.md, "10 000 tunnels"). Larger reads go straight on to the next read.
  std::size_t wait_first_below = 16 * 1024;
  /// Most bytes one local read takes (one readv into the outbox, or this shared buffer for
  /// compressed streams). Each pass of the event loop (wake-up, read, framing, one sealed
  /// batch, send) carries up to this much; docs/benchmarks.md has the measurements behind it.
  std::size_t local_read_buffer = 512 * 1024;
  std::size_t outbox_high_water = 1024 * 1024;  ///< local reads pause above this many bytes
  /// The tunnel stops reading while this many bytes wait in its outbox: what reading causes
  /// (PONGs, SKBs, EOFs, ZRSTs, refusals, filler) cannot grow without bound when the peer sends
  /// but does not read. Reading resumes once the outbox is below outbox_high_water.
  std::size_t outbox_limit = 2 * 1024 * 1024;
  /// Inflated ZChunk data that reaches no stream (unknown SIDs, ignored or refused chunks) is
  /// work the peer causes for nothing: it may reach inflate_waste_ratio times the compressed
  /// bytes received plus inflate_waste_allowance, which refills every tick; beyond, the tunnel
  /// is closed. Data delivered to streams is budgeted by receive_budget instead.
  std::uint64_t inflate_waste_allowance = 4 * 1024 * 1024;
  std::uint64_t inflate_waste_ratio = 16;
  /// A tunnel on probation (a relay's tunnel before any kite is accepted) has small fixed
  /// limits instead: outbox, frame size and read buffer, and no Z frames. end_probation()
  /// gives it the ones above.
  bool probation = false;
  std::size_t probation_outbox_limit = 64 * 1024;
  std::size_t probation_frame_size = 64 * 1024;
  std::size_t probation_read_buffer = 16 * 1024;
  std::chrono::milliseconds tick{1000};
  /// Every stream keeps a stream_note (kite, visitor, first bytes each way) and its end is
  /// reported through hooks::stream_finished (the access log). Off: nothing is kept.
  bool stream_notes = false;
  /// While the receive budget pauses the tunnel, how often stalled holders are looked for.
  std::chrono::milliseconds stall_check{100};
};

/// Counters, readable on the link's executor.
struct link_stats {
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;
  std::uint64_t streams_opened = 0;
  std::uint64_t local_buffered_peak = 0;  ///< max bytes waiting for local sockets
  /// Largest size the outbox reached when a local read added to it (reads stop at
  /// outbox_high_water, at most one slot per armed stream beyond it).
  std::uint64_t outbox_peak = 0;
  std::uint64_t streams_evicted = 0;  ///< evict_local: stalled the tunnel (either reason)
  std::uint64_t streams_reaped = 0;   ///< reap_local: half-closed or idle too long
  std::uint64_t reads_held = 0;       ///< tunnel reads held back because the outbox was full
  std::uint64_t inflated = 0;         ///< bytes inflated from Z frames
  std::uint64_t inflated_wasted = 0;  ///< of which no stream took
  std::uint64_t local_in = 0;   ///< bytes read from local sockets (visitors / origins)
  std::uint64_t local_out = 0;  ///< bytes written to local sockets
  /// Tunnel reads after which the ACK was sent at once (link_options::quick_ack).
  std::uint64_t quick_acks = 0;
};

/// One live tunnel. Created and used on one executor (the worker that owns the tunnel); every
/// public function must be called there. Owns itself through the coroutines it runs: call
/// start(), and close() (or lose the tls::transport) to end it; `on_closed` then fires once.
/// The tunnel is a tls::transport, or for tests any byte_stream (an in-memory one).
class link : public std::enable_shared_from_this<link> {
 public:
  struct hooks {
    /// Connector: a new stream arrived; dial an origin and call attach_local() or
    /// refuse_local(). Called on the link's executor.
    std::function<void(const mux::open_local&)> open_local;
    /// A NOOP chunk carried X-PageKite* / Quota lines (kite rounds, quota).
    std::function<void(const mux::control_chunk&)> control;
    /// The tunnel ended (after every stream was closed). `why` is empty on a local close().
    std::function<void(const std::string& why)> closed;
    /// A stream left the table (any reason). Called on the link's executor.
    std::function<void(wire::sid_t)> stream_ended;
    /// With link_options::stream_notes: a stream left the table; `read` = bytes read from its
    /// local socket, `delivered` = bytes the peer sent for it that were not left unwritten.
    /// Called on the link's executor, before stream_ended.
    std::function<void(const stream_note& note, std::uint64_t read, std::uint64_t delivered)>
        stream_finished;
  };

  link(tls::transport&& t, link_options opts, hooks h, std::shared_ptr<spdlog::logger> log,
       std::string name);
  link(std::unique_ptr<byte_stream> t, link_options opts, hooks h,
       std::shared_ptr<spdlog::logger> log, std::string name);
  ~link();

  /// Starts the reader, writer and timer. `leftover` = tunnel bytes read past the handshake.
  void start(std::span<const std::byte> leftover);

  /// Relay: a visitor for this tunnel. `first` = the bytes already read from it (sent as the
  /// stream's first chunk). Returns false (and closes the visitor) when the stream cannot open.
  bool attach_visitor(tls::transport&& visitor, const mux::stream_open& info,
                      std::span<const std::byte> first);

  /// Connector: the origin for stream `sid` is connected; buffered data is flushed to it.
  void attach_local(wire::sid_t sid, tls::transport&& origin);
  /// Connector: no origin for `sid`; `reply` (e.g. an error page) is sent, then the stream ends.
  void refuse_local(wire::sid_t sid, std::span<const std::byte> reply);

  /// Installs a filter on stream `sid` (call from the open_local hook, before data arrives).
  void set_filter(wire::sid_t sid, std::unique_ptr<delivery_filter> f);

  /// Sends a raw control chunk (header block + filler) such as a kite-round result.
  void send_control(std::span<const std::byte> encoded_chunk);

  /// A kite was accepted: the tunnel leaves probation and gets its full limits (no-op if it was
  /// not on probation). Call on the link's executor.
  void end_probation();
  [[nodiscard]] bool on_probation() const noexcept { return probation_; }

  /// Ends the tunnel: closes the tls::transport and every stream.
  void close(const std::string& why = {});
  /// Ends the tunnel once everything already queued (e.g. a refusal result chunk from
  /// send_control) was written, or after `limit` at the latest (a peer that does not read).
  /// Call on the link's executor.
  void close_when_flushed(const std::string& why,
                         std::chrono::milliseconds limit = std::chrono::seconds(5));

  [[nodiscard]] bool closed() const noexcept { return closed_; }
  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  [[nodiscard]] const link_stats& stats() const noexcept { return stats_; }
  [[nodiscard]] std::size_t stream_count() const noexcept { return streams_.size(); }
  /// Bytes waiting to be written to local sockets, all streams (the receive budget in use).
  [[nodiscard]] std::uint64_t local_buffered() const noexcept { return local_buffered_; }
  [[nodiscard]] std::size_t outbox_size() const noexcept { return outbox_.size(); }
  /// Bytes queued for the tunnel plus those being written.
  [[nodiscard]] std::size_t outbox_bytes() const noexcept { return outbox_.bytes(); }
  [[nodiscard]] const mux::session& session() const noexcept { return session_; }
  [[nodiscard]] asio::any_io_executor executor() const { return executor_; }

 private:
  using stream_ptr = std::shared_ptr<local_stream>;
  using tunnel_io = std::variant<tls::transport, std::unique_ptr<byte_stream>>;

  link(tunnel_io&& t, link_options opts, hooks h, std::shared_ptr<spdlog::logger> log,
       std::string name);
  // The tunnel's operations, on whichever it is (the callee's awaitable, no frame of their own).
  net::awaitable<std::tuple<std::error_code, std::size_t>> tunnel_read(std::span<std::byte> buf);
  net::awaitable<std::error_code> tunnel_write(asio::const_buffer buf);
  void tunnel_close() noexcept;
  /// After a tunnel read: with link_options::quick_ack, acknowledges at once when the read
  /// ended inside a frame (the peer may be holding the rest back until our ACK).
  void ack_partial_frame();

  net::awaitable<void> reader(std::shared_ptr<link> self);
  net::awaitable<void> writer(std::shared_ptr<link> self);
  net::awaitable<void> ticker(std::shared_ptr<link> self);

  void feed(std::span<const std::byte> in);
  void feed_frames(std::span<const std::byte> in);
  void queue_local(local_stream& s, std::span<const std::byte> data);
  /// A delivery that is not gatherable: written at once when writes_now(s), the rest queued
  /// (event-loop thread, inside feed()).
  void write_now_or_queue(local_stream& s, std::span<const std::byte> data);
  /// After a local write completed: drops the written buffer, and every buffer of an idle
  /// stream (nothing more queued).
  void release_write_buffers(local_stream& s);
  [[nodiscard]] bool gatherable(const local_stream& s, std::span<const std::byte> data) const;
  /// Bytes for `s` may go to its socket at once: open, nothing queued or being written, and a
  /// socket that writes without waiting (plain).
  [[nodiscard]] static bool writes_now(const local_stream& s) noexcept;
  void flush_gathered();
  void apply_written_now();
  void perform_actions();
  /// Appends a chunk to the outbox (a ZChunk when the outbox's policy says so); closes the
  /// tunnel when the headers cannot be encoded.
  void append_chunk(const wire::chunk_headers& h, std::span<const std::byte> data);
  /// Starts pumping a stream that just got its socket (one reader, one writer, either kind).
  void start_local(const stream_ptr& s);
  void wake_writer(local_stream& s);
  void wake_reader(local_stream& s);
  void note_outbox_drained();
  /// Waits for the local socket to become readable (TLS: reads its next plaintext), unless the
  /// stream may not read or the outbox is above its high-water mark (then the stream waits in
  /// blocked_readers_). `read_again`: the last read filled the buffer, so more is likely there:
  /// read again after the handlers already queued, without the epoll round trip (Asio's
  /// async_wait re-arms epoll with epoll_ctl on every call).
  void arm_reader(const stream_ptr& s, bool read_again = false);
  void on_readable(const stream_ptr& s, std::error_code ec);
  /// A stream's read straight into the outbox, each max_chunk_data slot behind room for its
  /// chunk head (one readv for a plain socket), so no payload byte is copied between the socket
  /// and the TLS sealer. Used when nothing else shapes the chunks (no compression, no
  /// frame-density limit).
  [[nodiscard]] bool reads_in_place(const local_stream& s) const noexcept;
  void read_in_place(const stream_ptr& s);
  /// A local read (or the wait before it) that brought no data: wait again (would_block),
  /// end the stream's upload (EOF or 0 bytes), or drop the stream (an error).
  void read_ended(const stream_ptr& s, std::error_code ec);
  /// The stream pump's write step: what to do next for `s`.
  enum class write_step : std::uint8_t { write, close, shutdown_send, idle };
  /// Picks the next write step; for `write`, swaps wbuf into wbuf_busy and sets `delivered` to
  /// the peer bytes behind it (deliveries during the write append to the other buffer).
  [[nodiscard]] static write_step next_write(local_stream& s, std::uint64_t& delivered);
  /// A local write of `delivered` peer bytes ended with `ec`: accounts it, acknowledges it (or
  /// reports the failure to the session). False when the pump of `s` must stop.
  [[nodiscard]] bool local_written(const stream_ptr& s, std::uint64_t delivered,
                                   std::error_code ec);
  /// Starts the next write step unless one is pending (write_wait).
  void kick_writer(const stream_ptr& s);
  void drop_stream(wire::sid_t sid, bool abortive);
  /// A stream_note for a stream opened with `proto`/`host`/... (link_options::stream_notes).
  [[nodiscard]] static std::unique_ptr<stream_note> make_note(std::string_view proto,
                                                              std::string_view host,
                                                              std::uint32_t port,
                                                              std::string_view rip,
                                                              std::uint32_t rport);
  /// Keeps the first bytes of `data` in `head` when nothing was kept yet.
  static void note_head(std::string& head, std::span<const std::byte> data);
  void note_buffered(std::int64_t delta);
  /// Accounts a Z frame's inflated bytes that no stream took; false (and the tunnel closed)
  /// when the peer exceeded the inflation allowance.
  bool note_inflated(std::uint64_t size, std::uint64_t zsize, std::uint64_t delivered);

  asio::any_io_executor executor_;
  tunnel_io tunnel_;
  link_options opts_;
  hooks hooks_;
  std::shared_ptr<spdlog::logger> log_;
  std::string name_;
  wire::frame_decoder decoder_;
  mux::session session_;
  std::unordered_map<wire::sid_t, stream_ptr> streams_;
  tunnel::outbox outbox_;  // encoded chunks for the tunnel writer
  net::signal wake_tunnel_writer_;
  net::signal resume_tunnel_read_;
  core::byte_buffer tunnel_rbuf_;  // not zeroed: reads write it
  bool read_wait_first_ = true;     // see link_options::wait_first_below
  bool reader_waiting_ = false;     // the reader waits for the socket, holding no buffer
  std::vector<std::byte> local_rbuf_;
  std::vector<std::byte> pending_leftover_;
  std::vector<std::byte> paused_rest_;  // tunnel bytes read but not fed while paused
  // Deliveries of the tunnel read being fed that go to local sockets straight from it.
  struct gathered {
    wire::sid_t sid;
    stream_ptr stream;
    std::span<const std::byte> data;
  };
  std::span<const std::byte> feed_input_;
  std::vector<gathered> gathered_;
  std::vector<stream_ptr> blocked_readers_;  // readers waiting for the outbox to drain
  // Bytes written straight to local sockets during this feed(), acknowledged after it.
  std::vector<std::pair<wire::sid_t, std::uint64_t>> written_now_;
  asio::steady_timer tick_timer_;
  asio::steady_timer stall_timer_;
  std::uint64_t local_buffered_ = 0;
  link_stats stats_;
  bool probation_ = false;
  std::uint64_t delivered_total_ = 0;  // bytes of every deliver action (inflation accounting)
  std::int64_t inflate_credit_ = 0;    // wasted inflation still allowed (see link_options)
  bool z_frame_open_ = false;          // a Z frame's headers were fed, its data comes next
  std::uint64_t z_delivered_before_ = 0;
  bool closed_ = false;
  std::uint64_t moved_at_last_tick_ = 0;  // bytes_in + bytes_out at the last tick
  bool closed_notified_ = false;
  std::string close_reason_;
  // close_when_flushed(): close once the outbox is written, or at drain_deadline_.
  bool close_when_drained_ = false;
  std::string drain_reason_;
  std::chrono::steady_clock::time_point drain_deadline_{};
};

}  // namespace kiteline::tunnel
