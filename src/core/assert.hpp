// Invariant macros (style §6.5): KL_ASSERT (debug only), KL_CHECK (always on, never aborts),
// KL_PANIC (unrecoverable). None of them is ever used on untrusted bytes.
#pragma once

#include <cstdio>
#include <cstdlib>

namespace kiteline::detail {
[[noreturn]] inline void panic(const char* what, const char* file, int line) noexcept {
  std::fprintf(stderr, "kiteline: PANIC %s at %s:%d\n", what, file, line);
  std::abort();
}
}  // namespace kiteline::detail

#ifdef NDEBUG
#define KL_ASSERT(cond) ((void)0)
#else
#define KL_ASSERT(cond) \
  ((cond) ? (void)0 : ::kiteline::detail::panic("assertion " #cond, __FILE__, __LINE__))
#endif

/// Always evaluated; on failure returns true so the caller can count/log and recover.
#define KL_CHECK_FAILED(cond) (!(cond))

#define KL_PANIC(msg) ::kiteline::detail::panic(msg, __FILE__, __LINE__)
