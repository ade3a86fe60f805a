#include "connector/dyndns.hpp"

#include "core/text.hpp"
#include "http/head.hpp"

#include <algorithm>
#include <array>

namespace kiteline::connector {
namespace {

bool unreserved(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

std::string_view value_of(std::string_view name, const dyndns_values& v, std::string& scratch) {
  if (name == "domain") {
    return v.domain;
  }
  if (name == "ips") {
    return v.ips;
  }
  if (name == "ip") {
    return std::string_view(v.ips).substr(0, v.ips.find(','));
  }
  if (name == "sign") {
    return v.sign;
  }
  if (name == "user" || name == "pass") {
    scratch = dyndns_percent_encode(name == "user" ? v.user : v.pass);
    return scratch;
  }
  return {};
}

}  // namespace

std::string dyndns_percent_encode(std::string_view text) {
  static constexpr std::string_view digits = "0123456789ABCDEF";
  std::string out;
  for (const char c : text) {
    if (unreserved(c)) {
      out += c;
    } else {
      const auto b = static_cast<unsigned char>(c);
      out += '%';
      out += digits[b >> 4U];
      out += digits[b & 15U];
    }
  }
  return out;
}

std::string dyndns_percent_decode(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && hex_digit_value(text[i + 1]) >= 0 &&
        hex_digit_value(text[i + 2]) >= 0) {
      out += static_cast<char>(hex_digit_value(text[i + 1]) * 16 + hex_digit_value(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

std::string dyndns_expand(std::string_view t, const dyndns_values& v) {
  std::string out;
  std::string scratch;
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (t[i] != '%') {
      out += t[i];
      continue;
    }
    if (i + 1 < t.size() && t[i + 1] == '%') {
      out += '%';
      ++i;
      continue;
    }
    const auto close = t.find(")s", i);
    if (i + 1 < t.size() && t[i + 1] == '(' && close != std::string_view::npos) {
      out += value_of(t.substr(i + 2, close - i - 2), v, scratch);
      i = close + 1;
    } else {
      out += '%';
    }
  }
  return out;
}

std::vector<dyndns_update> dyndns_plan(const std::vector<dyndns_kite>& kites,
                                       const std::vector<dyndns_relay>& relays) {
  struct domain_ips {
    std::string domain;
    std::string secret;
    std::vector<std::string> ips;
  };
  std::vector<domain_ips> domains;
  for (const auto& k : kites) {
    auto d = std::find_if(domains.begin(), domains.end(),
                          [&](const domain_ips& x) { return x.domain == k.domain; });
    if (d == domains.end()) {
      domains.push_back({k.domain, k.secret, {}});
      d = std::prev(domains.end());
    }
    std::vector<std::string> preferred;
    std::vector<std::string> others;
    for (const auto& r : relays) {
      if (r.ip.empty() || std::find(r.kites.begin(), r.kites.end(), k.id) == r.kites.end()) {
        continue;
      }
      (r.preferred ? preferred : others).push_back(r.ip);
    }
    for (const auto& ip : preferred.empty() ? others : preferred) {
      if (std::find(d->ips.begin(), d->ips.end(), ip) == d->ips.end()) {
        d->ips.push_back(ip);
      }
    }
  }
  std::vector<dyndns_update> out;
  for (const auto& d : domains) {
    if (d.ips.empty()) {
      continue;
    }
    std::string ips;
    for (const auto& ip : d.ips) {
      ips += (ips.empty() ? "" : ",") + ip;
    }
    out.push_back({d.domain, std::move(ips), d.secret});
  }
  return out;
}

std::chrono::milliseconds dyndns_backoff(unsigned failures, std::chrono::milliseconds base) {
  return base * (1U << std::min(5U, failures));
}

std::vector<dyndns_update> dyndns_state::due(const std::vector<dyndns_update>& plan,
                                             clock::time_point now) {
  if (failures_ > 0 && now < retry_at_) {
    return {};
  }
  std::vector<std::string> still;
  std::vector<dyndns_update> out;
  for (const auto& u : plan) {
    const std::string p = u.payload();
    if (std::find(sent_.begin(), sent_.end(), p) != sent_.end()) {
      still.push_back(p);
    } else {
      out.push_back(u);
    }
  }
  sent_ = std::move(still);
  return out;
}

void dyndns_state::succeeded(const dyndns_update& u) {
  const std::string p = u.payload();
  if (std::find(sent_.begin(), sent_.end(), p) == sent_.end()) {
    sent_.push_back(p);
  }
}

void dyndns_state::round_done(bool failed, clock::time_point now) {
  if (!failed) {
    failures_ = 0;
    return;
  }
  failures_ = std::min(failures_ + 1, 1000U);
  retry_at_ = now + dyndns_backoff(failures_, base_);
}

std::optional<dyndns_state::clock::time_point> dyndns_state::retry_at() const {
  if (failures_ == 0) {
    return std::nullopt;
  }
  return retry_at_;
}

std::optional<dyndns_url> parse_dyndns_url(std::string_view url) {
  dyndns_url out;
  std::string_view rest;
  if (url.starts_with("http://")) {
    rest = url.substr(7);
  } else if (url.starts_with("https://")) {
    out.https = true;
    out.port = 443;
    rest = url.substr(8);
  } else {
    return std::nullopt;
  }
  for (const char c : url) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return std::nullopt;
    }
  }
  const auto slash = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, slash);
  std::string_view target = slash == std::string_view::npos ? "/" : rest.substr(slash);
  if (const auto hash = target.find('#'); hash != std::string_view::npos) {
    target = target.substr(0, hash);
  }
  out.target = target.starts_with('/') ? std::string(target) : "/" + std::string(target);
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
    const std::string_view userinfo = authority.substr(0, at);
    const auto colon = userinfo.find(':');
    out.user = dyndns_percent_decode(userinfo.substr(0, colon));
    if (colon != std::string_view::npos) {
      out.pass = dyndns_percent_decode(userinfo.substr(colon + 1));
    }
    authority = authority.substr(at + 1);
  }
  out.host_header = std::string(authority);
  std::string_view port_text;
  if (authority.starts_with('[')) {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) {
      return std::nullopt;
    }
    out.host = std::string(authority.substr(1, close - 1));
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty() && !after.starts_with(':')) {
      return std::nullopt;
    }
    port_text = after.empty() ? after : after.substr(1);
    if (after == ":") {
      return std::nullopt;
    }
  } else {
    const auto colon = authority.find(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      if (port_text.empty()) {
        return std::nullopt;
      }
    }
  }
  if (out.host.empty()) {
    return std::nullopt;
  }
  if (!port_text.empty()) {
    unsigned port = 0;
    for (const char c : port_text) {
      if (c < '0' || c > '9' || port > 6553) {
        return std::nullopt;
      }
      port = port * 10 + static_cast<unsigned>(c - '0');
    }
    if (port == 0 || port > 65535) {
      return std::nullopt;
    }
    out.port = static_cast<std::uint16_t>(port);
  }
  return out;
}

