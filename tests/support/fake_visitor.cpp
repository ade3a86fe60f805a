#include "support/fake_visitor.hpp"

#include <cstdlib>

#include "core/text.hpp"
#include "wire/head.hpp"

namespace kiteline::test {

std::string http_response::header(std::string_view name) const {
  wire::line_reader lines(head);
  std::string_view line;
  (void)lines.next(line);  // status line
  while (lines.next(line)) {
    auto f = wire::split_header_line(line);
    if (f && ascii_iequals(f->name, name)) {
      return std::string(f->value);
    }
  }
  return {};
}

std::string http_get(std::string_view host, std::string_view path, std::string_view extra) {
  std::string r = "GET ";
  r += path;
  r += " HTTP/1.1\r\nHost: ";
  r += host;
  r += "\r\n";
  r += extra;
  r += "\r\n";
  return r;
}

http_response read_response(test_socket& s, milliseconds timeout) {
  http_response out;
  const auto deadline = clock::now() + timeout;
  out.head = s.read_head(timeout);
  if (out.head.empty()) {
    read_status st{};
    auto rest = s.read_to_eof(st, std::chrono::duration_cast<milliseconds>(deadline - clock::now()));
    out.body = std::move(rest);
    out.eof = st == read_status::eof;
    return out;
  }
  if (out.head.rfind("HTTP/1.", 0) == 0 && out.head.size() > 12) {
    out.status = std::atoi(out.head.c_str() + 9);
  }
  auto cl = out.header("Content-Length");
  auto left = std::chrono::duration_cast<milliseconds>(deadline - clock::now());
  if (!cl.empty()) {
    out.body = s.read_exact(std::strtoull(cl.c_str(), nullptr, 10), left);
  } else {
    read_status st{};
    out.body = s.read_to_eof(st, left);
    out.eof = st == read_status::eof;
  }
  return out;
}

http_response http_exchange(std::uint16_t port, std::string_view request, milliseconds timeout) {
  test_socket s;
  if (!s.connect(port) || !s.send_all(request)) {
    return {};
  }
  auto r = read_response(s, timeout);
  if (!r.eof) {
    r.eof = s.wait_closed(milliseconds(2000));
  }
  return r;
}

}  // namespace kiteline::test
