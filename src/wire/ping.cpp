#include "wire/ping.hpp"

#include "core/text.hpp"

namespace kiteline::wire {
namespace {

constexpr std::string_view ping_reply_status = "HTTP/1.1 503 Unavailable";

}  // namespace

std::string_view ping_request() noexcept {
  return "HEAD /ping HTTP/1.1\r\nHost: ping.pagekite\r\n\r\n";
}

bool is_ping_request(std::string_view peeked) noexcept {
  return peeked.find("\nHost: ping.pagekite") != std::string_view::npos;
}

bool is_ping_request(std::span<const std::byte> peeked) noexcept {
  return is_ping_request(
      std::string_view(reinterpret_cast<const char*>(peeked.data()), peeked.size()));
}

std::string format_ping_reply(std::string_view uuid, bool overloaded) {
  return format_unavailable_page(uuid, "http", "ping.pagekite", "fe", false, overloaded);
}

std::string format_pong_reply(std::string_view request_head) {
  const auto sp1 = request_head.find(' ');
  const auto sp2 = request_head.find(' ', sp1 + 1);
  return "PONG " + std::string(request_head.substr(sp1 + 1, sp2 - sp1 - 1)) + "\r\n\r\n";
}

result<ping_reply> check_ping_reply(std::string_view bytes) {
  if (!bytes.starts_with(ping_reply_status)) {
    return errc::bad_ping_reply;
  }
  ping_reply reply;
  line_reader lines(bytes);
  std::string_view line;
  lines.next(line);  // the status line
  while (lines.next(line) && !line.empty()) {
    const std::optional<header_field> f = split_header_line(line);
    if (!f) {
      continue;  // tolerated: BEs only look for the two headers below
    }
    if (ascii_iequals(f->name, "X-PageKite-UUID")) {
      reply.uuid = f->value;
    } else if (ascii_iequals(f->name, "X-PageKite-Overloaded")) {
      reply.overloaded = true;
    }
  }
  return reply;
}

std::string format_connect_preamble(std::string_view name) {
  std::string out = "CONNECT ";
  out.append(name).append(":443 HTTP/1.1\r\nHost: ").append(name).append("\r\n\r\n");
  return out;
}

std::string_view connect_established_reply() noexcept {
  return "HTTP/1.0 200 Connection Established\r\n\r\n";
}

result<head_scan> check_connect_reply(std::string_view bytes, std::size_t max_head) noexcept {
  // Both accepted prefixes share "HTTP/1." and " 200"; check what has arrived so far.
  constexpr std::string_view shape = "HTTP/1.x 200";
  const std::size_t n = std::min(bytes.size(), shape.size());
  for (std::size_t i = 0; i < n; ++i) {
    if (i == 7 ? (bytes[i] != '0' && bytes[i] != '1') : bytes[i] != shape[i]) {
      return errc::bad_connect_reply;
    }
  }
  if (bytes.size() > shape.size() && bytes[shape.size()] != ' ' &&
      bytes[shape.size()] != '\r' && bytes[shape.size()] != '\n') {
    return errc::bad_connect_reply;
  }
  const result<head_scan> scan = find_head_end(bytes, max_head);
  if (scan && !scan->need_more() && bytes.find('\n') < shape.size()) {
    return errc::bad_connect_reply;  // the status line ended before " 200"
  }
  return scan;
}

}  // namespace kiteline::wire
