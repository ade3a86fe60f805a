// config::secret: a shared secret that never prints itself (rathole MaskedString, style §9).
#pragma once

#include <iosfwd>
#include <string>
#include <utility>

namespace kiteline::config {

/// A string that prints and streams as `***`. The value is reachable only through reveal(),
/// so a secret never ends up in a log line or a test failure message by accident.
class secret {
 public:
  secret() = default;
  explicit secret(std::string value) : value_(std::move(value)) {}

  /// The secret itself. Call it only where the value is really needed (signing, comparing).
  [[nodiscard]] const std::string& reveal() const noexcept { return value_; }
  /// True when no secret was given.
  [[nodiscard]] bool empty() const noexcept { return value_.empty(); }
  /// Always "***" (or "" when empty), whatever the value.
  [[nodiscard]] std::string to_string() const { return value_.empty() ? "" : "***"; }

  friend bool operator==(const secret&, const secret&) = default;

 private:
  std::string value_;
};

/// Streams `***` (nothing when the secret is empty); also what GoogleTest prints.
std::ostream& operator<<(std::ostream& os, const secret& s);

}  // namespace kiteline::config
