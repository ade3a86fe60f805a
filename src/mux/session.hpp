// mux::session: the per-tunnel stream multiplexer as a sans-I/O state machine (style §3, §5).
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <vector>

#include "core/result.hpp"
#include "mux/actions.hpp"
#include "mux/errc.hpp"
#include "wire/chunk_headers.hpp"

namespace kiteline::mux {

/// Which end of the tunnel this session is. Only a relay opens streams; only a connector
/// accepts new SIDs from the peer (§5.4 step 8).
enum class role : std::uint8_t { relay, connector };

/// Points in time come from the driver (no clock inside the codec).
using time_point = std::chrono::steady_clock::time_point;
using duration = std::chrono::steady_clock::duration;

/// Limits and tuning of one session. All sizes in bytes.
struct session_limits {
  std::size_t max_streams = 16384;  ///< live streams; more are refused (EOF: 1WR)
  /// Unacked bytes per stream before pausing: two of the link's 512 KiB local reads, so a
  /// bulk stream keeps the pipe full while SKBs travel back.
  std::uint64_t stream_send_window = 1024 * 1024;
  std::uint64_t ack_threshold = 16 * 1024;     ///< send SKB at least every this many written
  /// Also send SKB whenever everything delivered is written. pagekite.py needs it: it stops
  /// reading a stream whose unacknowledged bytes exceed ~147 KiB, so without an SKB on drain
  /// a threshold above that would stall it. A kiteline peer (1 MiB window) does not; turning
  /// it off with a large threshold saves an SKB (a TLS record and two system calls) per read.
  bool ack_on_drain = true;
  std::uint64_t receive_budget = 16 * 1024 * 1024;  ///< delivered-but-unwritten bytes, all streams
  /// The tunnel read has stayed paused (budget full) this long: evict the stream holding the
  /// most unwritten bytes, and another after each further evict_after. Without it, visitors
  /// that stop reading while holding the budget stall every other stream of the tunnel (and a
  /// client reading its connections one after another deadlocks). Zero: never evict.
  duration evict_after = std::chrono::seconds(10);
  /// Fair share under pressure: when the receive budget overflows, streams holding at least
  /// their share of it (receive_budget / streams holding bytes; half of that while the tunnel
  /// read is paused) that have not drained for this long are evicted at once (evict_local),
  /// largest first and only as many as needed, so the tunnel keeps reading for everyone else.
  /// Zero: never (only evict_after applies).
  duration stalled_after = std::chrono::seconds(1);
  /// A stream with one direction finished and nothing moving in the other for this long is
  /// reaped (reap_local): a visitor that sent its request and closed, whose origin never
  /// answers, would otherwise hold two sockets forever (pagekite.py reaps them after 120 s).
  /// Zero: never.
  duration half_closed_timeout = std::chrono::seconds(120);
  /// A stream with no byte moving in either direction for this long is reaped (reap_local).
  /// Zero: never.
  duration idle_timeout = duration::zero();
  duration ping_interval = std::chrono::seconds(116);  ///< PING after this long without input
  duration dead_after = std::chrono::seconds(40);  ///< dead: nothing received this long after PING
  std::size_t max_chunk_data = 16 * 1024;      ///< data bytes per outgoing chunk (min 1)
  sid_t max_sid = 999999;                      ///< relay SIDs are 1..max_sid (6 digits, §11.1)
  std::size_t max_refusals_per_tick = 256;     ///< EOF: 1WR refusals between two on_timer()s
};

/// What a relay knows about a new stream (first chunk headers, §5.6 / §6.3-6.4).
struct stream_open {
  std::string_view proto;
  std::string_view host;
  std::uint32_t port = 0;
  std::string_view rip;
  std::uint32_t rport = 0;
  bool rtls = false;
};

/// One tunnel's stream multiplexer. Not thread-safe: every call happens on the tunnel's
/// executor. Inputs append actions to an outbox; the driver performs them in order
/// (`actions()`), then calls `clear_actions()`. Actions hold views into buffers the driver
/// passed in (see each action's contract), so the driver keeps those buffers alive until it has
/// drained the outbox. The session keeps O(streams) state and never buffers payload.
class session {
 public:
  /// `now` starts the liveness clock.
  session(role r, const session_limits& limits, time_point now);

  /// Pending actions, oldest first. Valid until the next input or clear_actions().
  [[nodiscard]] std::span<const action> actions() const noexcept { return outbox_; }
  /// Drops all pending actions (keeps the outbox capacity: no allocation in steady state).
  void clear_actions() noexcept { outbox_.clear(); }

