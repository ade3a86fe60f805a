// Parsing the connector's side of the handshake with the relay's acceptance rules (§4.1):
// the CONNECT request head and the in-tunnel kite rounds of Flow B (§4.5).
#include <algorithm>
#include <array>

#include "wire/handshake.hpp"
#include "wire/handshake_fields.hpp"

namespace kiteline::wire {
namespace {

using handshake_detail::classify_name;
using handshake_detail::parse_fields;
using handshake_detail::parse_head;
using handshake_detail::has_line_break;
using handshake_detail::pk_name;

/// Python str.split(): words separated by runs of blanks. Returns the count; fills up to N.
template <std::size_t N>
std::size_t split_words(std::string_view line, std::array<std::string_view, N>& words) noexcept {
  std::size_t n = 0;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && is_ows(line[i])) {
      ++i;
    }
    if (i == line.size()) {
      break;
    }
    const std::size_t start = i;
    while (i < line.size() && !is_ows(line[i])) {
      ++i;
    }
    if (n < N) {
      words[n] = line.substr(start, i - start);
    }
    ++n;
  }
  return n;
}

result<void> check_request_line(std::string_view line) noexcept {
  std::array<std::string_view, 3> w{};
  if (split_words(line, w) != 3) {
    return errc::bad_request_line;
  }
  if (w[0] != "CONNECT" || !ascii_istarts_with(w[1], "pagekite:") ||
      (w[2] != "HTTP/1.0" && w[2] != "HTTP/1.1")) {
    return errc::bad_request_line;
  }
  return {};
}

// Interprets request header fields; shared by the head parser and the kite-round parser.
class request_builder {
 public:
  using value_type = handshake_request;

  explicit request_builder(const handshake_limits& limits) noexcept : limits_(limits) {}

  result<void> on_field(std::string_view name, std::string_view value) {
    const std::optional<pk_name> pk = classify_name(name);
    if (!pk) {
      return {};  // unknown headers are ignored
    }
    if (has_line_break(value)) {
      return errc::bad_header_line;
    }
    req_.legacy_beanstalk = req_.legacy_beanstalk || pk->legacy;
    const std::string_view s = pk->suffix;
    if (s.empty()) {
      if (req_.kites.size() >= limits_.max_kites) {
        return errc::too_many_kites;
      }
      result<kite_request> kite = parse_kite_line(value, limits_.kite);
      if (!kite) {
        return kite.error();
      }
      req_.kites.push_back(std::move(kite).value());
    } else if (ascii_iequals(s, "-Features")) {
      if (ascii_iequals(value, "AddKites")) {
        req_.add_kites = true;
      } else if (ascii_iequals(value, "ZChunks")) {
        req_.zchunks = true;
      } else if (ascii_iequals(value, "Mobile")) {
        req_.mobile = true;
      }
    } else if (ascii_iequals(s, "-Version")) {
      if (req_.versions.size() < limits_.max_versions) {
        req_.versions.emplace_back(value);
      }
    } else if (ascii_iequals(s, "-Replace")) {
      req_.replace = value;
    }
    return {};
  }

  result<handshake_request> finish() && {
    if (req_.kites.empty()) {
      return errc::no_kites;
    }
    return std::move(req_);
  }

 private:
  const handshake_limits& limits_;
  handshake_request req_;
};

}  // namespace

result<handshake_request> parse_handshake_request(std::string_view head,
                                                  const handshake_limits& limits) {
  return parse_head<request_builder>(head, limits, check_request_line);
}

result<handshake_request> parse_kite_round(std::span<const header_field> fields,
                                           const handshake_limits& limits) {
  return parse_fields<request_builder>(fields, limits);
}

bool has_handshake_fields(std::span<const header_field> fields) noexcept {
  return std::any_of(fields.begin(), fields.end(),
                     [](const header_field& f) { return classify_name(f.name).has_value(); });
}

}  // namespace kiteline::wire
