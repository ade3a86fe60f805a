// Finding the end of an HTTP-like head (handshake request/response, ping, CONNECT) under a cap,
// and splitting its lines; shared by the handshake, ping and CONNECT-preamble code.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

#include "core/result.hpp"
#include "core/text.hpp"
#include "http/head.hpp"
#include "wire/chunk_headers.hpp"
#include "wire/errc.hpp"

namespace kiteline::wire {

/// Outcome of find_head_end when no error occurred.
struct head_scan {
  std::size_t end = 0;  ///< 0: need more bytes; else the offset just past the blank line
  [[nodiscard]] bool need_more() const noexcept { return end == 0; }
  friend bool operator==(const head_scan&, const head_scan&) = default;
};

/// Looks for the blank line that ends a head in `buf` (the bytes received so far), with
/// http::find_head_end.
/// A line ends at LF; a blank line is "\r\n\r\n", "\n\r\n" or "\n\n" (pagekite.py's reader
/// accepts "\r\n\r\n" and "\n\n"; its line parser strips the CR, so "\n\r\n" ends it too).
/// Returns {end} with end <= max_head when found, {0} (need_more) when `buf` is shorter than
/// `max_head` and holds no blank line yet, and errc::head_too_large when the first `max_head`
/// bytes hold no blank line. The result depends only on the bytes, never on how they were split
/// across calls. Pure; callable from any executor.
[[nodiscard]] result<head_scan> find_head_end(std::string_view buf, std::size_t max_head) noexcept;

/// Iterates the lines of a head: each line ends at LF (or at the end of the text), and one
/// trailing CR is removed (the http/ scanner's line reader).
using line_reader = http::line_reader;

/// Splits "Name: value" at the first ':'; name and value are trimmed of spaces, tabs and CRs
/// (pagekite.py trims both). std::nullopt when the line holds no ':' or the name is empty.
[[nodiscard]] std::optional<header_field> split_header_line(std::string_view line) noexcept;

}  // namespace kiteline::wire
