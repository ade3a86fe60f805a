// The process side of --accesslog (main only): opening the sink, and the line the connector
// prints once per kite when it goes live.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <spdlog/logger.h>

#include "accesslog/sink.hpp"
#include "config/process_config.hpp"

namespace kiteline::app {

/// The sink --accesslog / --accesslog_format ask for: null for none; nullopt (the reason
/// printed on stderr) when it cannot be opened (a missing directory, no syslog socket).
[[nodiscard]] std::optional<std::shared_ptr<accesslog::sink>> open_access_log(
    const config::process_config& p);

/// SIGHUP: reopens a file access log (logrotate); a failure is logged, the old file kept.
void reopen_access_log(const std::shared_ptr<accesslog::sink>& sink, spdlog::logger& log);

/// Prints "kiteline connector: URL is live (via relay RELAY)" the first time `kite` goes live
/// on any relay (not again on a reconnection or on a second relay). Thread-safe.
class kite_url_printer {
 public:
  void kite_live(const std::string& kite, const std::string& relay);

 private:
  std::mutex mu_;
  std::vector<std::string> printed_;
};

}  // namespace kiteline::app
