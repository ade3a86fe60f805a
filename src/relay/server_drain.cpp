// relay::server::drain: the graceful stop on SIGTERM (--grace_seconds). Listeners close first,
// then every tunnel gets the drain notice, idle tunnels close, and the grace bounds the rest.
#include <algorithm>
#include <atomic>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "core/text.hpp"
#include "net/spawn.hpp"
#include "relay/server.hpp"
#include "relay/server_impl.hpp"
#include "wire/chunk_encoder.hpp"
#include "wire/drain_notice.hpp"

namespace kiteline::relay {

using net::use_tuple;

struct server::impl::drain_state {
  std::chrono::steady_clock::time_point began;
  std::chrono::steady_clock::time_point deadline;
  std::string notice;  // the framed NOOP chunk
  std::atomic<std::size_t> workers_left{0};
  std::atomic<std::size_t> cut{0};
  std::atomic<bool> grace_over{false};
  drain_summary start;  // written before the drain loops run, read by the last one
  std::function<void(const drain_summary&)> on_done;
};

namespace {

/// How often a worker's drain loop looks at its tunnels (each look is a walk of one map).
constexpr std::chrono::milliseconds drain_step{100};

/// Runs `job(w)` on every worker and waits for each (up to 5 s: a worker blocked that long is
/// stuck, and the drain goes on without it).
template <typename T, typename Job>
std::vector<T> on_every_worker(net::worker_pool& pool, Job job) {
  std::vector<std::future<T>> futures;
  for (std::size_t w = 0; w < pool.size(); ++w) {
    auto p = std::make_shared<std::promise<T>>();
    futures.push_back(p->get_future());
    asio::post(pool.context(w), [p, w, job] { p->set_value(job(w)); });
  }
  std::vector<T> out;
  for (auto& f : futures) {
    if (f.wait_for(std::chrono::seconds(5)) == std::future_status::ready) {
      out.push_back(f.get());
    }
  }
  return out;
}

}  // namespace

void server::drain(std::chrono::seconds grace,
                   std::function<void(const drain_summary&)> on_done) {
  impl_->draining = true;
  if (impl_->publisher) {
    impl_->publisher->leave_pool();  // no new visitors through fe.ZONE
  }
  auto st = std::make_shared<impl::drain_state>();
  st->began = std::chrono::steady_clock::now();
  st->deadline = st->began + grace;
  st->notice = wire::frame_control_payload(
      wire::format_drain_notice(static_cast<std::uint32_t>(grace.count())));
  st->on_done = std::move(on_done);
  // 1. No worker accepts any more: a connector's relay ping is refused from here on, so its
  //    relay discovery cannot choose this relay again.
  (void)on_every_worker<bool>(impl_->pool, [this](std::size_t w) {
    for (auto& a : impl_->acceptors[w]) {
      std::error_code ec;
      a->close(ec);
    }
    return true;
  });
  // 2. Every tunnel hears that this relay is going.
  const auto counts = on_every_worker<drain_summary>(impl_->pool, [this, st](std::size_t w) {
    drain_summary n;
    for (auto& [id, t] : impl_->tunnels[w]) {
      if (t->link->closed()) {
        continue;
      }
      t->told_draining = true;
      t->link->send_control(kiteline::as_bytes(st->notice));
      ++n.tunnels;
      n.streams += t->link->stream_count();
    }
    return n;
  });
  for (const auto& n : counts) {
    st->start.tunnels += n.tunnels;
    st->start.streams += n.streams;
  }
  log_->info("drain started: listeners closed, {} tunnel(s) told, {} stream(s) in flight, "
             "grace {} s",
             st->start.tunnels, st->start.streams, grace.count());
  // 3. Each worker closes its tunnels as they go idle, and the rest at the deadline.
  st->workers_left = impl_->pool.size();
  for (std::size_t w = 0; w < impl_->pool.size(); ++w) {
    asio::co_spawn(impl_->pool.context(w), impl_->drain_worker(w, st),
                   net::log_failure(log_, "relay drain failed"));
  }
}

net::awaitable<void> server::impl::drain_worker(std::size_t worker,
                                                std::shared_ptr<drain_state> st) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  // Bounded by the deadline (then one more pass closes what is left), drain_step per pass.
  while (!stopping) {
    const bool late = std::chrono::steady_clock::now() >= st->deadline;
    bool open = false;
    for (auto& [id, t] : tunnels[worker]) {
      auto& l = *t->link;
      if (l.closed()) {
        continue;
      }
      if (!t->told_draining) {  // its handshake ended after the drain began
        t->told_draining = true;
        l.send_control(kiteline::as_bytes(st->notice));
      }
      if (late) {
        st->cut += l.stream_count();
        st->grace_over = true;
        l.close("relay drain: grace over");
        continue;
      }
      if (l.stream_count() == 0) {
        l.close_when_flushed("relay draining");  // the notice goes out first
      }
      open = true;
    }
    if (!open) {
      break;
    }
    timer.expires_after(drain_step);
    (void)co_await timer.async_wait(use_tuple);
  }
  if (--st->workers_left != 0 || stopping) {
    co_return;
  }
  drain_summary done = st->start;
  done.cut = st->cut;
  done.grace_over = st->grace_over;
  done.took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - st->began);
  log().info("drain over: {} of {} stream(s) finished, {} cut{}, after {} ms",
             done.streams - std::min(done.streams, done.cut), done.streams, done.cut,
             done.grace_over ? " (grace over)" : "", done.took.count());
  if (st->on_done) {
    st->on_done(done);
  }
}

}  // namespace kiteline::relay
