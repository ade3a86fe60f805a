// One request on one channel to the key process: send it, then wait (bounded) for its reply,
// yielding the CPU to the key process's thread first.
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "keys/key_client.hpp"

namespace kiteline::keys {

namespace {
using namespace std::chrono_literals;
constexpr auto yield_window = 2ms;  // an RSA-2048 signature takes ~0.3 ms, RSA-4096 ~2 ms
}  // namespace

outcome<std::uint32_t> exchange(int fd, std::uint8_t* buf, const key_protocol::request_head& h,
                                std::span<const std::uint8_t> in, std::vector<std::uint8_t>& out) {
  iovec iov[2] = {{const_cast<key_protocol::request_head*>(&h), sizeof h},  // NOLINT: no write
                  {const_cast<std::uint8_t*>(in.data()), in.size()}};  // NOLINT
  msghdr m{};
  m.msg_iov = iov;
  m.msg_iovlen = in.empty() ? 1 : 2;
  if (::sendmsg(fd, &m, MSG_NOSIGNAL) != static_cast<ssize_t>(sizeof h + in.size())) {
    return failure(errc::key_process_down,
                   std::string("key process channel: ") + std::strerror(errno));
  }
  // Wait for the reply without sleeping first: yield the CPU instead, for up to yield_window.
  // The channel's key-process thread follows this thread's CPU (request_head::cpu), so
  // yielding hands the CPU to it directly, and when the reply is sent this thread is still
  // runnable where it was: no wake-up of another CPU (an IPI, costly on a virtual machine),
  // no migration, three system calls per request. A long operation (RSA-4096) falls back to
  // poll().
  const auto start = std::chrono::steady_clock::now();
  ssize_t n = -1;
  for (;;) {
    n = ::recv(fd, buf, key_protocol::max_message, MSG_DONTWAIT);
    if (n >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) ||
        std::chrono::steady_clock::now() - start > yield_window) {
      break;
    }
    ::sched_yield();
  }
  pollfd p{fd, POLLIN, 0};
  const auto deadline = start + reply_timeout;
  while (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return failure(errc::key_process_down, "key process did not answer in time");
    }
    if (::poll(&p, 1, static_cast<int>(left.count())) < 0 && errno != EINTR) {
      break;
    }
    n = ::recv(fd, buf, key_protocol::max_message, MSG_DONTWAIT);
  }
  key_protocol::response_head r;
  if (n < static_cast<ssize_t>(sizeof r)) {
    return failure(errc::key_process_down,
                   n == 0  ? "key process closed the channel"
                   : n < 0 ? std::string("key process channel: ") + std::strerror(errno)
                           : "key process channel: short reply");
  }
  std::memcpy(&r, buf, sizeof r);
  if (r.length != static_cast<std::size_t>(n) - sizeof r) {
    return failure(errc::key_process_down, "key process channel: bad reply length");
  }
  out.assign(buf + sizeof r, buf + n);
  return r.status;
}

}  // namespace kiteline::keys
