#include "app/log.hpp"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

namespace kiteline::app {

outcome<std::shared_ptr<spdlog::logger>> make_logger(const std::string& name,
                                                     const std::string& target,
                                                     const std::string& level) {
  spdlog::sink_ptr sink;
  try {
    if (target.empty() || target == "stdio" || target == "stderr") {
      sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    } else if (target == "-" || target == "stdout") {
      sink = std::make_shared<spdlog::sinks::stdout_sink_mt>();
    } else {
      sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(target, false);
    }
  } catch (const spdlog::spdlog_ex& e) {
    return failure(errc::cannot_open_log, std::string("cannot open log file: ") + e.what());
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

}  // namespace kiteline::app
