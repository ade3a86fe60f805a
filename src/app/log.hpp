// Logging for kiteline's I/O code: one spdlog logger per relay/connector context, no globals.
#pragma once

#include <memory>
#include <string>

#include <spdlog/spdlog.h>

#include "app/errc.hpp"
#include "core/outcome.hpp"

namespace kiteline::app {

/// Creates a logger writing to `target`: "" or "stdio" → stderr, "-" → stdout, else a file
/// (appended). Level names follow pagekite.py (`none`, `err`, `warn`, `info`, `debug`, `all`).
/// The logger is NOT registered in spdlog's global registry (each context owns its own).
/// errc::cannot_open_log when the file cannot be opened.
outcome<std::shared_ptr<spdlog::logger>> make_logger(const std::string& name,
                                                     const std::string& target,
                                                     const std::string& level);

}  // namespace kiteline::app
