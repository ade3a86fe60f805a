// The log sinks main adds to spdlog: a file that SIGHUP reopens (logrotate renames it, the next
// line goes to a new file) and syslog through net::syslog_writer.
#pragma once

#include <cstdio>
#include <memory>
#include <mutex>
#include <string>

#include <spdlog/sinks/base_sink.h>

#include "core/outcome.hpp"
#include "net/syslog.hpp"

namespace kiteline::app {

/// `path` made absolute against the working directory now (files reopened or removed later,
/// after a chdir, must name the same file). Unchanged when already absolute or empty.
[[nodiscard]] std::string absolute_path(const std::string& path);

/// Appends to a file by name; reopen() closes it and opens the name again. Thread-safe (the
/// base sink's mutex guards the FILE).
class reopenable_file_sink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  /// Opens `path` for appending (created 0644 less the umask). errc::no_log_directory when its
  /// directory does not exist (kiteline never creates it), errc::cannot_open_log otherwise.
  /// A relative path is made absolute first, so a reopen after a chdir finds the same file.
  static outcome<std::shared_ptr<reopenable_file_sink>> open(const std::string& path);
  ~reopenable_file_sink() override;

  /// Opens the path again and switches to it; on failure keeps writing to the old file and
  /// returns why. Safe from any thread.
  outcome<void> reopen();
  [[nodiscard]] const std::string& path() const noexcept { return path_; }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override;
  void flush_() override;

 private:
  reopenable_file_sink(std::string path, std::FILE* file) : path_(std::move(path)), file_(file) {}
  std::string path_;
  std::FILE* file_;
};

/// Sends each message as one syslog datagram; the level becomes the severity. The text is
/// "<logger name>: <message>" whatever pattern the logger sets (syslog adds time and pid).
class syslog_sink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit syslog_sink(std::unique_ptr<net::syslog_writer> writer);

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override;
  void flush_() override {}
  void set_pattern_(const std::string&) override {}
  void set_formatter_(std::unique_ptr<spdlog::formatter>) override {}

 private:
  std::unique_ptr<net::syslog_writer> writer_;
};

}  // namespace kiteline::app
