// Streaming HTTP/1.x request rewriter for one stream (see http_rewriter.hpp).
#include "connector/http_rewriter.hpp"

#include "connector/basic_auth.hpp"
#include "core/text.hpp"
#include "http/head.hpp"
#include "wire/reject.hpp"

#include <algorithm>
#include <array>
#include <cstring>

namespace kiteline::connector {
namespace {

constexpr std::size_t max_chunk_line = 4096;  // chunk-size line incl. extensions and line end
constexpr std::size_t max_chunk_end = 2;      // CRLF after chunk data
constexpr std::uint64_t max_content_length = std::uint64_t{1} << 62;

void append(std::vector<std::byte>& out, std::string_view s) {
  const auto* p = reinterpret_cast<const std::byte*>(s.data());
  out.insert(out.end(), p, p + s.size());
}

void append(std::vector<std::byte>& out, std::span<const std::byte> s) {
  out.insert(out.end(), s.begin(), s.end());
}

std::string_view as_chars(std::span<const std::byte> s) {
  return {reinterpret_cast<const char*>(s.data()), s.size()};
}

std::string sanitize(std::string_view s) {
  std::string r;
  for (char c : s) {
    if (c != '\r' && c != '\n' && c != '\0') {
      r.push_back(c);
    }
  }
  return r;
}

/// METHOD SP request-target SP HTTP/1.d (RFC 9112 §3). Returns nullptr, or what is wrong.
const char* parse_request_line(std::string_view line, http::request_line& rl) noexcept {
  const http::request_line parts = http::split_request_line(line);
  if (!parts.has_version || !http::is_token(parts.method) ||
      !http::is_request_target(parts.target, /*allow_obs_text=*/true)) {
    return "bad request line";
  }
  const std::string_view version = parts.version;
  if (version.size() == 8 && version.starts_with("HTTP/") && version[5] != '1') {
    return "HTTP version other than 1.x";
  }
  if (!http::parse_http1_version(version)) {
    return "bad request line";
  }
  rl = parts;
  return nullptr;
}

/// A header or trailer line `l` (without its line ending) that http::parse_field_line judged
/// `e`. Returns nullptr, or what is wrong.
const char* field_line_problem(std::string_view l, http::field_error e) noexcept {
  if (e == http::field_error::obs_fold) {
    return "obs-fold (a header line starting with a space or tab)";
  }
  if (l.find('\r') != std::string_view::npos || l.find('\0') != std::string_view::npos) {
    return "CR or NUL inside a header line";
  }
  if (e == http::field_error::no_colon) {
    return "header line without a colon";
  }
  if (e == http::field_error::bad_name) {
    return "bad header name";
  }
  return nullptr;
}

const char* header_line_problem(std::string_view l) noexcept {
  return field_line_problem(l, http::parse_field_line(l).error);
}

/// chunk-size [BWS ";" chunk-ext] (RFC 9112 §7.1). nullopt when malformed or over 16 digits.
std::optional<std::uint64_t> parse_chunk_size(std::string_view line) noexcept {
  std::size_t digits = 0;
  while (digits < line.size() && is_hex_digit(line[digits])) {
    ++digits;
  }
  const std::optional<std::uint64_t> n = parse_hex_number(line.substr(0, digits));  // 1..16
  if (!n) {
    return std::nullopt;
  }
  std::string_view rest = line.substr(digits);
  while (!rest.empty() && is_ows(rest.front())) {
    rest.remove_prefix(1);
  }
  if (!rest.empty() && rest.front() != ';') {
    return std::nullopt;
  }
  if (http::has_ctl_but_htab(rest)) {
    return std::nullopt;
  }
  return n;
}

constexpr std::array<std::string_view, 6> spoofable = {
    "X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Port",
    "X-PageKite-For",  "X-PageKite-Proto",  "X-PageKite-Port",
};

constexpr std::size_t max_refused_request = 256;  // refused_request() for logs

}  // namespace

http_rewriter::http_rewriter(rewrite_options opts) : opts_(std::move(opts)) {
  opts_.rip = sanitize(opts_.rip);
  if (opts_.rewrite_host) {
    opts_.rewrite_host = sanitize(*opts_.rewrite_host);
  }
  opts_.kite_name = sanitize(opts_.kite_name);
  opts_.uuid = sanitize(opts_.uuid);
  auth_pending_ = !opts_.passwords.empty();
  if (auth_pending_) {
    reply_ = wire::format_unauthorized_page(opts_.uuid, opts_.kite_name);
  }
}

rewrite_verdict http_rewriter::feed(std::span<const std::byte> in, std::vector<std::byte>& out) {
  std::size_t pos = 0;
  while (pos < in.size()) {
    const std::span<const std::byte> rest = in.subspan(pos);
    switch (state_) {
      case state::head:
        pos += on_head(rest, out);
        break;
      case state::body_length:
      case state::chunk_data: {
        const auto n = static_cast<std::size_t>(
            std::min<std::uint64_t>(remaining_, static_cast<std::uint64_t>(rest.size())));
        append(out, rest.first(n));
        remaining_ -= n;
        pos += n;
        if (remaining_ == 0) {
          state_ = state_ == state::body_length ? state::head : state::chunk_end;
        }
        break;
      }
      case state::chunk_size:
      case state::chunk_end:
      case state::trailers:
        pos += on_line_state(rest, out);
        break;
      case state::passthrough:
        append(out, rest);
        pos = in.size();
        break;
      case state::refused:
        pos = in.size();
        break;
    }
  }
  return verdict_;
}

std::size_t http_rewriter::on_head(std::span<const std::byte> in, std::vector<std::byte>& out) {
  const std::string_view chars = as_chars(in);
  const std::size_t lf = chars.find('\n');
  const std::size_t take = lf == std::string_view::npos ? chars.size() : lf + 1;
  head_.append(chars.substr(0, take));
  if (head_.size() > opts_.max_head) {
    // The head is longer than the cap whether or not it ends here.
    if (auth_pending_) {
      refuse(rewrite_verdict::unauthorized, "request head too large to check (+password)");
    } else {
      refuse(rewrite_verdict::head_too_large,
             "request head over " + std::to_string(opts_.max_head) + " bytes");
    }
    return take;
  }
  if (lf == std::string_view::npos) {
    return take;
  }
  const std::string_view line = http::line_content(std::string_view(head_).substr(line_start_));
  if (!line.empty()) {
    line_start_ = head_.size();
    return take;
  }
  if (line_start_ == 0) {
    // An empty line before the request line (RFC 9112 §2.2): forward it as it came, except
    // while a password check is pending (nothing is forwarded before the check).
    if (!auth_pending_) {
      append(out, head_);
    }
    head_.clear();
    return take;
  }
  finish_head(out);
  return take;
}

void http_rewriter::finish_head(std::vector<std::byte>& out) {
  struct line_info {
    std::string_view text;     // including its line ending
    std::string_view content;  // without it
    bool rename = false;
  };
  std::vector<line_info> lines;
  const std::string_view head(head_);
  for (std::size_t pos = 0; pos < head.size();) {
    // Every line of a complete head ends in LF.
    const std::optional<http::line> l = http::next_line(head, pos);
    lines.push_back({head.substr(pos, l->next - pos), l->content});
    pos = l->next;
  }

  http::request_line rl;
  const char* problem = parse_request_line(lines[0].content, rl);
  const bool parsed = problem == nullptr;
  // For refusals only (no copy for requests that pass).
  const auto remember_request = [&] {
    if (parsed) {
      refused_request_.assign(rl.method).append(" ").append(rl.target);
      refused_request_.resize(std::min(refused_request_.size(), max_refused_request));
    }
  };
  std::optional<std::uint64_t> content_length;
  bool has_te = false;
  http::transfer_codings te;
  bool upgrade = false;
  std::optional<std::string_view> authorization;
  for (std::size_t i = 1; problem == nullptr && i + 1 < lines.size(); ++i) {
    const http::field_line fl = http::parse_field_line(lines[i].content);
    problem = field_line_problem(lines[i].content, fl.error);
    if (problem != nullptr) {
      break;
    }
    const auto [name, value] = fl.f;
    if (!opts_.raw_headers) {
      for (std::string_view s : spoofable) {
        lines[i].rename = lines[i].rename || ascii_iequals(name, s);
      }
      if (opts_.rewrite_host && ascii_iequals(name, "Host")) {
        lines[i].rename = true;
      }
    }
    if (ascii_iequals(name, "Content-Length")) {
      const std::optional<std::uint64_t> n = http::parse_content_length(value, max_content_length);
      if (!n) {
        problem = "bad Content-Length";
      } else if (content_length && *content_length != *n) {
        problem = "conflicting Content-Length values";
      }
      content_length = n;
    } else if (ascii_iequals(name, "Transfer-Encoding")) {
      has_te = true;
      te.add(value);
      if (te.after_chunked) {
        // chunked must be the final coding, applied once (RFC 9112 §6.1)
        problem = "a transfer coding after chunked";
      }
    } else if (ascii_iequals(name, "Upgrade")) {
      upgrade = true;
    } else if (ascii_iequals(name, "Authorization") && !authorization) {
      authorization = value;
    }
  }
  if (problem == nullptr && has_te && content_length) {
    problem = "Transfer-Encoding with Content-Length";  // a request smuggling signal
  }
  if (problem == nullptr && has_te && !te.chunked) {
    problem = "final transfer coding is not chunked";  // the body length is unknowable
  }

  if (auth_pending_) {
    if (problem != nullptr || !authorization || !basic_auth_ok(*authorization, opts_.passwords)) {
      remember_request();
      refuse(rewrite_verdict::unauthorized, "no valid credentials (+password)");
      return;
    }
    auth_pending_ = false;
  }
  if (problem != nullptr) {
    remember_request();
    refuse(rewrite_verdict::bad_request, problem);
    return;
  }
  // The firewall: off with `insecure`; a +password stream is trusted once it passed the check.
  if (!opts_.insecure && opts_.passwords.empty()) {
    const firewall_rule rule = firewall_check(rl.method, rl.target);
    if (rule != firewall_rule::none) {
      blocked_rule_ = rule;
      remember_request();
      refuse(rewrite_verdict::blocked, std::string(firewall_rule_name(rule)));
      return;
    }
  }
  ++requests_;
  if (opts_.raw_headers) {
    append(out, head_);
  } else {
    const std::string_view first = lines[0].text;
    const std::string_view eol = first.ends_with("\r\n") ? "\r\n" : "\n";
    append(out, first);
    std::string added;
    added.append("X-Forwarded-For: ").append(opts_.rip).append(eol);
    added.append("X-Forwarded-Proto: ").append(opts_.rtls ? "https" : "http").append(eol);
    added.append("X-PageKite-Port: ").append(std::to_string(opts_.port)).append(eol);
    if (opts_.rewrite_host) {
      added.append("Host: ").append(*opts_.rewrite_host).append(eol);
    }
    append(out, added);
    for (std::size_t i = 1; i < lines.size(); ++i) {
      if (lines[i].rename) {
        append(out, std::string_view("X-Old-"));
      }
      append(out, lines[i].text);
    }
  }
  const bool tunnel = upgrade || ascii_iequals(rl.method, "CONNECT");  // before head_ (its bytes) goes
  head_ = std::string();  // an idle keep-alive stream keeps no head buffer
  line_start_ = 0;

  if (tunnel) {
    state_ = state::passthrough;
  } else if (te.chunked) {
    state_ = state::chunk_size;
    line_.clear();
  } else if (content_length && *content_length > 0) {
    state_ = state::body_length;
    remaining_ = *content_length;
  } else {
    state_ = state::head;
  }
}

std::size_t http_rewriter::on_line_state(std::span<const std::byte> in,
                                         std::vector<std::byte>& out) {
  // Framing lines are collected and emitted verbatim once complete and checked.
  const std::string_view chars = as_chars(in);
  const std::size_t lf = chars.find('\n');
  const std::size_t take = lf == std::string_view::npos ? chars.size() : lf + 1;
  line_.append(chars.substr(0, take));
  switch (state_) {
    case state::chunk_size:
      if (line_.size() > max_chunk_line) {
        refuse(rewrite_verdict::bad_request, "chunk-size line over 4 KiB");
        return take;
      }
      break;
    case state::chunk_end:
      if (line_.size() > max_chunk_end) {
        refuse(rewrite_verdict::bad_request, "no line end after chunk data");
        return take;
      }
      break;
    default:  // trailers
      if (line_.size() > opts_.max_head - std::min(opts_.max_head, trailer_bytes_)) {
        refuse(rewrite_verdict::head_too_large,
               "trailer section over " + std::to_string(opts_.max_head) + " bytes");
        return take;
      }
      break;
  }
  if (lf != std::string_view::npos) {
    finish_line(out);
  }
  return take;
}

void http_rewriter::finish_line(std::vector<std::byte>& out) {
  const std::string_view l = http::line_content(line_);
  switch (state_) {
    case state::chunk_size: {
      const std::optional<std::uint64_t> n = parse_chunk_size(l);
      if (!n) {
        refuse(rewrite_verdict::bad_request, "bad chunk-size line");
        return;
      }
      if (*n == 0) {
        state_ = state::trailers;
        trailer_bytes_ = 0;
      } else {
        state_ = state::chunk_data;
        remaining_ = *n;
      }
      break;
    }
    case state::chunk_end:
      if (!l.empty()) {
        refuse(rewrite_verdict::bad_request, "no line end after chunk data");
        return;
      }
      state_ = state::chunk_size;
      break;
    case state::trailers:
      if (l.empty()) {
        state_ = state::head;  // the request is complete
      } else if (const char* problem = header_line_problem(l); problem != nullptr) {
        refuse(rewrite_verdict::bad_request, std::string("trailer: ") + problem);
        return;
      }
      trailer_bytes_ += line_.size();
      break;
    default:
      break;
  }
  append(out, line_);
  line_.clear();
}

void http_rewriter::refuse(rewrite_verdict v, std::string reason) {
  verdict_ = v;
  state_ = state::refused;
  reason_ = std::move(reason);
  head_ = std::string();
  line_ = std::string();
  line_start_ = 0;
  switch (v) {
    case rewrite_verdict::blocked:
      // pagekite.py's answer: its "unavailable" page from the BE with code 500.
      reply_ = wire::format_firewall_page(opts_.uuid, opts_.kite_name);
      break;
    case rewrite_verdict::bad_request:
    case rewrite_verdict::head_too_large:
      reply_ = wire::format_refused_request_page(
          opts_.uuid, opts_.kite_name, v == rewrite_verdict::head_too_large, reason_);
      break;
    case rewrite_verdict::unauthorized:  // the 401 page is ready since the constructor
    case rewrite_verdict::pass:
      break;
  }
}

}  // namespace kiteline::connector
