// connector::request_ring: the last streams a relay opened on one tunnel, for the console's
// "recent requests" (a small bounded ring, used on the tunnel's executor only: no lock).
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <string>
#include <vector>

namespace kiteline::connector {

/// One stream the relay opened.
struct request_entry {
  std::chrono::system_clock::time_point when;
  std::string relay;   ///< "host:port"
  std::string kite;    ///< "proto:host:port" as the relay named it (peer bytes: escape them)
  std::string remote;  ///< the visitor's address as the relay reported it
  std::string outcome; ///< "origin HOST:PORT", or why it was refused
};

/// The last `capacity` entries, newest first. One executor (the tunnel's).
class request_ring {
 public:
  explicit request_ring(std::size_t capacity = 32) : capacity_(capacity) {}
  void note(request_entry e) {
    ring_.push_front(std::move(e));
    while (ring_.size() > capacity_) {
      ring_.pop_back();
    }
  }
  [[nodiscard]] std::vector<request_entry> recent() const { return {ring_.begin(), ring_.end()}; }

 private:
  std::size_t capacity_;
  std::deque<request_entry> ring_;
};

}  // namespace kiteline::connector
