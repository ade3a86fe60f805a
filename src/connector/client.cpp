#include "connector/client.hpp"

#include <algorithm>
#include <fstream>
#include <future>
#include <random>
#include <thread>

#include "connector/dyndns_updater.hpp"
#include "connector/kite_signing.hpp"
#include "connector/relay_ping.hpp"
#include "connector/static_site.hpp"
#include "net/spawn.hpp"
#include "tls/client_auth.hpp"
#include "keys/key_store.hpp"
#include "wire/sha1.hpp"

namespace kiteline::connector {

using namespace asio::experimental::awaitable_operators;
using net::tcp;
using net::use_tuple;

namespace {

std::string random_secret() {
  std::random_device rd;
  std::string material;
  for (int i = 0; i < 8; ++i) {
    material += std::to_string(rd());
  }
  return wire::sha1_hex(material);
}

}  // namespace

namespace {

/// --threads: N workers; 0 = one per relay (the pool's N counts), at most one per core.
std::size_t worker_count(const config::connector_config& cfg) {
  if (cfg.process.threads > 0) {
    return cfg.process.threads;
  }
  const std::size_t relays = cfg.frontends.size() + (cfg.pool ? cfg.pool->count : 0);
  return std::clamp<std::size_t>(relays, 1, std::max(1U, std::thread::hardware_concurrency()));
}

}  // namespace

client::client(config::connector_config cfg, std::shared_ptr<spdlog::logger> log,
               client_options opts)
    : ctx_(std::make_shared<client_context>()), pool_(worker_count(cfg)) {
  ctx_->cfg = std::move(cfg);
  // Remember which kites went live (for --all), then call the caller's hook.
  opts.on_kite_live = [this, hook = std::move(opts.on_kite_live)](const std::string& kite,
                                                                  const std::string& relay) {
    {
      std::lock_guard lock(mu_);
      if (std::find(live_kites_.begin(), live_kites_.end(), kite) == live_kites_.end()) {
        live_kites_.push_back(kite);
      }
    }
    if (hook) {
      hook(kite, relay);
    }
  };
  ctx_->opts = std::move(opts);
  ctx_->log = std::move(log);
  ctx_->process_secret = random_secret();
}

client::~client() { stop(); }

outcome<void> client::install_client_certificate(const std::string& pem_file) {
  if (ctx_->opts.keys) {
    // The key stays in the key process; the context gets the chain and a proxy key.
    auto pair = ctx_->opts.keys->load(pem_file);
    if (!pair) {
      return kiteline::failure(errc::client_certificate,
                               "client certificate " + pem_file + ": " + pair.error().message());
    }
    if (auto problem = tls::install_certified_key(ctx_->tls->native_handle(), *pair);
        !problem.empty()) {
      return kiteline::failure(errc::client_certificate,
                               "client certificate " + pem_file + ": " + problem);
    }
    ctx_->log->info("client certificate {} (serial {}): private key in the key process",
                    pem_file, tls::serial_hex(pair->leaf()));
    return {};
  }
  if (outcome<void> used = tls::use_client_certificate(ctx_->tls->native_handle(), pem_file);
      !used) {
    return kiteline::failure(errc::client_certificate, used.error().message());
  }
  return {};
}

outcome<void> client::start() {
  auto& cfg = ctx_->cfg;
  auto& log = *ctx_->log;
  std::size_t enabled = 0;
  for (const auto& s : cfg.services) {
    if (s.enabled) {
      ++enabled;
    }
  }
  if (enabled == 0) {
    return kiteline::failure(errc::no_kites,
                             "no kites configured (use --service_on, or: kiteline PORT NAME)");
  }
  if (cfg.frontends.empty() && !cfg.pool) {
    return kiteline::failure(
        errc::no_relay,
        "no relay configured (use --frontend=HOST:PORT or --frontends=N:NAME:PORT)");
  }
  // TLS (spec §2.1): whenever a certificate name or a CA is given, or --fe_nocertcheck.
  const bool tls = !cfg.fe_certnames.empty() || !cfg.ca_certs.empty() || cfg.fe_nocertcheck;
  if (tls) {
    auto& st = ctx_->tls_settings;
    for (const auto& n : cfg.fe_certnames) {
      st.names.push_back({n.name, n.sha1});
    }
    st.ca_file = (cfg.ca_certs == "auto" || cfg.ca_certs == "curl") ? "" : cfg.ca_certs;
    st.no_verify = cfg.fe_nocertcheck;
    std::vector<std::string> policy_warnings;
    auto policy = tls::make_policy(cfg.tls_protocols, cfg.tls_legacy, cfg.tls_ciphers,
                                   policy_warnings);
    if (!policy) {
      return kiteline::failure(errc::tls_policy,
                               "TLS protocol policy: " + policy.error().message());
    }
    st.policy = *policy;
    st.policy.own_records = !cfg.tls_openssl_records;
    if (policy->min < tls::tls_version::tls1_2) {
      log.warn("TLS policy: {} enabled: OpenSSL security level lowered to 0 (TLS 1.0/1.1 need "
               "SHA-1 signatures, which OpenSSL 3 refuses at level 1 and above)",
               tls::display_name(policy->min));
    }
    auto context = tls::make_client_context(st);
    if (!context) {
      return kiteline::failure(errc::tls_context, context.error().message());
    }
    ctx_->tls = *context;
    if (!cfg.tls_client_cert.empty()) {
      if (outcome<void> used = install_client_certificate(cfg.tls_client_cert); !used) {
        ctx_->tls.reset();
        return used;
      }
    }
    if (cfg.fe_nocertcheck) {
      ctx_->security = tunnel_security::nocheck;
    } else if (cfg.tls_direct) {
      ctx_->security = tunnel_security::direct;
    } else {
      ctx_->security = tunnel_security::preamble;
    }
  }
  auto ex = pool_.context(0).get_executor();
  log.info("connector: {} worker thread(s)", pool_.size());
  for (const auto& s : cfg.services) {
    if (!s.enabled || s.kind != config::origin_kind::folder) {
      continue;
    }
    auto site = static_site::start(ex, s.folder, ctx_->log);
    if (!site) {
      return site.error().prefixed("cannot serve " + s.folder + " for " + s.kite_name + ": ");
    }
    ctx_->folder_ports[s.id()] = (*site)->port();
    log.info("serving folder {} for kite {} on 127.0.0.1:{}", s.folder, s.kite_name,
             (*site)->port());
    sites_.push_back(std::move(*site));
  }
  rediscover_ = std::make_unique<net::signal>(ex);
  if (cfg.dyndns) {
    // --dyndns (§9.6): the tunnels tell the updater when they change; it runs on worker 0.
    dyndns_ = std::make_shared<dyndns_updater>(ex, ctx_, [this] { return relays(); });
    ctx_->tunnels_changed = [weak = std::weak_ptr<dyndns_updater>(dyndns_)] {
      if (auto d = weak.lock()) {
        d->notify();
      }
    };
    dyndns_->start();
  }
  ctx_->relay_going = [this](const std::string& label, const std::string& uuid,
                             std::uint32_t grace) { relay_going(label, uuid, grace); };
  {
    std::lock_guard lock(mu_);
    for (const auto& f : cfg.frontends) {
      tunnels_.push_back(std::make_shared<tunnel_client>(next_executor(), ctx_, f.host, f.port));
    }
    for (auto& t : tunnels_) {
      t->start();
    }
  }
  if (cfg.pool) {
    asio::co_spawn(ex, discover(ctx_), net::log_failure(ctx_->log, "relay discovery failed"));
  }
  if (cfg.require_all) {
    asio::co_spawn(ex, check_all(ctx_), net::log_failure(ctx_->log, "--all check failed"));
  }
  started_ = true;
  return {};
}

namespace {

/// The pool's candidate hosts: the DNS name, or the lines of the @FILE (pagekite.py
/// GetHostIpAddrs: one address per line, `#`/`;` comments). The file is re-read on every pass.
std::vector<std::string> pool_hosts(const config::frontend_pool& pool, spdlog::logger& log) {
  if (pool.file.empty()) {
    return {pool.dns_name};
  }
  std::vector<std::string> out;
  std::ifstream in(pool.file);
  if (!in) {
    log.warn("relay discovery: cannot read {}", pool.file);
    return out;
  }
  std::string line;
  // Bounded: at most 1000 addresses.
  while (out.size() < 1000 && std::getline(in, line)) {
    const auto b = line.find_first_not_of(" \t\r");
    const auto e = line.find_last_not_of(" \t\r");
    if (b == std::string::npos || line[b] == '#' || line[b] == ';') {
      continue;
    }
    out.push_back(line.substr(b, e - b + 1));
  }
  return out;
}

std::string endpoint_label(const tcp::endpoint& ep) {
  const std::string a = ep.address().to_string();
  return (ep.address().is_v6() ? "[" + a + "]" : a) + ":" + std::to_string(ep.port());
}

}  // namespace

asio::any_io_executor client::next_executor() {
  return pool_.context(next_worker_++ % pool_.size()).get_executor();
}

bool client::replacement_live() const {
  std::lock_guard lock(mu_);
  for (const auto& t : tunnels_) {
    const auto st = t->status();
    if (st.live && !st.retiring && !st.stopped) {
      return true;
    }
  }
  return false;
}

net::awaitable<void> client::discover(std::shared_ptr<client_context> ctx) {
  const auto& pool = *ctx->cfg.pool;
  auto ex = co_await asio::this_coro::executor;
  asio::steady_timer timer(ex);
  while (!stopped_) {
    // Candidates: every A/AAAA record (asynchronous resolver), or the file's addresses.
    std::vector<tcp::endpoint> candidates;
    for (const auto& host : pool_hosts(pool, *ctx->log)) {
      if (ctx->opts.resolver) {  // local resolver table (tests, white-label discovery)
        auto mapped = ctx->opts.resolver(host, pool.port);
        if (mapped.empty()) {
          ctx->log->warn("relay discovery: cannot resolve {}: not in the local resolver table",
                         host);
        }
        for (const auto& ep : mapped) {
          if (std::find(candidates.begin(), candidates.end(), ep) == candidates.end()) {
            candidates.push_back(ep);
          }
        }
        continue;
      }
      tcp::resolver resolver(ex);
      auto [ec, results] =
          co_await resolver.async_resolve(host, std::to_string(pool.port), use_tuple);
      if (ec) {
        ctx->log->warn("relay discovery: cannot resolve {}: {}", host, ec.message());
      }
      for (const auto& r : results) {
        if (std::find(candidates.begin(), candidates.end(), r.endpoint()) == candidates.end()) {
          candidates.push_back(r.endpoint());
        }
      }
    }
    // Relays in use (live, not retiring) get a bonus so equally near relays do not flap.
    std::vector<std::string> in_use;
    {
      std::lock_guard lock(mu_);
      for (std::size_t i = ctx->cfg.frontends.size(); i < tunnels_.size(); ++i) {
        const auto st = tunnels_[i]->status();
        if (st.live && !st.retiring && !st.stopped) {
          in_use.push_back(st.label);
        }
      }
    }
    // Measure every candidate (bounded: one ping timeout each).
    struct measured {
      tcp::endpoint ep;
      ping_outcome p;
      std::chrono::microseconds score;
    };
    std::vector<measured> ok;
    const auto going = [this](const std::string& uuid) {
      std::lock_guard lock(mu_);
      return !uuid.empty() &&
             std::find(going_uuids_.begin(), going_uuids_.end(), uuid) != going_uuids_.end();
    };
    for (const auto& ep : candidates) {
      auto p = co_await ping_relay(ex, ep, ctx->opts.ping_timeout);
      if (stopped_) {
        co_return;
      }
      if (p.error) {
        ctx->log->info("relay discovery: {} {}", endpoint_label(ep), p.why);
        continue;
      }
      if (going(p.uuid)) {
        ctx->log->info("relay discovery: {} is draining; not chosen", endpoint_label(ep));
        continue;
      }
      auto score = p.rtt;
      if (p.overloaded) {
        // pagekite.py Ping: a pool relay saying X-PageKite-Overloaded counts 250 ms slower, so
        // a relay that is not overloaded is preferred unless it is that much farther away.
        score += std::chrono::milliseconds(250);
        ctx->log->info("relay discovery: {} says it is overloaded (counted 250 ms slower)",
                       endpoint_label(ep));
      }
      if (std::find(in_use.begin(), in_use.end(), endpoint_label(ep)) != in_use.end()) {
        score -= std::min<std::chrono::microseconds>(score, ctx->opts.pool_stickiness);
      }
      ok.push_back({ep, p, score});
    }
    std::stable_sort(ok.begin(), ok.end(),
                     [](const measured& a, const measured& b) { return a.score < b.score; });
    std::vector<std::string> uuids;
    std::vector<tcp::endpoint> chosen;
    for (const auto& m : ok) {
      if (chosen.size() >= pool.count) {
        break;
      }
      if (!m.p.uuid.empty() &&
          std::find(uuids.begin(), uuids.end(), m.p.uuid) != uuids.end()) {
        continue;  // same relay process behind two addresses counts once (§9.2)
      }
      uuids.push_back(m.p.uuid);
      chosen.push_back(m.ep);
    }
    {
      std::lock_guard lock(mu_);
      const std::size_t manual = ctx->cfg.frontends.size();
      // Pool tunnels sit after the manual ones. Forget the stopped ones; retire those no longer
      // chosen (they close once idle, §9.2); add the newly chosen ones.
      for (std::size_t i = manual; i < tunnels_.size();) {
        auto& t = tunnels_[i];
        const auto st = t->status();
        if (st.stopped) {
          tunnels_.erase(tunnels_.begin() + static_cast<std::ptrdiff_t>(i));
          continue;
        }
        const bool keep = std::any_of(chosen.begin(), chosen.end(), [&](const tcp::endpoint& c) {
          return endpoint_label(c) == st.label;
        });
        if (!keep && !st.retiring) {
          ctx->log->info("relay discovery: relay {} no longer chosen", st.label);
          t->retire(ctx->opts.retire_grace, [this] { return replacement_live(); });
        }
        ++i;
      }
      if (chosen.empty()) {
        ctx->log->warn("relay discovery: no relay of the pool answers");
      }
      for (const auto& c : chosen) {
        const std::string label = endpoint_label(c);
        const bool have = std::any_of(
            tunnels_.begin() + static_cast<std::ptrdiff_t>(std::min(manual, tunnels_.size())),
            tunnels_.end(), [&](const auto& t) {
              const auto st = t->status();
              return t->label() == label && !st.retiring;
            });
        if (!have) {
          ctx->log->info("relay discovery: using relay {}", label);
          auto t = std::make_shared<tunnel_client>(next_executor(), ctx,
                                                   c.address().to_string(), c.port());
          tunnels_.push_back(t);
          t->start();
        }
      }
    }
    pool_ready_ = true;
    ++ctx->counters.pool_passes;
    timer.expires_after(ctx->opts.pool_interval);
    // Until the interval is over, or at once when a relay says it is going (relay_going).
    (void)co_await (rediscover_->wait() || timer.async_wait(use_tuple));
  }
  co_return;
}

net::awaitable<void> client::check_all(std::shared_ptr<client_context> ctx) {
  auto ex = co_await asio::this_coro::executor;
  asio::steady_timer timer(ex);
  const auto deadline = std::chrono::steady_clock::now() + ctx->opts.require_all_timeout;
  // Wait for every relay's first attempt (bounded by require_all_timeout, 50-ms steps).
  while (!stopped_ && std::chrono::steady_clock::now() < deadline) {
    bool done = !ctx->cfg.pool || pool_ready_;
    {
      std::lock_guard lock(mu_);
      for (const auto& t : tunnels_) {
        const auto st = t->status();
        done = done && (st.live || st.finished > 0 || st.stopped);
      }
    }
    if (done) {
      break;
    }
    timer.expires_after(std::chrono::milliseconds(50));
    (void)co_await timer.async_wait(use_tuple);
  }
  if (stopped_) {
    co_return;
  }
  std::string missing;
  {
    std::lock_guard lock(mu_);
    for (const auto& s : ctx->cfg.services) {
      const std::string kite = kite_proto(s) + ":" + s.kite_name;
      if (s.enabled &&
          std::find(live_kites_.begin(), live_kites_.end(), kite) == live_kites_.end()) {
        missing += (missing.empty() ? "" : ", ") + kite;
      }
    }
    if (!missing.empty()) {
      failure_ = "--all: no tunnel for " + missing;
    }
  }
  if (missing.empty()) {
    ctx->log->info("--all: every kite is live");
    co_return;
  }
  ctx->log->error("--all: no tunnel for {}; giving up", missing);
  if (ctx->opts.on_fatal) {
    ctx->opts.on_fatal("--all: no tunnel for " + missing);
  }
  co_return;
}

std::string client::failure() const {
  std::lock_guard lock(mu_);
  return failure_;
}

void client::run() { pool_.run_here(); }

void client::start_threads() {
  threads_started_ = true;
  pool_.start();
}

void client::stop() {
  if (stopped_.exchange(true)) {
    return;
  }
  if (dyndns_) {
    dyndns_->stop();
  }
  {
    std::lock_guard lock(mu_);
    for (auto& t : tunnels_) {
      t->stop();
    }
  }
  if (started_ && threads_started_) {
    // Let the posted stops run (closing tunnels and origins) before the workers stop.
    std::vector<std::future<void>> done;
    for (std::size_t i = 0; i < pool_.size(); ++i) {
      auto p = std::make_shared<std::promise<void>>();
      done.push_back(p->get_future());
      asio::post(pool_.context(i), [p, sites = i == 0 ? sites_ : decltype(sites_){}] {
        for (const auto& s : sites) {
          s->stop();
        }
        p->set_value();
      });
    }
    for (auto& f : done) {
      (void)f.wait_for(std::chrono::seconds(2));
    }
  }
  pool_.stop();
}

std::size_t client::live_tunnels() const {
  std::lock_guard lock(mu_);
  std::size_t n = 0;
  for (const auto& t : tunnels_) {
    const auto st = t->status();
    if (st.live && !st.stopped) {
      ++n;
    }
  }
  return n;
}

std::uint64_t client::outbox_peak_for_test() const {
  std::vector<std::shared_ptr<tunnel_client>> tunnels;
  {
    std::lock_guard lock(mu_);
    tunnels = tunnels_;
  }
  std::uint64_t peak = 0;
  for (const auto& t : tunnels) {
    auto p = std::make_shared<std::promise<std::uint64_t>>();
    auto f = p->get_future();
    asio::post(t->executor(), [p, t] { p->set_value(t->outbox_peak()); });
    if (f.wait_for(std::chrono::seconds(2)) == std::future_status::ready) {
      peak = std::max(peak, f.get());
    }
  }
  return peak;
}

std::vector<relay_status> client::relays() const {
  std::lock_guard lock(mu_);
  std::vector<relay_status> out;
  for (const auto& t : tunnels_) {
    auto st = t->status();
    if (!st.stopped || stopped_) {
      out.push_back(std::move(st));
    }
  }
  return out;
}

}  // namespace kiteline::connector
