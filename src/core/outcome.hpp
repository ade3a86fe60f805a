// outcome<T>: result<T> for the control plane (style §6.6): a value, or a failure that carries
// a module's error code together with the human detail its message needs (the file name, the
// OpenSSL reason). The data plane keeps the leaner result<T>.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <variant>

namespace kiteline {

/// An error code (a module's errc) and the text to show for it. `message()` is that text, word
/// for word what a user or a log line sees; the code says what kind of failure it was.
class failure {
 public:
  failure(std::error_code code, std::string detail) : code_(code), detail_(std::move(detail)) {}
  template <typename E, typename = std::enable_if_t<std::is_error_code_enum_v<E>>>
  failure(E e, std::string detail) : code_(make_error_code(e)), detail_(std::move(detail)) {}

  [[nodiscard]] std::error_code code() const noexcept { return code_; }
  /// The text to show: the detail, or the code's own message when there is none.
  [[nodiscard]] std::string message() const { return detail_.empty() ? code_.message() : detail_; }
  /// The same failure with `prefix` put before its text (context a caller adds: "FILE: ").
  [[nodiscard]] failure prefixed(std::string_view prefix) const {
    return {code_, std::string(prefix) + message()};
  }

  friend bool operator==(const failure& f, std::error_code ec) noexcept { return f.code_ == ec; }
  template <typename E, typename = std::enable_if_t<std::is_error_code_enum_v<E>>>
  friend bool operator==(const failure& f, E e) noexcept {
    return f.code_ == make_error_code(e);
  }

 private:
  std::error_code code_;
  std::string detail_;
};

/// Holds either a T or a failure. Accessing the wrong alternative is a programming error
/// (asserts in debug builds).
template <typename T>
class [[nodiscard]] outcome {
 public:
  using value_type = T;

  outcome(const T& v) : v_(std::in_place_index<0>, v) {}              // NOLINT implicit
  outcome(T&& v) : v_(std::in_place_index<0>, std::move(v)) {}         // NOLINT implicit
  outcome(failure f) : v_(std::in_place_index<1>, std::move(f)) {}     // NOLINT implicit

  [[nodiscard]] bool has_value() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  T& value() & { assert(has_value()); return std::get<0>(v_); }
  const T& value() const& { assert(has_value()); return std::get<0>(v_); }
  T&& value() && { assert(has_value()); return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  /// The failure. Precondition: !has_value().
  [[nodiscard]] const failure& error() const& { assert(!has_value()); return std::get<1>(v_); }

 private:
  std::variant<T, failure> v_;
};

/// outcome<void>: success or a failure.
template <>
class [[nodiscard]] outcome<void> {
 public:
  outcome() = default;
  outcome(failure f) : f_(std::move(f)) {}  // NOLINT implicit
  [[nodiscard]] bool has_value() const noexcept { return !f_.has_value(); }
  explicit operator bool() const noexcept { return has_value(); }
  /// The failure. Precondition: !has_value().
  [[nodiscard]] const failure& error() const& { assert(!has_value()); return *f_; }

 private:
  std::optional<failure> f_;
};

}  // namespace kiteline