  /// Any bytes arrived on the tunnel at `now` (liveness, clears an outstanding PING). Call it
  /// before on_chunk() for the chunks those bytes carried, so a PONG's RTT is measured.
  void on_tunnel_bytes_received(time_point now) noexcept;

  /// A decoded chunk, or its first piece: `headers` plus the first `data` piece (views, used
  /// only during the call; strings needed later are copied). `chunk_complete` false means more
  /// data follows through on_chunk_data(). Classification follows §5.4 exactly. A chunk split
  /// in N pieces yields the same actions as one piece, except that its deliver is split too.
  /// Returns errc::chunk_without_sid (ignored chunk) or errc::chunk_interrupted (the previous
  /// chunk was completed implicitly); both are informational.
  std::error_code on_chunk(const wire::chunk_headers& headers, std::span<const std::byte> data,
                           bool chunk_complete);

  /// The next data piece of the chunk begun by on_chunk(). errc::no_chunk_in_progress if none.
  std::error_code on_chunk_data(std::span<const std::byte> data, bool chunk_complete);

  /// Relay only: opens a stream for a visitor. Allocates a SID (never a live one; the counter
  /// wraps at max_sid) and emits the first send_chunk (SID, Proto, Host, Port, RIP, RPort
  /// [, RTLS]) carrying up to max_chunk_data bytes of `first_bytes`, then data chunks for the
  /// rest (views into `first_bytes`). Errors: wrong_role, too_many_streams, sid_space_exhausted.
  result<sid_t> open_stream(const stream_open& open, std::span<const std::byte> first_bytes);

  /// Bytes read from the local socket of `sid` → send_chunk actions (views into `bytes`, split
  /// at max_chunk_data), then pause_local_read when the send window is full. Errors:
  /// unknown_stream, stream_read_closed (data dropped).
  std::error_code on_local_data(sid_t sid, std::span<const std::byte> bytes);

  /// Like on_local_data(), for `n` bytes the driver has already framed itself as the
  /// send_chunk actions of on_local_data() would (data chunks with only `SID`, split at
  /// max_chunk_data()), in place where it read them: only the accounting and pause_local_read.
  /// Same errors; on an error the driver must drop what it framed.
  std::error_code on_local_data_framed(sid_t sid, std::size_t n);
  [[nodiscard]] std::size_t max_chunk_data() const noexcept { return limits_.max_chunk_data; }

  /// The local socket of `sid` returned EOF → `EOF: 1R` (once). If the peer already finished
  /// its direction, the stream is forgotten (close_local).
  std::error_code on_local_eof(sid_t sid);

  /// Writing to the local socket of `sid` failed → `EOF: 1W` (once); undelivered bytes are
  /// dropped from the budget and later data from the peer is discarded.
  std::error_code on_local_write_failed(sid_t sid);

  /// The local side of `sid` is gone entirely → `EOF: 1WR` and the SID is forgotten (no
  /// close_local: the driver initiated this).
  std::error_code close_stream(sid_t sid);

  /// `n` delivered bytes of `sid` reached the local socket. Sends `NOOP+SID+SKB` (SKB =
  /// floor(total written / 1024)) once ack_threshold bytes were written since the last SKB or
  /// (ack_on_drain) when everything delivered is written; may emit resume_tunnel_read.
  std::error_code on_local_written(sid_t sid, std::uint64_t n);

  /// Periodic tick. Evicts stalled streams that hold their share of a full budget
  /// (stalled_after), and the largest holder when the tunnel read has been paused for
  /// evict_after (evict_local); reaps half-closed and idle streams (reap_local). Emits tunnel_dead (once) when a PING is outstanding and nothing arrived for
  /// dead_after; otherwise a PING when nothing arrived for ping_interval. The PING value is
  /// `ping_token` (first 64 chars) or, if empty, `now` as seconds with 4 decimals.
  void on_timer(time_point now, std::string_view ping_token = {});

  /// While the tunnel read is paused: evicts the holders of their share that have now been
  /// stalled for stalled_after (evict_local), which may resume it. Cheap to call often: the
  /// driver does so while it waits, so a pause lasts until a holder qualifies, not a tick.
  void check_stalled(time_point now);

  /// The tunnel is gone: close_local for every live stream (ascending SID); table emptied.
  void on_tunnel_lost();

