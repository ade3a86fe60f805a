#include "app/log.hpp"

#include <spdlog/sinks/stdout_sinks.h>

#include "app/log_sinks.hpp"
#include "net/syslog.hpp"

namespace kiteline::app {

outcome<std::shared_ptr<spdlog::logger>> make_logger(const std::string& name,
                                                     const std::string& target,
                                                     const std::string& level) {
  spdlog::sink_ptr sink;
  if (target.empty() || target == "stdio" || target == "stderr") {
    sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  } else if (target == "-" || target == "stdout") {
    sink = std::make_shared<spdlog::sinks::stdout_sink_mt>();
  } else if (target == "syslog") {
    constexpr int log_daemon = 3 << 3;  // <syslog.h> LOG_DAEMON, as pagekite.py uses
    auto writer = net::syslog_writer::open("kiteline", log_daemon);
    if (!writer) {
      return failure(errc::cannot_open_syslog, "cannot log to syslog: " +
                                                   net::default_syslog_socket() + ": " +
                                                   writer.error().message());
    }
    sink = std::make_shared<syslog_sink>(std::move(*writer));
  } else {
    auto file = reopenable_file_sink::open(target);
    if (!file) {
      return file.error();
    }
    sink = std::move(*file);
  }
  auto logger = std::make_shared<spdlog::logger>(name, std::move(sink));
  logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %n %l %v");
  auto lvl = spdlog::level::info;
  if (level == "none") {
    lvl = spdlog::level::off;
  } else if (level == "err" || level == "1") {
    lvl = spdlog::level::err;
  } else if (level == "warn" || level == "2") {
    lvl = spdlog::level::warn;
  } else if (level == "debug" || level == "all" || level == "5" || level == "6") {
    lvl = spdlog::level::debug;
  }
  logger->set_level(lvl);
  logger->flush_on(spdlog::level::info);
  return logger;
}

std::string reopen_logs(spdlog::logger& log) {
  std::string problems;
  for (const auto& sink : log.sinks()) {
    if (auto* file = dynamic_cast<reopenable_file_sink*>(sink.get())) {
      if (auto reopened = file->reopen(); !reopened) {
        problems += (problems.empty() ? "" : "; ") + reopened.error().message();
      }
    }
  }
  return problems;
}

}  // namespace kiteline::app
