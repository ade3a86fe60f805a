// A TCP socket that first replays bytes already read while sniffing, then reads the socket.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "net/asio.hpp"

namespace kiteline::net {

/// An AsyncReadStream/AsyncWriteStream over a tcp::socket whose reads first return `prefix`
/// bytes (the bytes a relay read while classifying a connection). This lets a TLS server
/// (asio::ssl::stream<prefixed_socket>) or a parser start on bytes that were already consumed.
/// Owned by one executor; not thread-safe.
class prefixed_socket {
 public:
  using executor_type = tcp::socket::executor_type;
  using lowest_layer_type = tcp::socket::lowest_layer_type;

  explicit prefixed_socket(tcp::socket&& s) : socket_(std::move(s)) {}
  prefixed_socket(tcp::socket&& s, std::span<const std::byte> prefix)
      : socket_(std::move(s)), prefix_(prefix.begin(), prefix.end()) {}

  executor_type get_executor() noexcept { return socket_.get_executor(); }
  lowest_layer_type& lowest_layer() noexcept { return socket_.lowest_layer(); }
  const lowest_layer_type& lowest_layer() const noexcept { return socket_.lowest_layer(); }
  tcp::socket& socket() noexcept { return socket_; }

  /// Puts `s` (the same connection, adopted on another executor) in place of the socket; the
  /// bytes still to be replayed stay. The old socket must have released its descriptor.
  void replace_socket(tcp::socket&& s) { socket_ = std::move(s); }

  /// Bytes still to be replayed before the socket is read.
  [[nodiscard]] std::size_t prefix_size() const noexcept { return prefix_.size() - offset_; }

  template <typename MutableBufferSequence, typename Token>
  auto async_read_some(const MutableBufferSequence& buffers, Token&& token) {
    return asio::async_initiate<Token, void(std::error_code, std::size_t)>(
        [this](auto handler, const MutableBufferSequence& bufs) {
          if (offset_ < prefix_.size()) {
            std::size_t n = asio::buffer_copy(
                bufs, asio::buffer(prefix_.data() + offset_, prefix_.size() - offset_));
            offset_ += n;
            if (offset_ == prefix_.size()) {
              prefix_.clear();
              prefix_.shrink_to_fit();
              offset_ = 0;
            }
            asio::post(socket_.get_executor(),
                       [h = std::move(handler), n]() mutable { h(std::error_code{}, n); });
            return;
          }
          socket_.async_read_some(bufs, std::move(handler));
        },
        token, buffers);
  }

  template <typename ConstBufferSequence, typename Token>
  auto async_write_some(const ConstBufferSequence& buffers, Token&& token) {
    return socket_.async_write_some(buffers, std::forward<Token>(token));
  }

 private:
  tcp::socket socket_;
  std::vector<std::byte> prefix_;
  std::size_t offset_ = 0;
};

}  // namespace kiteline::net
