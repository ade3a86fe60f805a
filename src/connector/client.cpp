#include "connector/client.hpp"

#include <algorithm>
#include <future>
#include <random>

#include "connector/relay_ping.hpp"
#include "connector/static_site.hpp"
#include "tls/client_auth.hpp"
#include "wire/sha1.hpp"

namespace kiteline::connector {

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

client::client(config::connector_config cfg, std::shared_ptr<spdlog::logger> log,
               client_options opts)
    : ctx_(std::make_shared<client_context>()), pool_(1) {
  ctx_->cfg = std::move(cfg);
  ctx_->opts = std::move(opts);
  ctx_->log = std::move(log);
  ctx_->process_secret = random_secret();
}

client::~client() { stop(); }

result<void> client::start(std::string& error) {
  auto& cfg = ctx_->cfg;
  auto& log = *ctx_->log;
  std::size_t enabled = 0;
  for (const auto& s : cfg.services) {
    if (s.enabled) {
      ++enabled;
    }
  }
  if (enabled == 0) {
    error = "no kites configured (use --service_on, or: kiteline PORT NAME)";
    return std::make_error_code(std::errc::invalid_argument);
  }
  if (cfg.frontends.empty() && !cfg.pool) {
    error = "no relay configured (use --frontend=HOST:PORT or --frontends=N:NAME:PORT)";
    return std::make_error_code(std::errc::invalid_argument);
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
                                   policy_warnings, error);
    if (!policy) {
      error = "TLS protocol policy: " + error;
      return std::make_error_code(std::errc::invalid_argument);
    }
    st.policy = *policy;
    if (policy->min < config::tls_version::tls1_2) {
      log.warn("TLS policy: {} enabled: OpenSSL security level lowered to 0 (TLS 1.0/1.1 need "
               "SHA-1 signatures, which OpenSSL 3 refuses at level 1 and above)",
               config::display_name(policy->min));
    }
    ctx_->tls = tls::make_client_context(st, error);
    if (ctx_->tls && !cfg.tls_client_cert.empty() &&
        !tls::use_client_certificate(ctx_->tls->native_handle(), cfg.tls_client_cert, error)) {
      ctx_->tls.reset();
    }
    if (!ctx_->tls) {
      return std::make_error_code(std::errc::invalid_argument);
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
  for (const auto& s : cfg.services) {
    if (!s.enabled || s.kind != config::origin_kind::folder) {
      continue;
    }
    std::string err;
    auto site = static_site::start(ex, s.folder, ctx_->log, err);
    if (!site) {
      error = "cannot serve " + s.folder + " for " + s.kite_name + ": " + err;
      return std::make_error_code(std::errc::invalid_argument);
    }
    ctx_->folder_ports[s.id()] = site->port();
    log.info("serving folder {} for kite {} on 127.0.0.1:{}", s.folder, s.kite_name,
             site->port());
    sites_.push_back(std::move(site));
  }
  {
    std::lock_guard lock(mu_);
    for (const auto& f : cfg.frontends) {
      tunnels_.push_back(std::make_shared<tunnel_client>(ex, ctx_, f.host, f.port));
    }
    for (auto& t : tunnels_) {
      t->start();
    }
  }
  if (cfg.pool) {
    auto ctx = ctx_;
    asio::co_spawn(ex, discover(ctx), [ctx](const std::exception_ptr& e) {
      if (e) {
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& ex2) {
          ctx->log->error("relay discovery failed: {}", ex2.what());
        }
      }
    });
  }
  started_ = true;
  return {};
}

net::awaitable<void> client::discover(std::shared_ptr<client_context> ctx) {
  const auto& pool = *ctx->cfg.pool;
  auto ex = co_await asio::this_coro::executor;
  asio::steady_timer timer(ex);
  while (!stopped_) {
    // Candidates: every A/AAAA record (asynchronous resolver), or the file's addresses.
    std::vector<tcp::endpoint> candidates;
    if (ctx->opts.resolver) {
      candidates = ctx->opts.resolver(pool.dns_name, pool.port);
      if (candidates.empty()) {
        ctx->log->warn("relay discovery: cannot resolve {}: not in the local resolver table",
                       pool.dns_name);
      }
    } else {
      tcp::resolver resolver(ex);
      auto [ec, results] =
          co_await resolver.async_resolve(pool.dns_name, std::to_string(pool.port), use_tuple);
      if (ec) {
        ctx->log->warn("relay discovery: cannot resolve {}: {}", pool.dns_name, ec.message());
      }
      for (const auto& r : results) {
        if (std::find(candidates.begin(), candidates.end(), r.endpoint()) == candidates.end()) {
          candidates.push_back(r.endpoint());
        }
      }
    }
    // Measure every candidate (bounded: one ping timeout each).
    struct measured {
      tcp::endpoint ep;
      ping_outcome p;
    };
    std::vector<measured> ok;
    for (const auto& ep : candidates) {
      auto p = co_await ping_relay(ex, ep, ctx->opts.ping_timeout);
      if (stopped_) {
        co_return;
      }
      if (p.error) {
        ctx->log->info("relay discovery: {}:{} {}", ep.address().to_string(), ep.port(), p.why);
        continue;
      }
      if (p.overloaded) {
        p.rtt += std::chrono::milliseconds(250);  // pool relay penalty (§3)
      }
      ok.push_back({ep, p});
    }
    std::sort(ok.begin(), ok.end(),
              [](const measured& a, const measured& b) { return a.p.rtt < b.p.rtt; });
    std::vector<std::string> uuids;
    // Chosen relays as (address, port): the port is the pool's, except from a local resolver
    // table (tests map the pool name to an ephemeral loopback port).
    std::vector<std::pair<std::string, std::uint16_t>> chosen;
    const auto label_of = [](const std::pair<std::string, std::uint16_t>& c) {
      return (c.first.find(':') != std::string::npos ? "[" + c.first + "]" : c.first) + ":" +
             std::to_string(c.second);
    };
    for (const auto& m : ok) {
      if (chosen.size() >= pool.count) {
        break;
      }
      if (!m.p.uuid.empty() &&
          std::find(uuids.begin(), uuids.end(), m.p.uuid) != uuids.end()) {
        continue;  // same relay process behind two addresses counts once (§9.2)
      }
      uuids.push_back(m.p.uuid);
      chosen.emplace_back(m.ep.address().to_string(), m.ep.port());
    }
    {
      std::lock_guard lock(mu_);
      const std::size_t manual = ctx->cfg.frontends.size();
      // Pool tunnels sit after the manual ones; drop those no longer chosen, add new ones.
      for (std::size_t i = manual; i < tunnels_.size();) {
        auto& t = tunnels_[i];
        const auto st = t->status();
        bool keep = false;
        for (const auto& c : chosen) {
          keep = keep || st.label == label_of(c);
        }
        if (!keep) {
          ctx->log->info("relay discovery: dropping relay {}", st.label);
          t->stop();
          tunnels_.erase(tunnels_.begin() + static_cast<std::ptrdiff_t>(i));
        } else {
          ++i;
        }
      }
      for (const auto& c : chosen) {
        const std::string label = label_of(c);
        bool have = false;
        for (const auto& t : tunnels_) {
          have = have || t->label() == label;
        }
        if (!have) {
          ctx->log->info("relay discovery: using relay {}", label);
          auto t = std::make_shared<tunnel_client>(ex, ctx, c.first, c.second);
          tunnels_.push_back(t);
          t->start();
        }
      }
    }
    timer.expires_after(ctx->opts.pool_interval);
    (void)co_await timer.async_wait(use_tuple);
  }
  co_return;
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
  {
    std::lock_guard lock(mu_);
    for (auto& t : tunnels_) {
      t->stop();
    }
  }
  if (started_ && threads_started_) {
    // Let the posted stops run (closing tunnels and origins) before the worker stops.
    auto done = std::make_shared<std::promise<void>>();
    auto f = done->get_future();
    asio::post(pool_.context(0), [done, sites = sites_] {
      for (const auto& s : sites) {
        s->stop();
      }
      done->set_value();
    });
    (void)f.wait_for(std::chrono::seconds(2));
  }
  pool_.stop();
}

std::size_t client::live_tunnels() const {
  std::lock_guard lock(mu_);
  std::size_t n = 0;
  for (const auto& t : tunnels_) {
    if (t->status().live) {
      ++n;
    }
  }
  return n;
}

std::vector<relay_status> client::relays() const {
  std::lock_guard lock(mu_);
  std::vector<relay_status> out;
  for (const auto& t : tunnels_) {
    out.push_back(t->status());
  }
  return out;
}

}  // namespace kiteline::connector
