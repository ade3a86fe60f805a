#include "fleet/holder_lookup.hpp"

#include "core/text.hpp"
#include "fleet/names.hpp"

#include <algorithm>

namespace kiteline::fleet {
namespace {

constexpr std::size_t max_cached_names = 10000;
constexpr auto retry_pause = std::chrono::seconds(1);

std::string canonical_ip(const std::string& text) {
  std::error_code ec;
  const auto a = asio::ip::make_address(text, ec);
  return ec ? text : a.to_string();
}

}  // namespace

holder_lookup::holder_lookup(config::relay_fleet_config cfg, std::shared_ptr<spdlog::logger> log)
    : cfg_(std::move(cfg)),
      log_(std::move(log)),
      server_(parse_dns_server(cfg_.dns_server)),
      key_(make_tsig_key(cfg_.tsig)) {
  for (auto& a : cfg_.addresses) {
    a = canonical_ip(a);
  }
  thread_ = std::thread([this] { loop(); });
}

holder_lookup::~holder_lookup() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

bool holder_lookup::own(const std::string& address) const {
  return std::find(cfg_.addresses.begin(), cfg_.addresses.end(), address) != cfg_.addresses.end();
}

void holder_lookup::find(std::string_view kite, done_fn done) {
  const std::string name = record_name(to_lower(kite), cfg_.zone);
  const auto now = std::chrono::steady_clock::now();
  std::unique_lock lock(mu_);
  const auto it = cache_.find(name);
  const bool cached = it != cache_.end();
  if (cached && now < it->second.fresh_until) {
    auto holders = it->second.holders;
    lock.unlock();
    done(std::move(holders));
    return;
  }
  if (auto p = pending_.find(name); p != pending_.end()) {
    if (!cached) {
      p->second.push_back(std::move(done));
      return;
    }
  } else if (pending_.size() < max_in_flight && (!cached || now >= it->second.retry_after)) {
    pending_[name];
    queue_.push_back(name);
    cv_.notify_one();
    if (!cached) {
      pending_[name].push_back(std::move(done));
      return;
    }
  }
  // An expired answer (refreshed meanwhile), or nothing when too many lookups are in flight.
  auto holders = cached ? it->second.holders : std::vector<std::string>{};
  lock.unlock();
  done(std::move(holders));
}

void holder_lookup::loop() {
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
    if (stop_) {
      return;
    }
    const std::string name = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    std::vector<std::string> found;
    const bool answered = query(name, found);
    lock.lock();
    const auto now = std::chrono::steady_clock::now();
    if (cache_.size() >= max_cached_names) {
      std::erase_if(cache_, [now](const auto& kv) { return kv.second.fresh_until < now; });
      if (cache_.size() >= max_cached_names) {
        cache_.clear();
      }
    }
    entry& e = cache_[name];
    if (answered) {
      e.holders = std::move(found);
      e.fresh_until = now + cfg_.cache;
    } else {
      e.retry_after = now + retry_pause;  // keep the stale answer, if any
    }
    std::vector<done_fn> waiters;
    if (auto p = pending_.find(name); p != pending_.end()) {
      waiters = std::move(p->second);
      pending_.erase(p);
    }
    auto holders = e.holders;
    lock.unlock();
    for (auto& w : waiters) {
      w(holders);
    }
    lock.lock();
  }
}

bool holder_lookup::query(const std::string& name, std::vector<std::string>& out) {
  if (!server_) {
    return false;
  }
  for (const bool v6 : {false, true}) {
    std::string error;
    const auto msg = build_query(name, v6, key_, next_id_++, error);
    std::optional<dns_answer> answer;
    if (!msg.empty()) {
      answer = exchange(*server_, msg, key_, std::chrono::seconds(1), error);
    }
    if (!answer || (answer->rcode != 0 && answer->rcode != 3)) {  // NOERROR, NXDOMAIN
      const auto now = std::chrono::steady_clock::now();
      if (now >= warned_until_) {  // at most one warning a second: names are many
        warned_until_ = now + retry_pause;
        log_->warn("fleet lookup name={} type={} failed: {} (a cached answer stays in use)", name,
                   v6 ? "AAAA" : "A", answer ? describe(*answer) : error);
      }
      out.clear();
      return false;
    }
    for (const auto& r : answer->records) {
      std::string ip = canonical_ip(r.address);
      if (r.is_v6() == v6 && !own(ip) && std::find(out.begin(), out.end(), ip) == out.end()) {
        out.push_back(std::move(ip));
      }
    }
  }
  return true;
}

}  // namespace kiteline::fleet
