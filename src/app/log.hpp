// Logging for kiteline's I/O code: one spdlog logger per relay/connector context, no globals.
#pragma once

#include <memory>
#include <string>

#include <spdlog/spdlog.h>

#include "app/errc.hpp"
#include "core/outcome.hpp"

namespace kiteline::app {

/// Creates a logger writing to `target`: "" or "stdio" → stderr, "-" → stdout, "syslog" →
/// syslog (net::default_syslog_socket(), ident "kiteline", facility daemon), else a file
/// (appended; SIGHUP reopens it through reopen_logs). Level names follow pagekite.py (`none`,
/// `err`, `warn`, `info`, `debug`, `all`). The logger is NOT registered in spdlog's global
/// registry (each context owns its own). errc::no_log_directory when the file's directory does
/// not exist (never created), errc::cannot_open_log when the file cannot be opened,
/// errc::cannot_open_syslog when the syslog socket cannot be connected.
outcome<std::shared_ptr<spdlog::logger>> make_logger(const std::string& name,
                                                     const std::string& target,
                                                     const std::string& level);

/// Reopens every file `log` writes to (after logrotate renamed them). Returns the reasons of
/// those that could not be reopened (they keep their old file); empty when all went well.
std::string reopen_logs(spdlog::logger& log);

}  // namespace kiteline::app
