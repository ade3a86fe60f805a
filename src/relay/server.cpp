#include "relay/server.hpp"

#include "core/assert.hpp"
#include "net/listener.hpp"
#include "net/prefixed_socket.hpp"
#include "net/spawn.hpp"
#include "relay/peer_forward.hpp"
#include "relay/server_impl.hpp"
#include "wire/sha1.hpp"

#include <algorithm>
#include <chrono>
#include <future>
#include <thread>

#include <openssl/rand.h>

namespace kiteline::relay {

using net::awaitable;
using net::tcp;
using net::use_tuple;

std::string random_hex(std::size_t n_bytes) {
  std::vector<unsigned char> b(n_bytes);
  if (::RAND_bytes(b.data(), static_cast<int>(b.size())) != 1) {
    KL_PANIC("RAND_bytes failed");
  }
  return to_hex(std::span<const std::uint8_t>(b.data(), b.size()));
}

// ---------------------------------------------------------------------------------------------

server::impl::impl(server& s, std::size_t threads) : srv(s), pool(threads) {
  stats.closed.resize(threads);
}

std::uint16_t server::impl::reported_port(std::uint16_t listen) const {
  for (const auto& a : cfg().port_aliases) {
    if (a.listen_port == listen) {
      return a.reported_port;
    }
  }
  return listen;
}

awaitable<void> server::impl::refuse(tls::transport& t, std::string_view reply) {
  (void)co_await t.write(asio::buffer(reply.data(), reply.size()));
  (void)co_await t.shutdown_send();
  // Give the peer a moment to read before the close (pagekite.py sends an RST here).
  asio::steady_timer linger(co_await asio::this_coro::executor);
  linger.expires_after(std::chrono::milliseconds(50));
  (void)co_await linger.async_wait(use_tuple);
  t.close();
}

awaitable<void> server::impl::watch_certificates() {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  while (!stopping) {
    timer.expires_after(cfg().tls_reload_interval);
    auto [ec] = co_await timer.async_wait(use_tuple);
    if (ec || stopping) {
      break;
    }
    reloader->reload(false);
  }
}

awaitable<void> server::impl::accept_loop(std::size_t worker, tcp::acceptor* acc,
                                          std::uint16_t port) {
  auto ex = co_await asio::this_coro::executor;
  while (!stopping) {
    // The peer's address comes with the accept (no getpeername per visitor).
    tcp::endpoint remote;
    auto [ec, sock] = co_await acc->async_accept(remote, use_tuple);
    if (stopping) {
      break;
    }
    if (ec) {
      if (ec == asio::error::operation_aborted) {
        break;
      }
      // EMFILE and friends: back off briefly instead of spinning (style §6.7).
      log().warn("accept failed on port {}: {}", port, ec.message());
      asio::steady_timer t(ex);
      t.expires_after(std::chrono::milliseconds(100));
      (void)co_await t.async_wait(use_tuple);
      continue;
    }
    ++counters().connections;
    std::string peer = remote.address().to_string();
    std::uint16_t peer_port = remote.port();
    if (!access.accept(peer, peer_port, port)) {  // --accept_acl_file: closed at once
      std::error_code cec;
      sock.close(cec);
      continue;
    }
    std::error_code pec;
    sock.set_option(tcp::no_delay(true), pec);
    // Non-blocking once, as the user's choice: asio then neither sets it again for the first
    // wait nor does the tunnel link when the stream starts (one ioctl per visitor, not two).
    sock.non_blocking(true, pec);
    tls::transport t{net::prefixed_socket(std::move(sock))};
    asio::co_spawn(ex, visitor_job.run(worker, std::move(t), port, {}, false, peer, peer_port),
                   net::log_failure(log_ptr(), "connection handler failed"));
  }
}

// ---------------------------------------------------------------------------------------------

server::server(config::relay_config cfg, std::shared_ptr<spdlog::logger> log)
    : cfg_(std::move(cfg)), log_(std::move(log)), uuid_(random_hex(20)) {
  std::size_t threads = cfg_.process.threads;
  if (threads == 0) {
    threads = std::max(1U, std::thread::hardware_concurrency());
  }
  impl_ = std::make_unique<impl>(*this, threads);
  impl_->tunnels.resize(threads);
  impl_->acceptors.resize(threads);
}

server::~server() { stop(); }

outcome<void> server::start() {
  if (auto apps = impl_->tunnel_job.start_auth_apps(); !apps.empty()) {
    return failure(errc::auth_app, apps);  // --authdomain=/path/app (relay/auth_app)
  }
  std::vector<std::string> policy_warnings;
  auto policy = tls::make_policy(cfg_.tls_protocols, cfg_.tls_legacy, cfg_.tls_ciphers,
                                 policy_warnings);
  if (!policy) {
    return failure(errc::tls_policy, "TLS protocol policy: " + policy.error().message());
  }
  policy->own_records = !cfg_.tls_openssl_records;
  if (!cfg_.tls_endpoints.empty()) {
    log_->info("TLS policy: {}..{}{}", tls::display_name(policy->min),
               tls::display_name(policy->max),
               cfg_.tls_client_ca.empty() ? "" : ", client certificates verified");
    if (policy->min < tls::tls_version::tls1_2) {
      log_->warn(
          "TLS policy: {} enabled: OpenSSL security level lowered to 0 (TLS 1.0/1.1 "
          "need SHA-1 signatures, which OpenSSL 3 refuses at level 1 and above)",
          tls::display_name(policy->min));
    }
  }
  if (!keys_) {
    keys_ = kiteline::keys::make_inprocess_key_store();
  }
  impl_->reloader = std::make_unique<kiteline::keys::certificate_reloader>(
      keys_, *policy, cfg_.tls_endpoint_ca, cfg_.tls_client_ca, log_);
  for (const auto& e : cfg_.tls_endpoints) {
    if (outcome<void> added = impl_->reloader->add(impl_->endpoints, e.name, e.pem_file);
        !added) {
      return failure(errc::tls_endpoint, e.origin + ": tls_endpoint " + e.name + ": " +
                                             e.pem_file + ": " + added.error().message());
    }
  }
  impl_->endpoints.set_default(cfg_.tls_default);
  if (!cfg_.tls_endpoints.empty() && cfg_.tls_reload_interval.count() > 0) {
    asio::co_spawn(impl_->pool.context(0), impl_->watch_certificates(),
                   net::log_failure(log_, "connection handler failed"));
  }

  for (std::uint16_t want : cfg_.ports) {
    std::uint16_t port = want;
    for (std::size_t w = 0; w < impl_->pool.size(); ++w) {
      auto ep = net::bind_endpoint(cfg_.host, port);
      if (!ep) {
        return failure(errc::bad_host, "bad --host '" + cfg_.host + "': " + ep.error().message());
      }
      // One exclusive socket per port (no SO_REUSEPORT: a second relay on the port fails
      // here instead of silently taking a share of the visitors); the other workers accept
      // from the same socket through their own descriptor.
      auto acc = w == 0 ? net::make_exclusive_acceptor(impl_->pool.context(w), *ep)
                        : net::share_acceptor(impl_->pool.context(w), *impl_->acceptors[0].back());
      if (!acc) {
        return failure(errc::cannot_listen,
                       net::describe_listen_error(
                           (cfg_.host.empty() ? std::string("*") : cfg_.host) + ":" +
                               std::to_string(port),
                           acc.error()));
      }
      port = acc->local_endpoint().port();
      impl_->acceptors[w].push_back(std::make_unique<tcp::acceptor>(std::move(*acc)));
    }
    ports_.push_back(port);
  }
  if (outcome<void> access = impl_->access.start(); !access) {
    return access.error();
  }
  if (cfg_.fleet.enabled() && !ports_.empty()) {
    // Issue 24: every kite this relay holds goes into the fleet's zone (fleet/publisher).
    impl_->publisher = std::make_shared<fleet::publisher>(cfg_.fleet, ports_.front(), uuid_, log_);
    registry_.set_observer([p = impl_->publisher](std::string_view kite, bool up) {
      up ? p->kite_up(kite) : p->kite_down(kite);
    });
    impl_->publisher->set_overload_check([this] { return impl_->access.overloaded(); });
  }
  for (std::size_t w = 0; w < impl_->pool.size(); ++w) {
    for (std::size_t i = 0; i < ports_.size(); ++i) {
      asio::co_spawn(impl_->pool.context(w),
                     impl_->accept_loop(w, impl_->acceptors[w][i].get(), ports_[i]),
                     net::log_failure(log_, "connection handler failed"));
    }
  }
  if (outcome<void> fleet = start_fleet(*impl_); !fleet) {
    return fleet.error();
  }
  std::string list;
  for (auto p : ports_) {
    list += (list.empty() ? "" : ",") + std::to_string(p);
  }
  log_->info("relay ready ports={} uuid={} workers={}", list, uuid_, impl_->pool.size());
  if (impl_->publisher) {
    impl_->publisher->start();
  }
  return {};
}

void server::reload_certificates() {
  asio::post(impl_->pool.context(0), [this] {
    if (impl_->reloader) {
      impl_->reloader->reload(true);
    }
  });
}

void server::run() { impl_->pool.run_here(); }
void server::start_threads() { impl_->pool.start(); }

void server::stop() {
  if (!impl_ || impl_->stopping.exchange(true)) {
    return;
  }
  if (impl_->publisher) {
    impl_->publisher->stop();  // deletes this relay's records (about 2 s at most)
  }
  // Close everything on its own worker, then stop the contexts.
  for (std::size_t w = 0; w < impl_->pool.size(); ++w) {
    asio::post(impl_->pool.context(w), [this, w] {
      for (auto& a : impl_->acceptors[w]) {
        std::error_code ec;
        a->close(ec);
      }
      auto tunnels = impl_->tunnels[w];
      for (auto& [id, t] : tunnels) {
        t->link->close("relay stopping");
      }
    });
  }
  impl_->pool.stop();
}

std::uint64_t server::buffered_bytes_for_test() {
  std::uint64_t total = 0;
  for (std::size_t w = 0; w < impl_->pool.size(); ++w) {
    std::promise<std::uint64_t> p;
    auto f = p.get_future();
    asio::post(impl_->pool.context(w), [this, w, &p] {
      std::uint64_t n = 0;
      for (auto& [id, t] : impl_->tunnels[w]) {
        n += t->link->local_buffered();
      }
      p.set_value(n);
    });
    total += f.get();
  }
  return total;
}

std::size_t server::tunnel_count() {
  std::size_t total = 0;
  for (std::size_t w = 0; w < impl_->pool.size(); ++w) {
    std::promise<std::size_t> p;
    auto f = p.get_future();
    asio::post(impl_->pool.context(w), [this, w, &p] { p.set_value(impl_->tunnels[w].size()); });
    total += f.get();
  }
  return total;
}

}  // namespace kiteline::relay
