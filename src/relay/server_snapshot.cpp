// server::snapshot(): the relay's state gathered on each worker (its tunnels are touched only
// there), plus the counters, for the console and the SIGUSR1 dump.
#include <future>
#include <memory>
#include <utility>

#include "relay/server.hpp"
#include "relay/server_impl.hpp"

namespace kiteline::relay {

relay_snapshot server::snapshot(std::chrono::milliseconds wait) {
  relay_snapshot s;
  auto& st = impl_->stats;
  s.uuid = uuid_;
  s.started = st.started;
  s.taken = std::chrono::system_clock::now();
  s.ports = ports_;
  s.workers = impl_->pool.size();
  for (std::size_t w = 0; w < impl_->pool.size(); ++w) {
    using gathered = std::pair<std::vector<tunnel_snapshot>, relay_stats::closed_totals>;
    auto p = std::make_shared<std::promise<gathered>>();
    auto f = p->get_future();
    asio::post(impl_->pool.context(w), [this, w, p] {
      std::vector<tunnel_snapshot> out;
      for (const auto& [id, t] : impl_->tunnels[w]) {
        tunnel_snapshot ts;
        ts.id = id;
        ts.worker = w;
        ts.peer = t->peer;
        ts.kites = t->keys;
        ts.since = t->since;
        ts.tls = t->tls;
        if (t->link) {
          const auto& ls = t->link->stats();
          ts.tunnel_received = ls.bytes_in;
          ts.tunnel_sent = ls.bytes_out;
          ts.visitor_received = ls.local_in;
          ts.visitor_sent = ls.local_out;
          ts.streams = t->link->stream_count();
          ts.buffered = t->link->local_buffered();
          ts.outbox = t->link->outbox_bytes();
        }
        out.push_back(std::move(ts));
      }
      p->set_value({std::move(out), impl_->stats.closed[w]});
    });
    if (f.wait_for(wait) != std::future_status::ready) {
      s.complete = false;
      continue;
    }
    auto [tunnels, closed] = f.get();
    for (auto& t : tunnels) {
      s.tunnels.push_back(std::move(t));
    }
    s.visitor_received += closed.visitor_received;
    s.visitor_sent += closed.visitor_sent;
    s.tunnel_received += closed.tunnel_received;
    s.tunnel_sent += closed.tunnel_sent;
  }
  s.refusals = st.refusals.recent();
  s.connections = counters_.connections.load();
  s.pings = counters_.pings.load();
  s.tunnels_up = counters_.tunnels_up.load();
  s.tunnels_down = counters_.tunnels_down.load();
  s.handshakes_refused = counters_.handshakes_refused.load();
  for (std::size_t p = 0; p < visitor_proto_count; ++p) {
    for (std::size_t r = 0; r < visitor_result_count; ++r) {
      s.visitors[p][r] = st.visitors[p][r].value();
    }
  }
  if (impl_->publisher || impl_->holders) {
    const auto& fs = st.fleet;
    fleet_snapshot f;
    f.forwarded = fs.forwarded.value();
    for (std::size_t i = 0; i < forward_failure_count; ++i) {
      f.forward_failed[i] = fs.forward_failed[i].value();
    }
    f.peer_accepted = fs.peer_accepted.value();
    for (std::size_t i = 0; i < peer_refusal_count; ++i) {
      f.peer_refused[i] = fs.peer_refused[i].value();
    }
    if (impl_->publisher) {
      const auto& pc = impl_->publisher->stats();
      f.publishing = true;
      f.kites_published = pc.kites_published.value();
      f.in_pool = pc.in_pool.value() != 0;
      f.updates_ok = pc.updates_ok.value();
      f.updates_failed = pc.updates_failed.value();
      f.updates_refused = pc.updates_refused.value();
      f.zone_reads = pc.zone_reads.value();
      f.peers_removed = pc.peers_removed.value();
    }
    s.fleet = f;
  }
  for (const auto& t : s.tunnels) {
    s.visitor_received += t.visitor_received;
    s.visitor_sent += t.visitor_sent;
    s.tunnel_received += t.tunnel_received;
    s.tunnel_sent += t.tunnel_sent;
  }
  return s;
}

}  // namespace kiteline::relay
