// A byte stream a link can carry its tunnel over in place of a tls::transport.
#pragma once

#include <cstddef>
#include <span>
#include <system_error>
#include <tuple>

#include "net/asio.hpp"

namespace kiteline::tunnel {

/// The tunnel's bytes over something other than a socket: the unit tests' in-memory stream
/// (tests/unit/tunnel/memory_transport.hpp), which fails or stalls at any byte. Production
/// tunnels are tls::transports; the link reads and writes them without this interface.
/// Operations as tls::transport's, on the executor it names; one read and one write at a time.
class byte_stream {
 public:
  byte_stream() = default;
  byte_stream(const byte_stream&) = delete;
  byte_stream& operator=(const byte_stream&) = delete;
  virtual ~byte_stream() = default;

  [[nodiscard]] virtual asio::any_io_executor get_executor() = 0;
  /// At least one byte, or an error (asio::error::eof, or 0 bytes, at the end).
  virtual net::awaitable<std::tuple<std::error_code, std::size_t>> read_some(
      std::span<std::byte> buf) = 0;
  /// Writes everything or fails.
  virtual net::awaitable<std::error_code> write(asio::const_buffer buf) = 0;
  /// Ends the stream at once: pending operations complete with an error.
  virtual void close() noexcept = 0;
};

}  // namespace kiteline::tunnel
