// connector relay_ping: measures one relay address with the PageKite relay ping (spec §3).
#pragma once

#include <chrono>
#include <string>
#include <system_error>

#include "net/asio.hpp"

namespace kiteline::connector {

/// The outcome of one relay ping.
struct ping_outcome {
  std::error_code error;              ///< set when the relay did not answer correctly
  std::string why;                    ///< human reason when `error` is set
  std::string uuid;                   ///< X-PageKite-UUID ("" when absent)
  bool overloaded = false;            ///< X-PageKite-Overloaded present
  std::chrono::microseconds rtt{0};   ///< connect + request + reply
};

/// Connects to `ep`, sends wire::ping_request() and reads the reply (up to 1 KiB, until the
/// blank line or the relay closes), all within `timeout`. The reply must start with
/// "HTTP/1.1 503 Unavailable" (wire::check_ping_reply). Runs on `ex` (the caller's executor);
/// never throws on I/O errors.
net::awaitable<ping_outcome> ping_relay(asio::any_io_executor ex, net::tcp::endpoint ep,
                                        std::chrono::milliseconds timeout);
}  // namespace kiteline::connector
