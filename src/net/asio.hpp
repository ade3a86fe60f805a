// Common Asio includes and aliases for kiteline's I/O code (never included by the pure codec).
#pragma once

#include <cstddef>
#include <limits>
#include <system_error>

#include <asio.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/ssl.hpp>

namespace kiteline::net {

using tcp = asio::ip::tcp;
template <typename T = void>
using awaitable = asio::awaitable<T>;

/// Completion token for coroutines that never throws on I/O errors: results come back as a
/// tuple (error_code first), per style §6.1.
inline constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);

/// Completion condition for asio::async_write that hands the socket everything still unsent in
/// each call. asio's default (transfer_all) caps every write_some at 64 KiB
/// (default_max_transfer_size), so a 256 KiB buffer cost four send calls with a reactor poll
/// between each; on a bulk transfer that is most of the sender's system calls.
struct transfer_whole {
  std::size_t operator()(const std::error_code& ec, std::size_t /*sent*/) const noexcept {
    return ec ? 0 : std::numeric_limits<std::size_t>::max();
  }
};

}  // namespace kiteline::net
