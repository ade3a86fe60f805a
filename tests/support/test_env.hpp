// Shared integration-test basics (waits are in support/wait.hpp): byte helpers, SHA-256 and the
// deterministic payload pattern used by fake visitors, connectors and origins.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "support/wait.hpp"

namespace kiteline::test {

/// True when `line` contains every one of `parts` (log-line matching).
[[nodiscard]] bool has_all(std::string_view line, std::initializer_list<std::string_view> parts);

/// Bytes <-> text views.
[[nodiscard]] std::span<const std::byte> as_bytes(std::string_view s) noexcept;
[[nodiscard]] std::string_view as_text(std::span<const std::byte> b) noexcept;
[[nodiscard]] std::vector<std::byte> to_bytes(std::string_view s);

/// Lower-case hex SHA-256 (OpenSSL EVP) of `data`.
[[nodiscard]] std::string sha256_hex(std::span<const std::byte> data);

/// Incremental SHA-256 (OpenSSL EVP). Not thread-safe.
class sha256 {
 public:
  sha256();
  ~sha256();
  sha256(const sha256&) = delete;
  sha256& operator=(const sha256&) = delete;
  void update(std::span<const std::byte> data);
  /// Finishes and returns lower-case hex. Call once.
  [[nodiscard]] std::string hex();

 private:
  void* ctx_;  // EVP_MD_CTX*
};

/// A deterministic pseudo-random byte stream (xorshift64*, seeded): byte i depends only on
/// (seed, i / 8), so any range can be generated on its own and compared with what arrived.
class pattern {
 public:
  explicit pattern(std::uint64_t seed) : seed_(seed) {}
  /// Writes bytes [offset, offset + out.size()) of the stream into `out`.
  void fill(std::uint64_t offset, std::span<std::byte> out) const;
  /// Bytes [0, n) as a vector.
  [[nodiscard]] std::vector<std::byte> bytes(std::size_t n) const;
  /// SHA-256 of bytes [0, n), computed in pieces (no n-sized buffer).
  [[nodiscard]] std::string sha256_of(std::uint64_t n) const;

 private:
  std::uint64_t seed_;
};

/// VmRSS of this process in KiB (from /proc/self/status), 0 if unreadable.
[[nodiscard]] std::uint64_t rss_kib();

}  // namespace kiteline::test
