// accesslog::sink: where access-log lines go (--accesslog=FILE|stdio|syslog|none). Callers on
// any worker hand it a record; it renders the line on the caller's thread, appends it to a
// buffer under a mutex and a writer thread of its own does the write(2)/send(2), so no worker
// ever waits for the disk or the syslog daemon.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "accesslog/record.hpp"
#include "core/result.hpp"
#include "net/syslog.hpp"

namespace kiteline::accesslog {

/// One access log. Thread-safe: write() from any thread; reopen() and flush() from any thread.
class sink {
 public:
  /// The writer's buffer holds at most this many bytes; lines beyond are dropped (counted and
  /// reported in the log itself once it drains) rather than blocking a worker.
  static constexpr std::size_t max_buffered = 8 * 1024 * 1024;

  /// `target`: a file path (opened O_APPEND, created 0640), "stdio" (standard output) or
  /// "syslog" (datagrams through net::syslog_writer, ident "kiteline-access", LOG_DAEMON, info).
  /// "none" or "" gives a null pointer: no access log. Fails with the errno of open() /
  /// the syslog socket.
  static result<std::unique_ptr<sink>> open(const std::string& target, format f);
  ~sink();  ///< flushes what is buffered, then stops the writer thread
  sink(const sink&) = delete;
  sink& operator=(const sink&) = delete;

  /// Renders `r` and queues the line. Never blocks on I/O.
  void write(const record& r);
  /// Queues an already rendered line (no newline).
  void write_line(std::string_view line);
  /// Log rotation (SIGHUP): a file target is opened again by its path and the old descriptor
  /// closed (after a write in progress); lines not yet written go to the new file, which
  /// exists when this returns. No-op for stdio and syslog. False (and the old file kept) if
  /// open() failed.
  bool reopen();
  /// Waits until every line queued before this call was written (tests, shutdown).
  void flush();

  [[nodiscard]] format line_format() const noexcept { return format_; }
  [[nodiscard]] const std::string& target() const noexcept { return target_; }
  [[nodiscard]] std::uint64_t dropped() const noexcept { return dropped_.load(); }

 private:
  enum class kind : std::uint8_t { file, stdio, syslog };
  sink(std::string target, format f, kind k, int fd, std::unique_ptr<net::syslog_writer> sl);
  void run();
  void write_out(const std::string& lines);

  std::string target_;
  format format_;
  kind kind_;
  std::unique_ptr<net::syslog_writer> syslog_;

  std::mutex out_mu_;  // the file descriptor; held by the writer while it writes
  int fd_ = -1;

  std::mutex mu_;  // guards everything below
  std::condition_variable wake_;
  std::condition_variable written_;
  std::string buffer_;
  std::uint64_t queued_seq_ = 0;   // lines queued so far
  std::uint64_t written_seq_ = 0;  // lines written so far
  std::uint64_t dropped_unreported_ = 0;
  bool stopping_ = false;
  std::atomic<std::uint64_t> dropped_{0};
  std::thread writer_;
};

}  // namespace kiteline::accesslog
