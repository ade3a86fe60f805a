// The relay's memory of used challenge tokens: each token is accepted once (hardening issue,
// item 3). Pure apart from a mutex: time is an argument, nothing is read from a clock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <queue>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace kiteline::relay {

/// Tokens already used to authenticate a kite, each kept until it expires (after that
/// wire::check_token refuses it anyway). Bounded: when `capacity` live tokens are stored, new
/// ones are refused until some expire (fail closed: forgetting a live token would reopen the
/// replay). One book serves every worker: a token issued on one worker may be signed on a
/// connection another worker accepted (Flow A), so every call takes the internal lock. Any
/// thread.
class token_book {
 public:
  /// 65536 tokens used within one token lifetime (180 s) is ~360 kite authentications a
  /// second, far above a relay's reconnect storms; at most a few MiB of memory.
  static constexpr std::size_t default_capacity = std::size_t{1} << 16U;

  enum class outcome : std::uint8_t {
    accepted,  ///< first use: recorded until its expiry
    reused,    ///< recorded already and not yet expired: refuse the kite
    full,      ///< not recorded (capacity live tokens): refuse the kite, retry later
  };

  explicit token_book(std::size_t capacity = default_capacity) : capacity_(capacity) {}

  /// Drops the tokens expired at `now` (expires_at <= now), then records `token` as used until
  /// `expires_at` unless it is recorded already. Call only after the kite's signature over the
  /// token verified (so only authenticated rounds fill the book) and with `expires_at` > `now`
  /// (wire::check_token's expires_at of a valid token); `now` must not go backwards between calls.
  [[nodiscard]] outcome accept(std::string_view token, std::uint64_t expires_at,
                               std::uint64_t now);

  /// Live tokens recorded (after the last accept's pruning).
  [[nodiscard]] std::size_t size() const;
  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }

 private:
  void prune(std::uint64_t now);

  using entry = std::pair<std::uint64_t, std::string>;  // expires_at, token
  const std::size_t capacity_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::uint64_t> expiry_;  // token -> expires_at
  std::priority_queue<entry, std::vector<entry>, std::greater<>> by_expiry_;  // earliest first
};

}  // namespace kiteline::relay
