// The relay's access-log lines for visitors that never became a stream (canned replies,
// refusals, timeouts): server::impl::log_visitor. Routed streams are logged by their tunnel
// (tunnel_acceptor.cpp, hooks::stream_finished).
#include <chrono>

#include "relay/server_impl.hpp"

namespace kiteline::relay {

void server::impl::log_visitor(std::chrono::steady_clock::time_point started,
                               const std::string& peer, std::uint16_t peer_port,
                               std::string_view kite, std::string_view proto, std::uint16_t port,
                               std::string_view head, std::string_view reply,
                               std::string_view note, std::uint64_t more_in,
                               std::uint64_t more_out) {
  const auto& sink = access_log();
  if (!sink) {
    return;
  }
  const auto took = std::chrono::steady_clock::now() - started;
  accesslog::record r;
  r.time = std::chrono::system_clock::now() -
           std::chrono::duration_cast<std::chrono::system_clock::duration>(took);
  r.role = "relay";
  r.remote_ip = peer;
  r.remote_port = peer_port;
  r.kite = kite;
  r.proto = proto;
  r.port = port;
  if (auto line = accesslog::parse_request_line(head)) {
    r.method = std::move(line->method);
    r.path = std::move(line->path);
  }
  r.status = accesslog::parse_status_line(reply);
  r.bytes_in = head.size() + more_in;
  r.bytes_out = reply.size() + more_out;
  r.duration = std::chrono::duration_cast<std::chrono::microseconds>(took);
  r.note = note;
  sink->write(r);
}

}  // namespace kiteline::relay
