// link: the small operations on the tunnel's transport that are not reads or writes (the prompt
// ACK, closing, closing once flushed). Kept apart from link.cpp for its size.
#include "tunnel/link.hpp"

#include <variant>

#include "net/quick_ack.hpp"

namespace kiteline::tunnel {

void link::ack_partial_frame() {
  if (!opts_.quick_ack || closed_ || decoder_.at_frame_boundary()) {
    return;
  }
  ++stats_.quick_acks;
  if (auto* t = std::get_if<tls::transport>(&tunnel_)) {
    net::quick_ack(t->socket());
  }
}

void link::tunnel_close() noexcept {
  if (auto* t = std::get_if<tls::transport>(&tunnel_)) {
    t->close();
  } else {
    std::get<1>(tunnel_)->close();
  }
}

void link::close_when_flushed(const std::string& why, std::chrono::milliseconds limit) {
  if (closed_ || close_when_drained_) {
    return;
  }
  close_when_drained_ = true;
  drain_reason_ = why;
  drain_deadline_ = std::chrono::steady_clock::now() + limit;
  wake_tunnel_writer_.notify();
}

}  // namespace kiteline::tunnel
