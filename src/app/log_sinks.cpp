#include "app/log_sinks.hpp"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/errc.hpp"

namespace kiteline::app {

std::string absolute_path(const std::string& path) {
  if (path.empty() || path.front() == '/') {
    return path;
  }
  char buf[4096];
  if (::getcwd(buf, sizeof buf) == nullptr) {
    return path;
  }
  return std::string(buf) + "/" + path;
}

namespace {

/// The directory part of `path` ("." for a bare name).
std::string directory_of(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) {
    return ".";
  }
  return slash == 0 ? "/" : path.substr(0, slash);
}

outcome<std::FILE*> open_append(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return failure(errc::cannot_open_log,
                   "cannot open log file " + path + ": " + std::strerror(errno));
  }
  std::FILE* f = ::fdopen(fd, "a");
  if (f == nullptr) {
    const int err = errno;
    ::close(fd);
    return failure(errc::cannot_open_log,
                   "cannot open log file " + path + ": " + std::strerror(err));
  }
  return f;
}

net::syslog_severity severity_of(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::critical:
    case spdlog::level::err: return net::syslog_severity::err;
    case spdlog::level::warn: return net::syslog_severity::warning;
    case spdlog::level::info: return net::syslog_severity::info;
    default: return net::syslog_severity::debug;
  }
}

}  // namespace

outcome<std::shared_ptr<reopenable_file_sink>> reopenable_file_sink::open(
    const std::string& path) {
  // Refuse before opening: a missing directory is a typo or a missing package step, and
  // creating it (as spdlog's own file sink does) would hide that.
  const std::string dir = directory_of(path);
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) {
    return failure(errc::no_log_directory,
                   "cannot open log file " + path + ": directory " + dir + " " +
                       (errno == ENOENT ? std::string("does not exist (kiteline does not create "
                                                      "it)")
                                        : std::string(std::strerror(errno))));
  }
  if (!S_ISDIR(st.st_mode)) {
    return failure(errc::no_log_directory,
                   "cannot open log file " + path + ": " + dir + " is not a directory");
  }
  auto f = open_append(path);
  if (!f) {
    return f.error();
  }
  return std::shared_ptr<reopenable_file_sink>(new reopenable_file_sink(absolute_path(path), *f));
}

reopenable_file_sink::~reopenable_file_sink() {
  if (file_ != nullptr) {
    std::fclose(file_);
  }
}

outcome<void> reopenable_file_sink::reopen() {
  auto f = open_append(path_);  // before the lock: the old file takes lines meanwhile
  if (!f) {
    return f.error();
  }
  const std::lock_guard lock(mutex_);
  std::fclose(file_);
  file_ = *f;
  return {};
}

void reopenable_file_sink::sink_it_(const spdlog::details::log_msg& msg) {
  spdlog::memory_buf_t formatted;
  formatter_->format(msg, formatted);
  (void)std::fwrite(formatted.data(), 1, formatted.size(), file_);
}

void reopenable_file_sink::flush_() { (void)std::fflush(file_); }

syslog_sink::syslog_sink(std::unique_ptr<net::syslog_writer> writer)
    : writer_(std::move(writer)) {}

void syslog_sink::sink_it_(const spdlog::details::log_msg& msg) {
  std::string text(msg.logger_name.data(), msg.logger_name.size());
  text += ": ";
  text.append(msg.payload.data(), msg.payload.size());
  writer_->write(severity_of(msg.level), text);
}

}  // namespace kiteline::app
