// What the handshake files of wire/ share (not part of wire's interface): the header name
// prefixes, recognising a PageKite header name, appending one header line, and running a
// field builder over the header lines of a head.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "core/text.hpp"
#include "wire/errc.hpp"
#include "wire/head.hpp"

namespace kiteline::wire::handshake_detail {

inline constexpr std::string_view pagekite_prefix = "X-PageKite";
inline constexpr std::string_view beanstalk_prefix = "X-Beanstalk";
inline constexpr std::string_view crlf = "\r\n";

/// A header name with the PageKite prefix removed ("" for the kite line, "-Features", ...).
struct pk_name {
  std::string_view suffix;
  bool legacy = false;
};

inline std::optional<pk_name> classify_name(std::string_view name) noexcept {
  if (ascii_istarts_with(name, pagekite_prefix)) {
    return pk_name{name.substr(pagekite_prefix.size()), false};
  }
  if (ascii_istarts_with(name, beanstalk_prefix)) {
    return pk_name{name.substr(beanstalk_prefix.size()), true};
  }
  return std::nullopt;
}

inline bool has_line_break(std::string_view v) noexcept {
  return v.find_first_of("\r\n") != std::string_view::npos;
}

inline void append_header(std::string& out, std::string_view prefix, std::string_view suffix,
                          std::string_view value) {
  out.append(prefix).append(suffix).append(": ").append(value).append(crlf);
}

/// Parses a head with a field builder (request_builder, response_builder): `check_first`
/// checks the first line, the builder takes every header line, then finishes.
template <typename Builder, typename Limits, typename CheckFirst>
result<typename Builder::value_type> parse_head(std::string_view head, const Limits& limits,
                                                CheckFirst check_first) {
  const result<head_scan> scan = find_head_end(head, limits.max_head);
  if (!scan) {
    return scan.error();
  }
  if (scan->need_more()) {
    return errc::missing_blank_line;
  }
  line_reader lines(head.substr(0, scan->end));
  std::string_view line;
  lines.next(line);
  if (const result<void> ok = check_first(line); !ok) {
    return ok.error();
  }
  Builder builder(limits);
  while (lines.next(line) && !line.empty()) {
    const std::optional<header_field> f = split_header_line(line);
    if (!f) {
      return errc::bad_header_line;
    }
    if (result<void> ok = builder.on_field(f->name, f->value); !ok) {
      return ok.error();
    }
  }
  return std::move(builder).finish();
}

/// Parses the header fields of a control chunk (values trimmed) with a field builder.
template <typename Builder, typename Limits>
result<typename Builder::value_type> parse_fields(std::span<const header_field> fields,
                                                  const Limits& limits) {
  Builder builder(limits);
  for (const header_field& f : fields) {
    if (result<void> ok = builder.on_field(f.name, trim_ows_and_eol(f.value)); !ok) {
      return ok.error();
    }
  }
  return std::move(builder).finish();
}

}  // namespace kiteline::wire::handshake_detail
