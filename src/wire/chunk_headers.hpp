// The chunk header dictionary (spec §5.3): the parsed form of a chunk's header lines.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace kiteline::wire {

/// Stream id. pagekite.py uses < 131072; we accept up to limits.max_sid_digits decimal digits.
using sid_t = std::uint32_t;

/// EOF letters (§5.6). `read` = "R": the sender's local side stopped producing data.
/// `write` = "W": the sender can no longer deliver to its local side. `EOF: 1` = both.
enum class eof_flags : std::uint8_t { read = 1, write = 2, both = 3 };

constexpr bool has_read(eof_flags f) noexcept {
  return (static_cast<unsigned>(f) & 1U) != 0;
}
constexpr bool has_write(eof_flags f) noexcept {
  return (static_cast<unsigned>(f) & 2U) != 0;
}

/// One header line kept verbatim: X-PageKite* lines of control chunks and unknown names.
struct header_field {
  std::string_view name;
  std::string_view value;
};

/// Parsed chunk headers. All views point into storage owned by whoever produced the struct
/// (the frame decoder: valid until its next `headers` event; an encoder caller: its own strings).
/// Absent headers are std::nullopt / empty views / false.
struct chunk_headers {
  bool noop = false;                      ///< NOOP: 1 (control chunk; data is ignored)
  std::optional<sid_t> sid;               ///< SID
  std::string_view proto;                 ///< Proto (first chunk of a stream, FE->BE)
  std::string_view host;                  ///< Host (lower-case kite name, no :port)
  std::optional<std::uint32_t> port;      ///< Port (public port)
  std::string_view rip;                   ///< RIP (visitor address as text)
  std::optional<std::uint32_t> rport;     ///< RPort
  bool rtls = false;                      ///< RTLS: 1
  std::optional<eof_flags> eof;           ///< EOF: 1[R][W]
  std::optional<std::string_view> ping;   ///< PING value (opaque, <= 64 chars when we send)
  std::optional<std::string_view> pong;   ///< PONG value
  std::optional<std::uint64_t> skb;       ///< SKB: KiB written to the local socket so far
  std::optional<std::uint64_t> spd;       ///< SPD (legacy; parsed and ignored)
  bool zrst = false;                      ///< ZRST: 1
  std::optional<std::int64_t> quota;      ///< Quota
  std::span<const header_field> extra;    ///< X-PageKite* and unknown lines, in order
};

}  // namespace kiteline::wire
