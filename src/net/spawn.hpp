// The one completion handler for co_spawn (style §6.2): a coroutine that ended with an
// exception is logged, and nothing else happens.
#pragma once

#include <exception>
#include <memory>
#include <string>
#include <string_view>

#include <spdlog/logger.h>

namespace kiteline::net {

/// Logs `e` (if set) at error level as "<what>: <exception text>", or "<what>: unknown
/// exception" for one that is not a std::exception. Any thread.
void log_exception(spdlog::logger& log, std::string_view what, const std::exception_ptr& e);

/// A co_spawn completion handler that logs a failed coroutine with log_exception(). It keeps
/// `log` alive; `what` names the job ("connection handler failed", "relay X: retiring
/// failed"). For a site that does more on failure, call log_exception() from its own handler.
inline auto log_failure(std::shared_ptr<spdlog::logger> log, std::string what) {
  return [log = std::move(log), what = std::move(what)](const std::exception_ptr& e) {
    log_exception(*log, what, e);
  };
}

}  // namespace kiteline::net
