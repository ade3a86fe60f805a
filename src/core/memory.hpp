// Giving buffers back.
#pragma once

namespace kiteline::core {

/// Empties a container and frees its storage. (`v = {}` does not: for std::vector it picks
/// the initializer_list assignment, which keeps the capacity.)
template <class Container>
void release(Container& c) noexcept {
  Container().swap(c);
}

}  // namespace kiteline::core
