#include "accesslog/stream_record.hpp"

#include <chrono>

namespace kiteline::accesslog {

record stream_record(side s, const tunnel::stream_note& note, std::uint64_t read,
                     std::uint64_t delivered, std::string tunnel) {
  record r;
  r.time = note.opened;
  r.role = s == side::relay ? "relay" : "connector";
  r.remote_ip = note.rip;
  r.remote_port = note.rport;
  r.kite = note.host;
  r.proto = note.proto;
  r.port = note.port;
  const bool to_visitor_is_read = s == side::connector;
  r.bytes_in = to_visitor_is_read ? delivered : read;
  r.bytes_out = to_visitor_is_read ? read : delivered;
  const std::string& request = to_visitor_is_read ? note.head_delivered : note.head_read;
  const std::string& response = to_visitor_is_read ? note.head_read : note.head_delivered;
  const bool http = (note.proto.rfind("http", 0) == 0 && note.proto != "https") ||
                    note.proto == "websocket";
  if (http) {
    if (auto line = parse_request_line(request)) {
      r.method = std::move(line->method);
      r.path = std::move(line->path);
    }
    r.status = parse_status_line(response);
  }
  r.duration = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - note.opened_steady);
  r.tunnel = std::move(tunnel);
  return r;
}

}  // namespace kiteline::accesslog
