// result<T>: a value or a std::error_code (style §6.1; our stand-in for std::expected).
#pragma once

#include <cassert>
#include <system_error>
#include <type_traits>
#include <utility>
#include <variant>

namespace kiteline {

/// Holds either a T or a non-zero std::error_code. Accessing the wrong alternative is a
/// programming error (asserts in debug builds); untrusted input never reaches that point
/// because callers test has_value() first.
template <typename T>
class [[nodiscard]] result {
 public:
  using value_type = T;

  result(const T& v) : v_(std::in_place_index<0>, v) {}             // NOLINT implicit
  result(T&& v) : v_(std::in_place_index<0>, std::move(v)) {}        // NOLINT implicit
  result(std::error_code ec) : v_(std::in_place_index<1>, ec) {}     // NOLINT implicit
  template <typename E, typename = std::enable_if_t<std::is_error_code_enum_v<E>>>
  result(E e) : v_(std::in_place_index<1>, make_error_code(e)) {}    // NOLINT implicit

  [[nodiscard]] bool has_value() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  T& value() & { assert(has_value()); return std::get<0>(v_); }
  const T& value() const& { assert(has_value()); return std::get<0>(v_); }
  T&& value() && { assert(has_value()); return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  /// The error; a default (zero) error_code when this holds a value.
  [[nodiscard]] std::error_code error() const noexcept {
    return has_value() ? std::error_code{} : std::get<1>(v_);
  }

 private:
  std::variant<T, std::error_code> v_;
};

/// result<void>: success or an error_code.
template <>
class [[nodiscard]] result<void> {
 public:
  result() = default;
  result(std::error_code ec) : ec_(ec) {}  // NOLINT implicit
  template <typename E, typename = std::enable_if_t<std::is_error_code_enum_v<E>>>
  result(E e) : ec_(make_error_code(e)) {}  // NOLINT implicit
  [[nodiscard]] bool has_value() const noexcept { return !ec_; }
  explicit operator bool() const noexcept { return has_value(); }
  [[nodiscard]] std::error_code error() const noexcept { return ec_; }

 private:
  std::error_code ec_;
};

}  // namespace kiteline
