// client::snapshot(): the connector's state for the console and the SIGUSR1 dump. Each relay's
// tunnel figures and recent requests are read on its worker (posted there: no lock on the data
// path); the statuses are the tunnel clients' own locked copies.
#include <algorithm>
#include <future>
#include <memory>
#include <utility>

#include "connector/client.hpp"

namespace kiteline::connector {

connector_snapshot client::snapshot(std::chrono::milliseconds wait) const {
  connector_snapshot s;
  s.started = started_at_;
  s.taken = std::chrono::system_clock::now();
  s.workers = pool_.size();
  std::vector<std::shared_ptr<tunnel_client>> tunnels;
  {
    std::lock_guard lock(mu_);
    tunnels = tunnels_;
  }
  struct gathered {
    std::pair<kiteline::tunnel::link_stats, std::size_t> link;
    std::vector<request_entry> requests;
  };
  for (const auto& t : tunnels) {
    relay_snapshot r;
    r.status = t->status();
    if (r.status.stopped && !stopped_) {
      continue;
    }
    auto p = std::make_shared<std::promise<gathered>>();
    auto f = p->get_future();
    asio::post(t->executor(), [p, t] { p->set_value({t->link_stats(), t->recent_requests()}); });
    if (f.wait_for(wait) == std::future_status::ready) {
      auto g = f.get();
      r.tunnel_received = g.link.first.bytes_in;
      r.tunnel_sent = g.link.first.bytes_out;
      r.origin_received = g.link.first.local_in;
      r.origin_sent = g.link.first.local_out;
      r.streams = g.link.second;
      s.requests.insert(s.requests.end(), g.requests.begin(), g.requests.end());
    } else {
      s.complete = false;
    }
    s.relays.push_back(std::move(r));
  }
  std::stable_sort(s.requests.begin(), s.requests.end(),
                   [](const request_entry& a, const request_entry& b) { return a.when > b.when; });
  if (s.requests.size() > 32) {
    s.requests.resize(32);
  }
  const auto& c = ctx_->counters;
  s.attempts = c.attempts.load();
  s.reconnects = c.reconnects.load();
  s.tunnels_up = c.tunnels_up.load();
  s.tunnels_lost = c.tunnels_lost.load();
  s.kites_rejected = c.kites_rejected.load();
  s.streams_opened = c.streams_opened.load();
  s.streams_refused = c.streams_refused.load();
  s.origin_connects = c.origin_connects.load();
  s.origin_failures = c.origin_failures.load();
  s.origin_streams = c.origin_streams.load();
  return s;
}

}  // namespace kiteline::connector
