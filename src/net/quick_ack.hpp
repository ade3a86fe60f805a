// Acknowledging received TCP data at once instead of after the delayed-ACK timer.
#pragma once

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "net/asio.hpp"

namespace kiteline::net {

/// Sends the ACK for everything read from `sock` now, if the kernel was holding it back
/// (Linux: TCP_QUICKACK leaves the "interactive" delayed-ACK mode and flushes a pending ACK once
/// the receive queue is empty; the kernel goes back to delaying ACKs by itself once we send, so
/// this is a one-shot). A peer that writes a small segment and then waits for its ACK (Nagle
/// without TCP_NODELAY, as libpagekite writes a chunk's head and then its body) would otherwise
/// wait up to 40 ms. One setsockopt; no-op where the option does not exist. Errors are ignored:
/// the worst outcome is the delayed ACK we would have had anyway.
inline void quick_ack(tcp::socket& sock) noexcept {
#ifdef TCP_QUICKACK
  const int one = 1;
  (void)::setsockopt(sock.native_handle(), IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
#else
  (void)sock;
#endif
}

}  // namespace kiteline::net
