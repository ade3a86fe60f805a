#include "accesslog/sink.hpp"

#include <fcntl.h>
#include <sys/syslog.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace kiteline::accesslog {

namespace {

int open_file(const std::string& path) {
  return ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
}

void write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return;  // disk full, closed descriptor: the lines are lost, the relay goes on
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

}  // namespace

result<std::unique_ptr<sink>> sink::open(const std::string& target, format f) {
  if (target.empty() || target == "none") {
    return std::unique_ptr<sink>();
  }
  if (target == "stdio") {
    return std::unique_ptr<sink>(new sink(target, f, kind::stdio, STDOUT_FILENO, nullptr));
  }
  if (target == "syslog") {
    auto w = net::syslog_writer::open("kiteline-access", LOG_DAEMON);
    if (!w) {
      return w.error();
    }
    return std::unique_ptr<sink>(new sink(target, f, kind::syslog, -1, std::move(*w)));
  }
  const int fd = open_file(target);
  if (fd < 0) {
    return std::error_code(errno, std::system_category());
  }
  return std::unique_ptr<sink>(new sink(target, f, kind::file, fd, nullptr));
}

sink::sink(std::string target, format f, kind k, int fd, std::unique_ptr<net::syslog_writer> sl)
    : target_(std::move(target)), format_(f), kind_(k), syslog_(std::move(sl)), fd_(fd) {
  writer_ = std::thread([this] { run(); });
}

sink::~sink() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_one();
  writer_.join();
  if (kind_ == kind::file && fd_ >= 0) {
    ::close(fd_);
  }
}

void sink::write(const record& r) { write_line(format_line(format_, r)); }

void sink::write_line(std::string_view line) {
  bool was_empty = false;
  {
    std::lock_guard lock(mu_);
    if (buffer_.size() + line.size() + 1 > max_buffered) {
      ++dropped_unreported_;
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    was_empty = buffer_.empty();
    buffer_.append(line);
    buffer_ += '\n';
    ++queued_seq_;
  }
  // Only the first line of a batch wakes the writer; the rest ride along with it.
  if (was_empty) {
    wake_.notify_one();
  }
}

bool sink::reopen() {
  if (kind_ != kind::file) {
    return true;
  }
  const int fd = open_file(target_);
  if (fd < 0) {
    return false;
  }
  std::lock_guard lock(out_mu_);
  ::close(fd_);
  fd_ = fd;
  return true;
}

void sink::flush() {
  std::unique_lock lock(mu_);
  const std::uint64_t want = queued_seq_;
  written_.wait(lock, [&] { return written_seq_ >= want || stopping_; });
}

void sink::write_out(const std::string& lines) {
  if (kind_ == kind::syslog) {
    std::string_view rest(lines);
    while (!rest.empty()) {
      const auto nl = rest.find('\n');
      syslog_->write(net::syslog_severity::info, rest.substr(0, nl));
      rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
    }
    return;
  }
  std::lock_guard lock(out_mu_);
  write_all(fd_, lines);
}

void sink::run() {
  std::string batch;
  std::unique_lock lock(mu_);
  for (;;) {
    wake_.wait(lock, [&] { return stopping_ || !buffer_.empty(); });
    if (buffer_.empty() && stopping_) {
      break;
    }
    batch.clear();
    batch.swap(buffer_);
    const std::uint64_t seq = queued_seq_;
    const std::uint64_t dropped = dropped_unreported_;
    dropped_unreported_ = 0;
    lock.unlock();
    if (dropped != 0) {
      batch += "# kiteline access log: " + std::to_string(dropped) +
               " lines dropped (the writer could not keep up)\n";
    }
    write_out(batch);
    if (batch.capacity() > 1024 * 1024) {
      std::string().swap(batch);
    }
    lock.lock();
    written_seq_ = seq;
    written_.notify_all();
  }
  written_seq_ = queued_seq_;
  written_.notify_all();
}

}  // namespace kiteline::accesslog
