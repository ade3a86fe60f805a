// Common Asio includes and aliases for kiteline's I/O code (never included by the pure codec).
#pragma once

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

}  // namespace kiteline::net