std::string format_dyndns_request(const dyndns_url& url) {
  std::string out = "GET " + url.target + " HTTP/1.0\r\nHost: " + url.host_header +
                    "\r\nUser-Agent: kiteline\r\nConnection: close\r\n";
  if (!url.user.empty()) {
    out += "Authorization: Basic " + base64_encode(url.user + ":" + url.pass) + "\r\n";
  }
  out += "\r\n";
  return out;
}

dyndns_reply parse_dyndns_reply(std::string_view bytes, bool eof) {
  dyndns_reply out;
  const std::size_t head_end = http::find_head_end(bytes);
  if (head_end == std::string_view::npos) {
    if (eof || bytes.size() >= dyndns_reply_limit) {
      out.error = bytes.empty() ? "no reply" : "reply without a complete HTTP head";
    }
    return out;
  }
  http::line_reader lines(bytes.substr(0, head_end));
  std::string_view status_line;
  lines.next(status_line);
  // "HTTP/1.x SP 3DIGIT [SP reason]"; a status is 100-999 (RFC 9110 15: the first digit is the
  // class, 1-5 in use), so "020" is not one.
  if (status_line.size() < 12 || !http::parse_http1_version(status_line.substr(0, 8)) ||
      status_line[8] != ' ' || (status_line.size() > 12 && status_line[12] != ' ') ||
      status_line[9] == '0' ||
      !std::all_of(status_line.begin() + 9, status_line.begin() + 12,
                   [](char c) { return c >= '0' && c <= '9'; })) {
    out.error = "not an HTTP reply";
    return out;
  }
  out.status =
      (status_line[9] - '0') * 100 + (status_line[10] - '0') * 10 + (status_line[11] - '0');
  std::optional<std::uint64_t> length;
  std::string_view line;
  while (lines.next(line)) {
    if (line.empty()) {
      continue;
    }
    const auto f = http::parse_field_line(line);
    if (f.error != http::field_error::none) {
      out.error = "bad header line in the reply";
      return out;
    }
    if (ascii_iequals(f.f.name, "transfer-encoding")) {
      out.error = "reply with Transfer-Encoding to an HTTP/1.0 request";
      return out;
    }
    if (ascii_iequals(f.f.name, "content-length")) {
      length = http::parse_content_length(f.f.value, dyndns_reply_limit);
      if (!length) {
        out.error = "bad Content-Length in the reply";
        return out;
      }
    }
  }
  std::string_view body = bytes.substr(head_end);
  if (length) {
    if (body.size() < *length) {
      if (eof) {
        out.error = "reply shorter than its Content-Length";
      }
      return out;
    }
    body = body.substr(0, *length);
  } else if (!eof && bytes.size() < dyndns_reply_limit) {
    return out;  // delimited by the end of the connection
  }
  out.complete = true;
  out.body = std::string(body.substr(0, dyndns_reply_limit));
  return out;
}

bool dyndns_reply_ok(const dyndns_reply& r) noexcept {
  return r.complete && r.error.empty() && r.status >= 200 && r.status < 300 &&
         (r.body.starts_with("good") || r.body.starts_with("nochg"));
}

std::string dyndns_reply_summary(const dyndns_reply& r) {
  if (!r.error.empty()) {
    return r.error;
  }
  std::string text = r.body.substr(0, std::min<std::size_t>(r.body.find('\n'), 200));
  while (!text.empty() && (text.back() == '\r' || text.back() == ' ')) {
    text.pop_back();
  }
  for (char& c : text) {
    const auto b = static_cast<unsigned char>(c);
    if (b < 0x20 || b >= 0x7f) {
      c = '?';
    }
  }
  return "HTTP " + std::to_string(r.status) + ": " + text;
}

}  // namespace kiteline::connector
