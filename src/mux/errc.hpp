// Error codes of the stream multiplexer (mux::session): driver misuse and dropped inputs.
#pragma once

#include <system_error>

namespace kiteline::mux {

/// Returned by mux::session inputs. None of them is fatal for the tunnel: the input was ignored
/// (or clamped) and the session stays consistent; the driver may count/log them. Values are
/// stable (used in logs and tests).
enum class errc {
  ok = 0,
  wrong_role = 1,                 ///< open_stream() on a connector session (only relays open)
  too_many_streams = 2,           ///< open_stream() while max_streams streams are live
  sid_space_exhausted = 3,        ///< every SID in [1, max_sid] is live
  unknown_stream = 4,             ///< local input for a SID that is not live (already forgotten)
  stream_read_closed = 5,         ///< on_local_data() after local EOF or peer EOF W: data dropped
  no_chunk_in_progress = 6,       ///< on_chunk_data() without an incomplete chunk in progress
  chunk_interrupted = 7,          ///< on_chunk() before the previous chunk was complete
  chunk_without_sid = 8,          ///< a stream chunk (no NOOP) without SID: ignored
  written_exceeds_delivered = 9,  ///< on_local_written() n > bytes delivered and unwritten
};

/// The "kiteline.mux" category.
const std::error_category& mux_category() noexcept;

/// Makes errc usable as std::error_code.
inline std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), mux_category()};
}

}  // namespace kiteline::mux

template <>
struct std::is_error_code_enum<kiteline::mux::errc> : std::true_type {};
