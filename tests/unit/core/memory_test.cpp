#include "core/memory.hpp"

#include <gtest/gtest.h>

#include <cstddef>
#include <vector>

namespace kiteline {
namespace {

TEST(release, frees_what_brace_assignment_keeps) {
  std::vector<std::byte> kept(256 * 1024);
  kept = {};  // the initializer_list assignment: empty, capacity kept (why release() exists)
  EXPECT_TRUE(kept.empty());
  EXPECT_GE(kept.capacity(), 256U * 1024U);

  std::vector<std::byte> freed(256 * 1024);
  core::release(freed);
  EXPECT_TRUE(freed.empty());
  EXPECT_EQ(freed.capacity(), 0U);
}

}  // namespace
}  // namespace kiteline
