#include "fleet/publisher.hpp"

#include "fleet/names.hpp"

#include <algorithm>
#include <utility>

#include <spdlog/spdlog.h>

namespace kiteline::fleet {

using std::chrono::milliseconds;
using clock = std::chrono::steady_clock;

namespace {
constexpr milliseconds first_backoff{1000};
constexpr milliseconds max_backoff{30000};
constexpr milliseconds exchange_timeout{1000};
constexpr milliseconds transfer_timeout{2000};
constexpr milliseconds coalesce{50};  // changes arriving within this go into one UPDATE

std::string list_records(const std::vector<address_record>& rs) {
  std::string out;
  for (const auto& r : rs) {
    if (out.size() > 200) {
      out += " …";
      break;
    }
    out += (out.empty() ? "" : " ") + r.name + "/" + r.address;
  }
  return out;
}
std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) {
    out += (out.empty() ? "" : ",") + i;
  }
  return out;
}
}  // namespace

publisher::publisher(config::relay_fleet_config cfg, std::uint16_t ping_port, std::string uuid,
                     std::shared_ptr<spdlog::logger> log)
    : cfg_(std::move(cfg)),
      ping_port_(ping_port),
      uuid_(std::move(uuid)),
      log_(std::move(log)),
      server_(parse_dns_server(cfg_.dns_server)),
      key_(make_tsig_key(cfg_.tsig)) {}

publisher::~publisher() { stop(); }

void publisher::start() {
  if (!server_) {
    log_->error("fleet: --fleet_dns={} is not IP[:PORT]: nothing is published", cfg_.dns_server);
    return;
  }
  {
    std::lock_guard lock(mu_);
    desired_.set_pool(true);
    dirty_ = true;
  }
  log_->info("fleet: publishing to {}:{} zone={} addresses={}", server_->address, server_->port,
             cfg_.zone, join(cfg_.addresses));
  thread_ = std::thread([this] { run(); });
}

void publisher::stop(milliseconds budget) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) {
      return;
    }
    stopping_ = true;
    stop_budget_ = budget;
  }
  cv_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
  }
}

void publisher::kite_up(std::string_view kite) {
  {
    std::lock_guard lock(mu_);
    if (!desired_.kite_up(kite)) {
      return;
    }
    dirty_ = true;
  }
  cv_.notify_one();
}

void publisher::kite_down(std::string_view kite) {
  {
    std::lock_guard lock(mu_);
    if (!desired_.kite_down(kite)) {
      return;
    }
    dirty_ = true;
  }
  cv_.notify_one();
}

void publisher::leave_pool() {
  {
    std::lock_guard lock(mu_);
    left_pool_ = true;
  }
  update_pool(false);
}

void publisher::update_pool(bool in) {
  {
    std::lock_guard lock(mu_);
    in = in && !left_pool_;
    if (desired_.in_pool() == in) {
      return;
    }
    desired_.set_pool(in);
    dirty_ = true;
  }
  cv_.notify_one();
}

std::set<address_record> publisher::desired_now() {
  std::lock_guard lock(mu_);
  dirty_ = false;
  return desired_.records(cfg_.zone, cfg_.addresses);
}

void publisher::run() {
  const milliseconds interval =
      std::max(milliseconds(200), std::chrono::duration_cast<milliseconds>(cfg_.peer_interval));
  auto next_zone = clock::now();
  for (;;) {
    bool zone_due = false;
    {
      std::unique_lock lock(mu_);
      auto ready = [&] { return stopping_ || (dirty_ && clock::now() >= next_try_); };
      while (!ready() && clock::now() < next_zone) {
        cv_.wait_until(lock, dirty_ ? std::min(next_zone, next_try_) : next_zone);
      }
      if (stopping_) {
        break;
      }
      // Let a burst of registrations land in one UPDATE.
      cv_.wait_for(lock, coalesce, [&] { return stopping_; });
      if (stopping_) {
        break;
      }
      zone_due = clock::now() >= next_zone;
    }
    if (zone_due) {
      if (overloaded_) {
        update_pool(!overloaded_());
      }
      read_zone();
      watch_peers();
      next_zone = clock::now() + interval;
    }
    if (clock::now() >= next_try_) {
      if (reconcile(desired_now(), exchange_timeout)) {
        backoff_ = milliseconds(0);
      } else {
        std::lock_guard lock(mu_);
        dirty_ = true;
      }
    }
  }
  // Graceful stop: leave the pool and take back every record, within the budget.
  milliseconds budget;
  {
    std::lock_guard lock(mu_);
    budget = stop_budget_;
  }
  const auto deadline = clock::now() + budget;
  for (int attempt = 0; attempt < 3 && clock::now() + milliseconds(100) < deadline; ++attempt) {
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - clock::now());
    if (reconcile({}, std::min(left, exchange_timeout))) {
      log_->info("fleet: stopped; this relay's records are deleted");
      return;
    }
  }
  log_->warn("fleet: stopped without deleting this relay's records (the other relays remove "
             "them after --fleet_peer_timeout)");
}

