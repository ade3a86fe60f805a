// connector::client, the drain side: a relay that says it is going (its drain notice) is left
// for the other relays at once, and the connector's own drain (SIGTERM, --grace_seconds).
#include <algorithm>

#include "connector/client.hpp"
#include "net/spawn.hpp"

namespace kiteline::connector {

using net::use_tuple;

namespace {

/// How long a retired pool relay may keep its streams beyond the grace it announced (its own
/// drain closes the tunnel at the grace; this only bounds a relay that does not).
constexpr std::chrono::seconds retire_slack{10};
/// How often the drain looks at the number of streams in flight.
constexpr std::chrono::milliseconds drain_step{100};
/// Drain notices remembered (uuids of relays that are going).
constexpr std::size_t max_going = 64;

}  // namespace

void client::relay_going(const std::string& label, const std::string& uuid,
                         std::uint32_t grace) {
  std::shared_ptr<tunnel_client> pooled;
  std::size_t others = 0;
  {
    std::lock_guard lock(mu_);
    if (!uuid.empty() &&
        std::find(going_uuids_.begin(), going_uuids_.end(), uuid) == going_uuids_.end()) {
      if (going_uuids_.size() >= max_going) {
        going_uuids_.erase(going_uuids_.begin());
      }
      going_uuids_.push_back(uuid);
    }
    const std::size_t manual = ctx_->cfg.frontends.size();
    for (std::size_t i = 0; i < tunnels_.size(); ++i) {
      const auto st = tunnels_[i]->status();
      if (st.label == label && !st.retiring && !st.stopped && i >= manual) {
        pooled = tunnels_[i];
      } else if (st.label != label && st.live && !st.retiring && !st.stopped) {
        ++others;
      }
    }
  }
  if (!pooled) {
    // A --frontend relay: every one of them is used at once, so its kites are already live on
    // the others (if any); its loop reconnects once the relay answers again.
    ctx_->log->info("relay {} is going: its kites stay live on {} other relay(s)", label,
                    others);
    return;
  }
  ctx_->log->info("relay {} is going: choosing a replacement from the pool now", label);
  pooled->retire(std::chrono::seconds(grace) + retire_slack,
                 [this] { return replacement_live(); });
  asio::post(pool_.context(0), [this] {
    if (rediscover_ && !stopped_) {
      rediscover_->notify();
    }
  });
}

void client::drain(std::chrono::seconds grace,
                   std::function<void(const drain_summary&)> on_done) {
  ctx_->draining = true;
  const auto deadline = std::chrono::steady_clock::now() + grace;
  ctx_->log->info("drain started: new streams are refused, {} stream(s) in flight, grace {} s",
                  ctx_->counters.origin_streams.load(), grace.count());
  asio::co_spawn(pool_.context(0), drain_watch(deadline, std::move(on_done)),
                 net::log_failure(ctx_->log, "connector drain failed"));
}

net::awaitable<void> client::drain_watch(std::chrono::steady_clock::time_point deadline,
                                         std::function<void(const drain_summary&)> on_done) {
  const auto began = std::chrono::steady_clock::now();
  drain_summary done;
  done.streams = ctx_->counters.origin_streams.load();
  asio::steady_timer timer(co_await asio::this_coro::executor);
  // Bounded by the deadline, drain_step per look.
  while (!stopped_ && ctx_->counters.origin_streams.load() > 0) {
    if (std::chrono::steady_clock::now() >= deadline) {
      done.grace_over = true;
      done.cut = ctx_->counters.origin_streams.load();
      break;
    }
    timer.expires_after(drain_step);
    (void)co_await timer.async_wait(use_tuple);
  }
  if (stopped_) {
    co_return;
  }
  done.took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - began);
  ctx_->log->info("drain over: {} of {} stream(s) finished, {} cut{}, after {} ms",
                  done.streams - std::min(done.streams, done.cut), done.streams, done.cut,
                  done.grace_over ? " (grace over)" : "", done.took.count());
  if (on_done) {
    on_done(done);
  }
}

}  // namespace kiteline::connector
