// Parsing the relay's side of the handshake (§4.4): the 200 response head and the in-tunnel
// result chunks of Flow B (§4.8).
#include "core/text.hpp"
#include "wire/handshake.hpp"
#include "wire/handshake_fields.hpp"

namespace kiteline::wire {
namespace {

using handshake_detail::classify_name;
using handshake_detail::parse_fields;
using handshake_detail::parse_head;
using handshake_detail::has_line_break;
using handshake_detail::pk_name;

/// Optional '-' then 1..18 decimal digits (so it always fits an int64).
std::optional<std::int64_t> parse_int64(std::string_view s) noexcept {
  bool negative = false;
  if (!s.empty() && s.front() == '-') {
    negative = true;
    s.remove_prefix(1);
  }
  if (s.size() > 18) {
    return std::nullopt;
  }
  const auto v = parse_decimal<std::uint64_t>(s);  // empty and non-digits refused
  if (!v) {
    return std::nullopt;
  }
  const auto magnitude = static_cast<std::int64_t>(*v);
  return negative ? -magnitude : magnitude;
}

result<void> check_status_line(std::string_view line) noexcept {
  if (!line.starts_with("HTTP/1.0 200") && !line.starts_with("HTTP/1.1 200")) {
    return errc::bad_status_line;
  }
  constexpr std::size_t prefix_len = std::string_view("HTTP/1.x 200").size();
  if (line.size() > prefix_len && line[prefix_len] != ' ') {
    return errc::bad_status_line;  // "HTTP/1.1 2000"
  }
  return {};
}

// Interprets response header fields; shared by the head parser and the result-chunk parser.
class response_builder {
 public:
  using value_type = handshake_response;

  explicit response_builder(const response_limits& limits) noexcept : limits_(limits) {}

  result<void> on_field(std::string_view name, std::string_view value) {
    const std::optional<pk_name> pk = classify_name(name);
    if (!pk) {
      return {};
    }
    if (has_line_break(value)) {
      return errc::bad_header_line;
    }
    resp_.legacy_beanstalk = resp_.legacy_beanstalk || pk->legacy;
    const std::string_view s = pk->suffix;
    if (ascii_iequals(s, "-Features")) {
      if (ascii_iequals(value, "ZChunks")) {
        resp_.zchunks = true;
      } else if (ascii_iequals(value, "WebSockets")) {
        resp_.websockets = true;
      } else if (ascii_iequals(value, "AddKites")) {
        resp_.add_kites = true;
      }
    } else if (ascii_iequals(s, "-Protos")) {
      add_list(resp_.protos, value);
    } else if (ascii_iequals(s, "-Ports")) {
      add_list(resp_.ports, value);
    } else if (ascii_iequals(s, "-Raw-Ports")) {
      add_list(resp_.raw_ports, value);
    } else if (ascii_iequals(s, "-SignThis")) {
      const std::size_t colon = value.rfind(':');
      if (colon == std::string_view::npos) {
        return errc::bad_kite_line;
      }
      return add_result(kite_status::sign_this, value.substr(0, colon), value.substr(colon + 1),
                        {});
    } else if (ascii_iequals(s, "-OK")) {
      return add_result(kite_status::ok, value, {}, {});
    } else if (ascii_iequals(s, "-SSL-OK")) {
      return add_result(kite_status::ssl_ok, value, {}, {});
    } else if (ascii_iequals(s, "-Invalid")) {
      return add_result(kite_status::invalid, value, {}, {});
    } else if (ascii_iequals(s, "-Duplicate")) {
      return add_result(kite_status::duplicate, value, {}, {});
    } else if (ascii_iequals(s, "-Invalid-Why")) {
      // Normally right after "Invalid: KITE"; the reason is what follows "KITE;".
      if (!resp_.results.empty()) {
        kite_result& last = resp_.results.back();
        if (last.status == kite_status::invalid && last.why.empty() &&
            value.size() > last.kite.size() && value.starts_with(last.kite) &&
            value[last.kite.size()] == ';') {
          last.why = value.substr(last.kite.size() + 1);
          return {};
        }
      }
      const std::size_t semi = value.find(';');
      if (semi == std::string_view::npos) {
        return add_result(kite_status::invalid, value, {}, {});
      }
      return add_result(kite_status::invalid, trim_ows_and_eol(value.substr(0, semi)), {},
                        value.substr(semi + 1));
    } else if (ascii_iequals(s, "-SessionID")) {
      resp_.session_id = value;
    } else if (ascii_iequals(s, "-Misc")) {
      resp_.misc = std::string(value);
    } else if (ascii_iequals(s, "-QConns")) {
      return set_number(resp_.qconns, value);
    } else if (ascii_iequals(s, "-QDays")) {
      return set_number(resp_.qdays, value);
    } else if (ascii_iequals(s, "-Quota")) {
      return set_number(resp_.quota, value);
    } else if (ascii_iequals(s, "-IPsPerSec")) {
      resp_.ips_per_sec = value;
    }
    return {};
  }

  handshake_response finish() && { return std::move(resp_); }

 private:
  void add_list(std::vector<std::string>& list, std::string_view value) {
    while (!value.empty()) {
      const std::size_t comma = value.find(',');
      const std::string_view item = trim_ows_and_eol(value.substr(0, comma));
      if (!item.empty() && list.size() < limits_.max_list_items) {
        list.emplace_back(item);
      }
      if (comma == std::string_view::npos) {
        break;
      }
      value.remove_prefix(comma + 1);
    }
  }

  result<void> add_result(kite_status st, std::string_view kite, std::string_view fsalt,
                          std::string_view why) {
    if (resp_.results.size() >= limits_.max_results) {
      return errc::too_many_kites;
    }
    resp_.results.push_back(
        kite_result{st, std::string(kite), std::string(fsalt), std::string(why)});
    return {};
  }

  static result<void> set_number(std::optional<std::int64_t>& slot, std::string_view value) {
    const std::optional<std::int64_t> n = parse_int64(value);
    if (!n) {
      return errc::bad_number;
    }
    slot = n;
    return {};
  }

  const response_limits& limits_;
  handshake_response resp_;
};

}  // namespace

result<handshake_response> parse_handshake_response(std::string_view head,
                                                    const response_limits& limits) {
  return parse_head<response_builder>(head, limits, check_status_line);
}

result<handshake_response> parse_result_fields(std::span<const header_field> fields,
                                               const response_limits& limits) {
  return parse_fields<response_builder>(fields, limits);
}

}  // namespace kiteline::wire
