#include "wire/handshake.hpp"

#include <algorithm>
#include <array>
#include <limits>

#include "core/text.hpp"
#include "wire/head.hpp"

namespace kiteline::wire {
namespace {

constexpr std::string_view pagekite_prefix = "X-PageKite";
constexpr std::string_view beanstalk_prefix = "X-Beanstalk";
constexpr std::string_view crlf = "\r\n";

/// A header name with the PageKite prefix removed ("" for the kite line, "-Features", ...).
struct pk_name {
  std::string_view suffix;
  bool legacy = false;
};

std::optional<pk_name> classify_name(std::string_view name) noexcept {
  if (ascii_istarts_with(name, pagekite_prefix)) {
    return pk_name{name.substr(pagekite_prefix.size()), false};
  }
  if (ascii_istarts_with(name, beanstalk_prefix)) {
    return pk_name{name.substr(beanstalk_prefix.size()), true};
  }
  return std::nullopt;
}

bool has_line_break(std::string_view v) noexcept {
  return v.find_first_of("\r\n") != std::string_view::npos;
}

/// Optional '-' then 1..18 decimal digits (so it always fits an int64).
std::optional<std::int64_t> parse_int64(std::string_view s) noexcept {
  bool negative = false;
  if (!s.empty() && s.front() == '-') {
    negative = true;
    s.remove_prefix(1);
  }
  if (s.empty() || s.size() > 18) {
    return std::nullopt;
  }
  std::int64_t v = 0;
  for (const char c : s) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    v = v * 10 + (c - '0');
  }
  return negative ? -v : v;
}

void append_header(std::string& out, std::string_view prefix, std::string_view suffix,
                   std::string_view value) {
  out.append(prefix).append(suffix).append(": ").append(value).append(crlf);
}

void append_list(std::string& out, std::string_view prefix, std::string_view suffix,
                 const std::vector<std::string>& items) {
  if (items.empty()) {
    return;
  }
  out.append(prefix).append(suffix).append(": ");
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i != 0) {
      out.append(", ");
    }
    out.append(items[i]);
  }
  out.append(crlf);
}

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

// Interprets request header fields; shared by the head parser and the kite-round parser.
class request_builder {
 public:
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

// Interprets response header fields; shared by the head parser and the result-chunk parser.
class response_builder {
 public:
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

/// Runs `builder` over the header lines of a head; checks the first line with `check_first`.
template <typename Builder, typename CheckFirst>
result<void> feed_head(std::string_view head, std::size_t max_head, CheckFirst check_first,
                       Builder& builder) {
  const result<head_scan> scan = find_head_end(head, max_head);
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
    return ok;
  }
  while (lines.next(line) && !line.empty()) {
    const std::optional<header_field> f = split_header_line(line);
    if (!f) {
      return errc::bad_header_line;
    }
    if (result<void> ok = builder.on_field(f->name, f->value); !ok) {
      return ok;
    }
  }
  return {};
}

/// Result lines, session id, misc and quota lines: shared by the head and the result chunk.
void append_results(std::string& out, const handshake_response& resp, std::string_view p) {
  for (const kite_result& r : resp.results) {
    switch (r.status) {
      case kite_status::sign_this:
        out.append(p).append("-SignThis: ").append(r.kite).append(":").append(r.fsalt).append(crlf);
        break;
      case kite_status::ok:
        append_header(out, p, "-OK", r.kite);
        break;
      case kite_status::ssl_ok:
        append_header(out, p, "-SSL-OK", r.kite);
        break;
      case kite_status::invalid:
        append_header(out, p, "-Invalid", r.kite);
        if (!r.why.empty()) {
          out.append(p).append("-Invalid-Why: ").append(r.kite).append(";").append(r.why).append(
              crlf);
        }
        break;
      case kite_status::duplicate:
        append_header(out, p, "-Duplicate", r.kite);
        break;
    }
  }
  if (!resp.session_id.empty()) {
    append_header(out, p, "-SessionID", resp.session_id);
  }
  if (resp.misc) {
    append_header(out, p, "-Misc", *resp.misc);
  }
  if (resp.qconns) {
    append_header(out, p, "-QConns", std::to_string(*resp.qconns));
  }
  if (resp.qdays) {
    append_header(out, p, "-QDays", std::to_string(*resp.qdays));
  }
  if (!resp.ips_per_sec.empty()) {
    append_header(out, p, "-IPsPerSec", resp.ips_per_sec);
  }
  if (resp.quota) {
    append_header(out, p, "-Quota", std::to_string(*resp.quota));
  }
}

void append_capabilities(std::string& out, const handshake_response& resp, std::string_view p) {
  if (resp.zchunks) {
    append_header(out, p, "-Features", "ZChunks");
  }
  if (resp.websockets) {
    append_header(out, p, "-Features", "WebSockets");
  }
  if (resp.add_kites) {
    append_header(out, p, "-Features", "AddKites");
  }
  append_list(out, p, "-Protos", resp.protos);
  append_list(out, p, "-Ports", resp.ports);
  append_list(out, p, "-Raw-Ports", resp.raw_ports);
}

bool is_unreserved(char c) noexcept {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-' || c == '~';
}

}  // namespace