bool publisher::reconcile(const std::set<address_record>& desired, milliseconds timeout) {
  const record_diff d = diff(desired, published_);
  if (d.empty()) {
    return true;
  }
  if (!send_update(d.adds, d.deletes, timeout, "publish")) {
    return false;
  }
  published_ = desired;
  note_published();
  return true;
}

void publisher::note_published() {
  const std::string pool = pool_name(cfg_.zone);
  std::set<std::string_view> kites;
  bool in_pool = false;
  for (const auto& r : published_) {
    if (r.name == pool) {
      in_pool = true;
    } else {
      kites.insert(r.name);
    }
  }
  counts_.kites_published.set(static_cast<std::int64_t>(kites.size()));
  counts_.in_pool.set(in_pool ? 1 : 0);
}

bool publisher::send_update(const std::vector<address_record>& adds,
                            const std::vector<address_record>& deletes, milliseconds timeout,
                            std::string_view what) {
  std::string error;
  const auto msg = build_update(cfg_.zone, adds, deletes,
                                static_cast<std::uint32_t>(cfg_.ttl.count()), key_, next_id_++,
                                error);
  std::optional<dns_answer> answer;
  if (!msg.empty()) {
    answer = exchange(*server_, msg, key_, timeout, error);
  }
  if (answer && answer->rcode == 0 && answer->tsig_error == 0) {
    counts_.updates_ok.add();
    log_->info("fleet: {} ok adds=[{}] deletes=[{}]", what, list_records(adds),
               list_records(deletes));
    return true;
  }
  if (answer && is_refusal(*answer)) {
    counts_.updates_refused.add();
    backoff_ = max_backoff;
    log_->error("fleet: {}:{} refused the update ({}): check --fleet_tsig: the server refused the "
                "key, or its ACL does not let the key update {}; retrying in {} s",
                server_->address, server_->port, describe(*answer), cfg_.zone,
                backoff_.count() / 1000);
  } else {
    counts_.updates_failed.add();
    backoff_ = backoff_.count() == 0 ? first_backoff : std::min(backoff_ * 2, max_backoff);
    log_->warn("fleet: update to {}:{} failed ({}); retrying in {} s", server_->address,
               server_->port, answer ? describe(*answer) : error, backoff_.count() / 1000);
  }
  next_try_ = clock::now() + backoff_;
  return false;
}

void publisher::read_zone() {
  std::string error;
  const auto query = build_axfr_query(cfg_.zone, key_, next_id_++, error);
  std::optional<dns_answer> zone;
  if (!query.empty()) {
    zone = transfer(*server_, query, key_, transfer_timeout, error);
  }
  if (!zone) {
    // Unverifiable (fleet/dns_client says "failed TSIG verification"): a warning, once a round.
    log_->log(error.find("TSIG") != std::string::npos ? spdlog::level::warn : spdlog::level::debug,
              "fleet: zone transfer from {}:{} failed: {}", server_->address, server_->port, error);
    return;
  }
  if (zone->rcode != 0 || zone->tsig_error != 0) {
    if (!transfer_refused_logged_) {
      transfer_refused_logged_ = true;
      log_->error("fleet: {}:{} refused the zone transfer of {} ({}): check --fleet_tsig: the "
                  "server refused the key, or its ACL does not allow transfer",
                  server_->address, server_->port, cfg_.zone, describe(*zone));
    }
    return;
  }
  transfer_refused_logged_ = false;
  counts_.zone_reads.add();
  const std::set<address_record> had = published_;
  published_ = own_records(zone->records, cfg_.addresses);
  note_published();
  if (published_ != had) {
    std::lock_guard lock(mu_);
    dirty_ = true;  // records of ours the zone lacks, or stale ones: the next UPDATE fixes it
  }
  std::set<std::string> ignore(zone->ns_names.begin(), zone->ns_names.end());
  ignore.insert(cfg_.zone);
  peers_ = peer_records(zone->records, cfg_.addresses, ignore);
}

void publisher::watch_peers() {
  const auto now = clock::now();
  const milliseconds ping_timeout =
      std::min(milliseconds(1000), std::chrono::duration_cast<milliseconds>(cfg_.peer_interval));
  for (auto it = peer_seen_.begin(); it != peer_seen_.end();) {
    it = peers_.count(it->first) == 0 ? peer_seen_.erase(it) : std::next(it);
  }
  for (const auto& [address, records] : peers_) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) {
        return;
      }
    }
    auto [seen, fresh] = peer_seen_.try_emplace(address, now);  // first sight counts as alive
    std::string uuid;
    if (ping_relay(address, ping_port_, ping_timeout, uuid)) {
      seen->second = clock::now();  // (uuid_ answering: another address of this relay)
      continue;
    }
    if (fresh || clock::now() - seen->second < cfg_.peer_timeout) {
      continue;
    }
    const auto silent =
        std::chrono::duration_cast<std::chrono::seconds>(clock::now() - seen->second).count();
    if (send_update({}, records, exchange_timeout, "peer removal")) {
      counts_.peers_removed.add();
      log_->warn("fleet: peer {} silent for {} s: removed its {} record(s)", address, silent,
                 records.size());
      peer_seen_.erase(seen);
    }
  }
}

}  // namespace kiteline::fleet
