// Giving buffers back.
#pragma once

#include <cstddef>
#include <cstring>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>
#include <vector>

namespace kiteline::core {

/// An allocator whose value-initialisation is default-initialisation: vector::resize() of bytes
/// leaves them as they are instead of zeroing them, for buffers that are written right after.
template <class T, class Base = std::allocator<T>>
struct default_init_allocator : Base {
  using Base::Base;
  template <class U>
  struct rebind {
    using other =
        default_init_allocator<U, typename std::allocator_traits<Base>::template rebind_alloc<U>>;
  };
  template <class U>
  void construct(U* p) noexcept(std::is_nothrow_default_constructible_v<U>) {
    ::new (static_cast<void*>(p)) U;
  }
  template <class U, class... Args>
  void construct(U* p, Args&&... args) {
    std::allocator_traits<Base>::construct(static_cast<Base&>(*this), p,
                                           std::forward<Args>(args)...);
  }
};

/// Bytes that resize() leaves uninitialised (see default_init_allocator).
using byte_buffer = std::vector<std::byte, default_init_allocator<std::byte>>;

/// Appends `n` bytes at `p` to `v` with one memcpy. (vector::insert with an allocator that has
/// its own construct() copies element by element.)
inline void append(byte_buffer& v, const void* p, std::size_t n) {
  const std::size_t at = v.size();
  v.resize(at + n);
  if (n > 0) {
    std::memcpy(v.data() + at, p, n);
  }
}

/// Empties a container and frees its storage. (`v = {}` does not: for std::vector it picks
/// the initializer_list assignment, which keeps the capacity.)
template <class Container>
void release(Container& c) noexcept {
  Container().swap(c);
}

}  // namespace kiteline::core
