// Waiting in tests: the one bound of every wait (test_timeout) and the one polling wait
// (wait_for). No test sleeps for a fixed time: it waits for the event that proves what it needs.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <sys/types.h>

#include <gtest/gtest.h>

namespace kiteline::test {

using clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

/// The bound of every wait in the tests: env KITELINE_TEST_TIMEOUT (seconds, default 60).
/// Thread-safe (read once).
[[nodiscard]] milliseconds test_timeout();

/// Polls `cond` until it holds or `timeout` (capped by test_timeout()) passes, with a short
/// backoff between polls (1 ms, growing to 20 ms). The failure message names `what` and the
/// time waited. Call from a test thread, never from a thread `cond` waits for.
[[nodiscard]] testing::AssertionResult wait_for(const std::function<bool()>& cond,
                                                milliseconds timeout, std::string_view what = "");
/// wait_for with test_timeout().
[[nodiscard]] testing::AssertionResult wait_for(const std::function<bool()>& cond,
                                                std::string_view what = "");

/// One polling step for loops that must poll something wait_for cannot express (a non-blocking
/// read that accumulates, a child to reap): yields the thread for `step` (default 5 ms).
/// It is the interval of a poll, never a wait for time to pass: the caller loops on its event.
void poll_pause(milliseconds step = milliseconds(5));

/// Starts `args` (args[0] a path) as a child with stdin from `stdin_file` and stdout and
/// stderr both to `log` (created or truncated), in the environment `envp` (null-terminated).
/// Returns its pid, or -1 if posix_spawn failed.
pid_t spawn_logged(std::vector<std::string> args, const std::string& log,
                   const std::string& stdin_file, char* const* envp);

/// Waits until the child `pid` exits (after the caller asked it to), SIGKILLs it if it has not
/// within `grace`, and reaps it. Returns its wait status.
int reap_child(pid_t pid, milliseconds grace);

}  // namespace kiteline::test
