#include "relay/auth_app_server.hpp"

#include "net/spawn.hpp"

#include <array>
#include <algorithm>

#include <fmt/format.h>

namespace kiteline::relay {

using namespace asio::experimental::awaitable_operators;
using net::use_tuple;

namespace {

// (Text is formatted outside the coroutines: GCC 12 miscompiles fmt's compile-time format
// strings inside a coroutine body, "array used as initializer".)
std::string too_many_starts(const std::string& path, std::size_t starts) {
  return fmt::format("{} --server was started {} times in the last {} s: not started again yet",
                     path, starts, app_server::restart_window.count());
}

}  // namespace

app_server::app_server(asio::io_context& home, std::string path, std::size_t answer_limit,
                       std::shared_ptr<spdlog::logger> log)
    : home_(home), path_(std::move(path)), log_(std::move(log)), wake_(home),
      out_(answer_limit) {}

void app_server::start() {
  asio::co_spawn(home_, run(), net::log_failure(log_, "auth app server loop failed"));
}

void app_server::submit(std::shared_ptr<app_request> r) {
  asio::post(home_, [self = shared_from_this(), r = std::move(r)]() mutable {
    if (self->stopping_) {
      self->finish(r, false, "the relay is stopping");
      return;
    }
    self->queue_.push_back(std::move(r));
    self->wake_.cancel();
  });
}

void app_server::stop() {
  asio::post(home_, [self = shared_from_this()] {
    self->stopping_ = true;
    self->wake_.cancel();
  });
}

void app_server::finish(const std::shared_ptr<app_request>& r, bool ok, std::string text) {
  r->ok = ok;
  r->text = std::move(text);
  asio::post(r->requester, [r] { r->wake.cancel(); });
}

net::awaitable<void> app_server::run() {
  auto self = shared_from_this();  // the loop keeps its server alive
  while (!stopping_) {
    if (queue_.empty()) {
      wake_.expires_at(asio::steady_timer::time_point::max());
      (void)co_await wake_.async_wait(use_tuple);
      continue;
    }
    auto r = std::move(queue_.front());
    queue_.pop_front();
    co_await serve(std::move(r));
  }
  for (auto& r : queue_) {
    finish(r, false, "the relay is stopping");
  }
  queue_.clear();
  if (child_) {
    (void)co_await end_child();
  }
}

net::awaitable<std::string> app_server::end_child() {
  const pid_t pid = child_->pid();
  child_->kill();  // harmless when it exited already: it is not reaped yet
  const auto st = co_await child_->reap();
  child_.reset();
  out_.clear();
  co_return "(pid " + std::to_string(pid) + ") " + (st ? describe_exit(*st) : "ended");
}

net::awaitable<void> app_server::serve(std::shared_ptr<app_request> r) {
  const auto now = std::chrono::steady_clock::now();
  const auto timed_out = [this] {
    return path_ + " timed out (no answer within --authdns_timeout)";
  };
  if (now >= r->deadline) {
    finish(r, false, timed_out());
    co_return;
  }
  if (child_ && out_.holds_text()) {
    // It answered more lines than it was asked: what comes next may belong to an older
    // request. Start afresh.
    const auto how = co_await end_child();
    log_->warn("auth app {} {} stopped: it wrote more than one line for a request", path_, how);
  }
  out_.clear();
  if (!child_) {
    while (!starts_.empty() && starts_.front() + restart_window <= now) {
      starts_.pop_front();
    }
    if (starts_.size() >= max_starts) {
      finish(r, false, too_many_starts(path_, starts_.size()));
      co_return;
    }
    std::string error;
    starts_.push_back(now);
    const std::vector<std::string> args{"--server"};
    auto child = app_child::spawn(home_.get_executor(), path_, args, true, error);
    if (!child) {
      finish(r, false, "cannot run " + path_ + " --server: " + error);
      co_return;
    }
    child_ = std::move(child);
    log_->info("auth app {} started as a server (pid {})", path_, child_->pid());
  }
  asio::steady_timer timer(home_);
  timer.expires_at(r->deadline);
  auto w = co_await (asio::async_write(child_->io(), asio::buffer(r->line), use_tuple) ||
                     timer.async_wait(use_tuple));
  std::string error;
  if (w.index() == 1) {
    error = timed_out();
  } else if (const auto [ec, n] = std::get<0>(w); ec) {
    error = path_ + " --server took no request: " + ec.message();
  }
  std::optional<std::string> line;
  std::array<char, 4096> buf{};
  while (error.empty() && !(line = out_.take_line())) {
    auto rd = co_await (child_->io().async_read_some(asio::buffer(buf), use_tuple) ||
                        timer.async_wait(use_tuple));
    if (rd.index() == 1) {
      error = timed_out();
      break;
    }
    const auto [ec, n] = std::get<0>(rd);
    if (!out_.feed(std::string_view(buf.data(), n))) {
      error = path_ + " --server wrote an answer longer than the limit";
    } else if (ec) {
      error = path_ + " --server closed its stdout without answering";
    }
  }
  if (!error.empty()) {
    // Whatever it does next cannot be matched to a request any more: stop it; the next
    // request starts it again.
    const auto how = co_await end_child();
    log_->warn("auth app {} {}: {}; started again on the next request", path_, how, error);
    finish(r, false, error);
    co_return;
  }
  finish(r, true, std::move(*line));
}

}  // namespace kiteline::relay
