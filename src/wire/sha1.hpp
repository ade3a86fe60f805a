// A small self-contained SHA-1 (FIPS 180-4) for PageKite signatures; no OpenSSL in the codec.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "core/text.hpp"

namespace kiteline::wire {

/// Incremental SHA-1. SHA-1 is broken for collision resistance; PageKite uses it only because
/// the protocol requires it (spec §4.3). Not for new designs.
/// Usage: update() any number of times, then digest() once (the object is then spent; call
/// reset() to reuse it). Pure: no allocation, no globals.
class sha1 {
 public:
  static constexpr std::size_t digest_size = 20;
  using digest_type = std::array<std::uint8_t, digest_size>;

  sha1() noexcept { reset(); }

  /// Starts a new message.
  void reset() noexcept;
  /// Appends bytes to the message.
  void update(std::span<const std::byte> bytes) noexcept;
  /// Appends the bytes of a string (no terminator).
  void update(std::string_view text) noexcept;
  /// Finishes the message and returns the 20-byte digest.
  [[nodiscard]] digest_type digest() noexcept;
  /// Finishes the message and returns the 40-char lower-case hex digest.
  [[nodiscard]] std::string hex_digest();

 private:
  void compress(const std::uint8_t* block) noexcept;
  void update_raw(const std::uint8_t* data, std::size_t n) noexcept;

  std::array<std::uint32_t, 5> h_{};
  std::array<std::uint8_t, 64> block_{};
  std::size_t block_len_ = 0;
  std::uint64_t total_len_ = 0;  ///< bytes hashed so far
};

/// SHA1HEX(text) of the spec: the 40-char lower-case hex digest.
[[nodiscard]] std::string sha1_hex(std::string_view text);

}  // namespace kiteline::wire