// ---------------------------------------------------------------------------------------------

result<kite_request> parse_kite_line(std::string_view value, const kite_limits& limits) {
  std::array<std::string_view, 5> f{};
  std::size_t n = 0;
  std::string_view rest = value;
  while (true) {
    const std::size_t colon = rest.find(':');
    if (n == f.size()) {
      return errc::bad_kite_line;  // a sixth field
    }
    f[n++] = rest.substr(0, colon);
    if (colon == std::string_view::npos) {
      break;
    }
    rest.remove_prefix(colon + 1);
  }
  if (n != f.size()) {
    return errc::bad_kite_line;
  }
  if (f[0].size() > limits.max_proto || f[1].size() > limits.max_domain ||
      f[2].size() > limits.max_salt || f[3].size() > limits.max_salt ||
      f[4].size() > limits.max_signature) {
    return errc::kite_field_too_long;
  }
  if (f[0].empty() || f[1].empty()) {
    return errc::bad_kite_line;
  }
  for (const std::string_view field : f) {
    for (const char c : field) {
      const auto u = static_cast<unsigned char>(c);
      if (u <= 0x20U || u == 0x7fU) {
        return errc::bad_kite_line;
      }
    }
  }
  return kite_request{to_lower(f[0]), to_lower(f[1]), std::string(f[2]), std::string(f[3]),
                      std::string(f[4])};
}

std::string format_kite_line(const kite_request& kite) {
  std::string out;
  out.reserve(kite.proto.size() + kite.domain.size() + kite.bsalt.size() + kite.fsalt.size() +
              kite.signature.size() + 4);
  out.append(kite.proto).append(":").append(kite.domain).append(":").append(kite.bsalt);
  out.append(":").append(kite.fsalt).append(":").append(kite.signature);
  return out;
}

std::string kite_key(const kite_request& kite) {
  std::string out;
  out.append(kite.proto).append(":").append(kite.domain).append(":").append(kite.bsalt);
  return out;
}

result<proto_port> split_proto(std::string_view proto) noexcept {
  const std::size_t dash = proto.find('-');
  if (dash == 0 || proto.empty()) {
    return errc::bad_kite_line;
  }
  if (dash == std::string_view::npos) {
    return proto_port{proto, std::nullopt};
  }
  const std::string_view digits = proto.substr(dash + 1);
  if (digits.empty() || digits.size() > 5) {
    return errc::bad_kite_line;
  }
  std::uint32_t port = 0;
  for (const char c : digits) {
    if (c < '0' || c > '9') {
      return errc::bad_kite_line;
    }
    port = port * 10U + static_cast<std::uint32_t>(c - '0');
  }
  if (port > std::numeric_limits<std::uint16_t>::max()) {
    return errc::bad_kite_line;
  }
  return proto_port{proto.substr(0, dash), static_cast<std::uint16_t>(port)};
}

// ---------------------------------------------------------------------------------------------

std::string format_handshake_request(const handshake_request& req) {
  const std::string_view p = req.legacy_beanstalk ? beanstalk_prefix : pagekite_prefix;
  std::string out = "CONNECT PageKite:1 HTTP/1.0\r\n";
  if (req.mobile) {
    append_header(out, p, "-Features", "Mobile");
  }
  if (req.add_kites) {
    append_header(out, p, "-Features", "AddKites");
  }
  if (!req.versions.empty()) {
    append_header(out, p, "-Version", req.versions.front());
  }
  if (req.zchunks) {
    append_header(out, p, "-Features", "ZChunks");
  }
  for (std::size_t i = 1; i < req.versions.size(); ++i) {
    append_header(out, p, "-Version", req.versions[i]);
  }
  if (!req.replace.empty()) {
    append_header(out, p, "-Replace", req.replace);
  }
  for (const kite_request& k : req.kites) {
    append_header(out, p, "", format_kite_line(k));
  }
  out.append(crlf);
  return out;
}

result<handshake_request> parse_handshake_request(std::string_view head,
                                                  const handshake_limits& limits) {
  request_builder builder(limits);
  if (result<void> ok = feed_head(head, limits.max_head, check_request_line, builder); !ok) {
    return ok.error();
  }
  return std::move(builder).finish();
}

