#include "support/wait.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <thread>

namespace kiteline::test {

milliseconds test_timeout() {
  static const milliseconds value = [] {
    const char* env = std::getenv("KITELINE_TEST_TIMEOUT");
    long s = env != nullptr ? std::strtol(env, nullptr, 10) : 0;
    return milliseconds(1000 * (s > 0 ? s : 60));
  }();
  return value;
}

testing::AssertionResult wait_for(const std::function<bool()>& cond, milliseconds timeout,
                                  std::string_view what) {
  const milliseconds bound = std::min(timeout, test_timeout());
  const auto deadline = clock::now() + bound;
  milliseconds step(1);
  while (true) {
    if (cond()) {
      return testing::AssertionSuccess();
    }
    if (clock::now() >= deadline) {
      return testing::AssertionFailure() << "timed out after " << bound.count()
                                         << " ms waiting for "
                                         << (what.empty() ? "condition" : what);
    }
    poll_pause(step);
    step = std::min(step * 2, milliseconds(20));
  }
}

testing::AssertionResult wait_for(const std::function<bool()>& cond, std::string_view what) {
  return wait_for(cond, test_timeout(), what);
}

void poll_pause(milliseconds step) { std::this_thread::sleep_for(step); }

pid_t spawn_logged(std::vector<std::string> args, const std::string& log,
                   const std::string& stdin_file, char* const* envp) {
  std::vector<char*> argv;
  for (auto& a : args) {
    argv.push_back(a.data());
  }
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, stdin_file.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  pid_t pid = -1;
  if (posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), envp) != 0) {
    pid = -1;
  }
  posix_spawn_file_actions_destroy(&fa);
  return pid;
}

int reap_child(pid_t pid, milliseconds grace) {
  int status = 0;
  if (!wait_for([&] { return ::waitpid(pid, &status, WNOHANG) != 0; }, grace, "child exit")) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
  }
  return status;
}

}  // namespace kiteline::test