  [[nodiscard]] role session_role() const noexcept { return role_; }
  [[nodiscard]] std::size_t stream_count() const noexcept { return streams_.size(); }
  [[nodiscard]] bool has_stream(sid_t sid) const noexcept { return streams_.contains(sid); }
  /// Delivered-but-unwritten bytes over all streams.
  [[nodiscard]] std::uint64_t receive_budget_used() const noexcept { return budget_used_; }
  [[nodiscard]] bool tunnel_read_paused() const noexcept { return tunnel_paused_; }
  /// RTT measured by the last PONG that matched our last PING.
  [[nodiscard]] std::optional<duration> last_rtt() const noexcept { return last_rtt_; }
  /// Unacknowledged bytes of `sid` (sent − SKB×1024), 0 when unknown.
  [[nodiscard]] std::uint64_t unacked_bytes(sid_t sid) const noexcept;
  /// Checks internal accounting (budget = Σ unwritten, stream count ≤ max, acked ≤ sent).
  [[nodiscard]] bool check_invariants_for_test() const noexcept;

 private:
  struct stream {
    std::uint64_t sent = 0;           // data bytes sent to the peer
    std::uint64_t acked = 0;          // bytes acknowledged by SKB (≤ sent)
    std::uint64_t delivered = 0;      // bytes delivered toward the local socket
    std::uint64_t written = 0;        // of which written (or dropped after a write failure)
    std::uint64_t acked_written = 0;  // `written` when we last sent SKB
    bool up_done = false;    // local → peer finished: we sent R, or the peer sent W
    bool down_done = false;  // peer → local finished: the peer sent R, or we sent W
    bool read_paused = false;
    time_point last_active{};  // bytes moved, or a direction ended (reaping)
    time_point drained_at{};   // delivered == written last held at this time (fair share)
  };
  enum class chunk_mode : std::uint8_t { none, ignore, deliver, refuse_if_data };

  [[nodiscard]] stream new_stream() const noexcept;

  void classify(const wire::chunk_headers& h, std::error_code& ec);
  void chunk_piece(std::span<const std::byte> data, bool complete);
  void apply_skb(sid_t sid, std::uint64_t skb);
  void apply_peer_eof(sid_t sid, wire::eof_flags flags);
  void control(const wire::chunk_headers& h);
  void refuse(sid_t sid, bool dedupe);
  void send_eof(sid_t sid, wire::eof_flags flags);
  void send_data(sid_t sid, stream& s, std::span<const std::byte> bytes);
  /// The stream `sid` while its local side may still send; unknown_stream / stream_read_closed.
  result<stream*> reading_stream(sid_t sid);
  /// Accounts `n` more bytes sent on `s`; pause_local_read when its send window is full.
  void note_sent(sid_t sid, stream& s, std::size_t n);
  void forget(sid_t sid);
  void maybe_resume_tunnel();
  void evict_if_stalled(time_point now);
  /// The budget overflowed (or the tunnel read is paused): evicts, largest first, streams that
  /// hold at least their share of the budget (half of it once paused, where reading resumes)
  /// and have not drained for stalled_after, until the budget is back under it. True if any.
  bool evict_stalled_holders();
  void reap_quiet_streams();
  void evict(sid_t sid, std::uint64_t held, evict_reason why);
  /// Pauses the tunnel read if the budget is exceeded once stalled holders are evicted.
  void check_budget();
  bool recently_refused(sid_t sid) const noexcept;
  void remember_refused(sid_t sid) noexcept;
  void unremember_refused(sid_t sid) noexcept;

  role role_;
  session_limits limits_;
  std::vector<action> outbox_;
  std::unordered_map<sid_t, stream> streams_;
  std::uint64_t budget_used_ = 0;
  bool tunnel_paused_ = false;
  time_point paused_at_;  // when the tunnel read was paused, or the last eviction since
  time_point now_;        // the latest time the driver gave (rx or tick)
  sid_t next_sid_ = 1;

  // Chunk in progress (on_chunk ... on_chunk_data(complete)).
  bool chunk_open_ = false;
  chunk_mode mode_ = chunk_mode::none;
  sid_t chunk_sid_ = 0;

  // Liveness.
  time_point last_rx_;
  time_point ping_sent_at_{};
  bool ping_outstanding_ = false;
  bool rtt_pending_ = false;
  bool dead_ = false;
  std::string last_ping_;
  std::optional<duration> last_rtt_;

  // Bounded refusals: a small ring of recently refused SIDs plus a per-tick budget.
  static constexpr std::size_t refused_ring_size = 16;
  std::array<sid_t, refused_ring_size> refused_{};
  std::size_t refused_count_ = 0;
  std::size_t refused_next_ = 0;
  std::size_t refusals_this_tick_ = 0;
};

}  // namespace kiteline::mux