std::string format_handshake_response(const handshake_response& resp) {
  const std::string_view p = resp.legacy_beanstalk ? beanstalk_prefix : pagekite_prefix;
  std::string out =
      "HTTP/1.1 200 OK\r\n"
      "Content-Type: text/html; charset=utf-8\r\n"
      "Pragma: no-cache\r\n"
      "Expires: 0\r\n"
      "Cache-Control: no-store\r\n"
      "Connection: close\r\n"
      "Transfer-Encoding: chunked\r\n";
  append_capabilities(out, resp, p);
  append_results(out, resp, p);
  out.append(crlf);
  return out;
}

result<handshake_response> parse_handshake_response(std::string_view head,
                                                    const response_limits& limits) {
  response_builder builder(limits);
  if (result<void> ok = feed_head(head, limits.max_head, check_status_line, builder); !ok) {
    return ok.error();
  }
  return std::move(builder).finish();
}

// ---------------------------------------------------------------------------------------------

std::string format_kite_round_payload(std::string_view version,
                                      std::span<const kite_request> kites) {
  std::string out = "NOOP: 1\r\n";
  if (!version.empty()) {
    append_header(out, pagekite_prefix, "-Version", version);
  }
  for (const kite_request& k : kites) {
    append_header(out, pagekite_prefix, "", format_kite_line(k));
  }
  out.append("\r\n\r\n!");  // blank line, then pagekite.py's filler body "\r\n!"
  return out;
}

std::string format_result_payload(const handshake_response& resp) {
  const std::string_view p = resp.legacy_beanstalk ? beanstalk_prefix : pagekite_prefix;
  std::string out = "NOOP: 1\r\n";
  append_capabilities(out, resp, p);
  append_results(out, resp, p);
  out.append("\r\n!");
  return out;
}

result<handshake_request> parse_kite_round(std::span<const header_field> fields,
                                           const handshake_limits& limits) {
  request_builder builder(limits);
  for (const header_field& f : fields) {
    if (result<void> ok = builder.on_field(f.name, trim_ows_and_eol(f.value)); !ok) {
      return ok.error();
    }
  }
  return std::move(builder).finish();
}

result<handshake_response> parse_result_fields(std::span<const header_field> fields,
                                               const response_limits& limits) {
  response_builder builder(limits);
  for (const header_field& f : fields) {
    if (result<void> ok = builder.on_field(f.name, trim_ows_and_eol(f.value)); !ok) {
      return ok.error();
    }
  }
  return std::move(builder).finish();
}

bool has_handshake_fields(std::span<const header_field> fields) noexcept {
  return std::any_of(fields.begin(), fields.end(),
                     [](const header_field& f) { return classify_name(f.name).has_value(); });
}

// ---------------------------------------------------------------------------------------------

std::string make_misc(std::string_view motd) {
  std::string out = "motd=";
  for (const char c : motd) {
    if (is_unreserved(c)) {
      out.push_back(c);
    } else if (c == ' ') {
      out.push_back('+');
    } else {
      const auto u = static_cast<unsigned char>(c);
      out.push_back('%');
      out.push_back(ascii_upper(hex_digit(u >> 4U)));
      out.push_back(ascii_upper(hex_digit(u)));
    }
  }
  return out;
}

std::string motd_from_misc(std::string_view misc) {
  while (!misc.empty()) {
    const std::size_t amp = misc.find('&');
    const std::string_view param = misc.substr(0, amp);
    if (param.starts_with("motd=")) {
      const std::string_view enc = param.substr(5);
      std::string out;
      out.reserve(enc.size());
      for (std::size_t i = 0; i < enc.size(); ++i) {
        if (enc[i] == '+') {
          out.push_back(' ');
        } else if (enc[i] == '%' && i + 2 < enc.size() && hex_digit_value(enc[i + 1]) >= 0 &&
                   hex_digit_value(enc[i + 2]) >= 0) {
          out.push_back(
              static_cast<char>(hex_digit_value(enc[i + 1]) * 16 + hex_digit_value(enc[i + 2])));
          i += 2;
        } else {
          out.push_back(enc[i]);
        }
      }
      return out;
    }
    if (amp == std::string_view::npos) {
      break;
    }
    misc.remove_prefix(amp + 1);
  }
  return {};
}

bool is_kiteline_version(std::string_view version) noexcept {
  return version.starts_with("kiteline") || version.ends_with("+kiteline");
}

bool is_pagekite_py_version(std::string_view version) noexcept {
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (version.empty() || !digit(version.front()) || !digit(version.back())) {
    return false;
  }
  return std::all_of(version.begin(), version.end(),
                     [&](char c) { return digit(c) || c == '.'; });
}

}  // namespace kiteline::wire
