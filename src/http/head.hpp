// http/head: the ONE HTTP/1.x head scanner (sans-I/O, pure): where a head ends, its lines, the
// request line's parts and "name: value" field lines, by the token rules of RFC 9110/9112.
// It splits and classifies; each user decides what it accepts (the relay's sniffer, the
// connector's request rewriter and the folder server keep their own acceptance rules on top).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace kiteline::http {

// --- Bytes ------------------------------------------------------------------------------------

/// RFC 9110 §5.6.2 tchar: ALPHA / DIGIT / one of !#$%&'*+-.^_`|~ (nothing else, no byte >=
/// 0x80).
[[nodiscard]] constexpr bool is_tchar(char c) noexcept {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
    return true;
  }
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

/// RFC 9110 token: one or more tchar.
[[nodiscard]] constexpr bool is_token(std::string_view s) noexcept {
  if (s.empty()) {
    return false;
  }
  for (const char c : s) {
    if (!is_tchar(c)) {
      return false;
    }
  }
  return true;
}

/// A control byte that may not appear in a field value: 0x00-0x1F except HTAB, and DEL (0x7F).
/// Bytes >= 0x80 (obs-text) are not control bytes.
[[nodiscard]] constexpr bool is_ctl_but_htab(char c) noexcept {
  const auto u = static_cast<unsigned char>(c);
  return (u < 0x20 && c != '\t') || u == 0x7f;
}

/// True if any byte of `s` is_ctl_but_htab.
[[nodiscard]] constexpr bool has_ctl_but_htab(std::string_view s) noexcept {
  for (const char c : s) {
    if (is_ctl_but_htab(c)) {
      return true;
    }
  }
  return false;
}

// --- Lines and the end of the head ------------------------------------------------------------
// A line ends at LF; one CR before the LF belongs to the line ending (CRLF or a bare LF, as
// pagekite.py reads them). A CR anywhere else is part of the line and left to the callers'
// byte rules.

/// `line` without one trailing LF and then at most one CR before it.
[[nodiscard]] constexpr std::string_view line_content(std::string_view line) noexcept {
  if (!line.empty() && line.back() == '\n') {
    line.remove_suffix(1);
  }
  if (!line.empty() && line.back() == '\r') {
    line.remove_suffix(1);
  }
  return line;
}

/// One complete line of a text.
struct line {
  std::string_view content;  ///< without its line ending (LF and at most one CR before it)
  std::size_t next = 0;      ///< offset just past its LF, where the next line starts
};

/// The complete line that starts at `pos` in `text`, or nullopt when no LF follows `pos` yet.
[[nodiscard]] std::optional<line> next_line(std::string_view text, std::size_t pos) noexcept;

/// Iterates the lines of a text: each line ends at LF or at the end of the text (so a last line
/// without LF is returned too), and one trailing CR is removed. Views point into the text.
class line_reader {
 public:
  explicit line_reader(std::string_view text) noexcept : rest_(text) {}
  /// Stores the next line in `out`; false when the text is exhausted.
  bool next(std::string_view& out) noexcept;
  /// The text not yet returned.
  [[nodiscard]] std::string_view rest() const noexcept { return rest_; }

 private:
  std::string_view rest_;
};

/// The offset just past the blank line that ends the head at the start of `buf`, or npos when
/// `buf` holds none yet. A blank line is an LF followed by LF or by CR LF ("\r\n\r\n", "\n\n",
/// "\n\r\n"); it must follow a line's LF, so an empty first line alone ("\r\n") ends nothing
/// (callers that allow leading empty lines skip them first).
/// The answer depends only on the bytes: a prefix gives npos or the same offset.
[[nodiscard]] std::size_t find_head_end(std::string_view buf) noexcept;

// --- The request line -------------------------------------------------------------------------

/// A request line split at its first two SP (RFC 9112 §3: method SP request-target SP
/// HTTP-version). Nothing is checked: see is_token, is_request_target, parse_http1_version.
struct request_line {
  std::string_view method;   ///< before the first SP (the whole line when there is none)
  std::string_view target;   ///< between the first and the second SP (or to the end)
  std::string_view version;  ///< after the second SP
  bool has_target = false;   ///< the line holds a first SP
  bool has_version = false;  ///< the line holds a second SP
};

[[nodiscard]] request_line split_request_line(std::string_view line) noexcept;

/// A request target kiteline passes on: one or more bytes, none of them a control byte, SP or
/// DEL. `allow_obs_text`: bytes >= 0x80 are allowed too (the connector and the folder server
/// allow them, the relay's sniffer does not).
[[nodiscard]] bool is_request_target(std::string_view target, bool allow_obs_text) noexcept;

/// "HTTP/1.<digit>": the minor version 0..9; nullopt for anything else.
[[nodiscard]] std::optional<int> parse_http1_version(std::string_view version) noexcept;

// --- Field lines ------------------------------------------------------------------------------

/// One header (or trailer) field: views into the caller's buffer.
struct field {
  std::string_view name;
  std::string_view value;
  bool operator==(const field&) const = default;
};

/// What is wrong with a field line, in the order parse_field_line checks it.
enum class field_error {
  none,
  obs_fold,  ///< the line starts with SP or HTAB (RFC 9112 §5.2 obs-fold)
  no_colon,  ///< no ':' in the line
  bad_name,  ///< the name before the first ':' is not a token (or is empty)
};

struct field_line {
  field_error error = field_error::none;
  field f;  ///< when error is none: the name, and the value without surrounding SP/HTAB
};

/// Splits one field line (its line ending removed) at the first ':'. The value's bytes are not
/// checked (see has_ctl_but_htab).
[[nodiscard]] field_line parse_field_line(std::string_view line) noexcept;

// --- Field values -----------------------------------------------------------------------------

/// The first field named `name` (ASCII case-insensitive), or nullptr.
[[nodiscard]] const field* find_field(std::span<const field> fields,
                                      std::string_view name) noexcept;

/// True when the comma-separated `list` (Connection, Upgrade, ...) holds `token`, compared
/// case-insensitively after trimming SP/HTAB around each element.
[[nodiscard]] bool list_contains(std::string_view list, std::string_view token) noexcept;

/// A Content-Length value: "12" or a list of equal numbers ("12, 12", RFC 9110 §8.6). Each
/// element is decimal digits only (leading zeros allowed), at most `max`; nullopt for an empty
/// element, any other byte, a value over `max` or unequal elements.
[[nodiscard]] std::optional<std::uint64_t> parse_content_length(std::string_view value,
                                                                std::uint64_t max) noexcept;

/// Follows the transfer codings of a request's Transfer-Encoding lines, in order (RFC 9112
/// §6.1: chunked must be the final coding and applied once).
struct transfer_codings {
  bool chunked = false;        ///< the last coding seen so far is "chunked"
  bool after_chunked = false;  ///< some coding came after "chunked": the framing is unknowable
  /// Adds one Transfer-Encoding value (a comma-separated list; empty elements are skipped).
  /// Once after_chunked is set, further values change nothing.
  void add(std::string_view value) noexcept;
};

}  // namespace kiteline::http
