#include "fleet/holder_lookup.hpp"

#include "core/text.hpp"
#include "fleet/names.hpp"

#include <algorithm>
#include <ldns/ldns.h>

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
    : cfg_(std::move(cfg)), log_(std::move(log)) {
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
  std::string server = cfg_.dns_server;
  std::uint16_t port = 53;
  // "IP[:PORT]", "[IPv6]:PORT" or a bare IPv6 address.
  if (!server.empty() && server.front() == '[') {
    const auto close = server.find(']');
    if (close != std::string::npos && close + 1 < server.size() && server[close + 1] == ':') {
      port = static_cast<std::uint16_t>(std::stoul(server.substr(close + 2)));
    }
    server = server.substr(1, close == std::string::npos ? std::string::npos : close - 1);
  } else if (std::count(server.begin(), server.end(), ':') == 1) {
    const auto colon = server.find(':');
    port = static_cast<std::uint16_t>(std::stoul(server.substr(colon + 1)));
    server.resize(colon);
  }
  const bool v6 = server.find(':') != std::string::npos;
  ldns_resolver* res = ldns_resolver_new();
  ldns_rdf* ns = ldns_rdf_new_frm_str(v6 ? LDNS_RDF_TYPE_AAAA : LDNS_RDF_TYPE_A, server.c_str());
  ldns_rdf* qname = ldns_dname_new_frm_str(name.c_str());
  bool answered = false;
  if (res != nullptr && ns != nullptr && qname != nullptr &&
      ldns_resolver_push_nameserver(res, ns) == LDNS_STATUS_OK) {
    ldns_resolver_set_port(res, port);
    ldns_resolver_set_recursive(res, false);
    ldns_resolver_set_retry(res, 1);
    ldns_resolver_set_timeout(res, timeval{1, 0});
    answered = true;
    for (ldns_rr_type type : {LDNS_RR_TYPE_A, LDNS_RR_TYPE_AAAA}) {
      ldns_pkt* pkt = nullptr;
      const ldns_status st = ldns_resolver_send(&pkt, res, qname, type, LDNS_RR_CLASS_IN, 0);
      if (st != LDNS_STATUS_OK || pkt == nullptr ||
          (ldns_pkt_get_rcode(pkt) != LDNS_RCODE_NOERROR &&
           ldns_pkt_get_rcode(pkt) != LDNS_RCODE_NXDOMAIN)) {
        log_->warn("fleet lookup name={} type={} failed: {} (a cached answer stays in use)", name,
                   type == LDNS_RR_TYPE_A ? "A" : "AAAA",
                   st != LDNS_STATUS_OK ? ldns_get_errorstr_by_id(st) : "server error");
        answered = false;
        if (pkt != nullptr) {
          ldns_pkt_free(pkt);
        }
        break;
      }
      if (ldns_rr_list* rrs = ldns_pkt_rr_list_by_type(pkt, type, LDNS_SECTION_ANSWER)) {
        for (std::size_t i = 0; i < ldns_rr_list_rr_count(rrs); ++i) {
          const ldns_rdf* rd = ldns_rr_rdf(ldns_rr_list_rr(rrs, i), 0);
          if (rd == nullptr) {
            continue;
          }
          char* text = ldns_rdf2str(rd);
          if (text != nullptr) {
            std::string ip = canonical_ip(text);
            if (!own(ip) && std::find(out.begin(), out.end(), ip) == out.end()) {
              out.push_back(std::move(ip));
            }
            free(text);  // NOLINT: allocated by ldns with malloc
          }
        }
        ldns_rr_list_deep_free(rrs);
      }
      ldns_pkt_free(pkt);
    }
  }
  if (qname != nullptr) {
    ldns_rdf_deep_free(qname);
  }
  if (res != nullptr) {
    ldns_resolver_deep_free(res);  // frees the name servers pushed (copies)
  }
  if (ns != nullptr) {
    ldns_rdf_deep_free(ns);
  }
  if (!answered) {
    out.clear();
  }
  return answered;
}

}  // namespace kiteline::fleet
