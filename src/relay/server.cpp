#include "relay/server.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <ctime>
#include <map>
#include <future>
#include <thread>

#include "core/assert.hpp"
#include "core/memory.hpp"
#include "net/listener.hpp"
#include "net/prefixed_socket.hpp"
#include "tls/transport.hpp"
#include "relay/kite_policy.hpp"
#include "relay/token_book.hpp"
#include "sniff/classify.hpp"
#include "tls/client_auth.hpp"
#include "keys/key_reload.hpp"
#include "wire/chunk_encoder.hpp"
#include "wire/handshake.hpp"
#include "wire/head.hpp"
#include "wire/kite_auth.hpp"
#include "wire/ping.hpp"
#include "wire/reject.hpp"
#include "wire/sha1.hpp"

namespace kiteline::relay {

using net::awaitable;
using net::tcp;
using net::use_tuple;

namespace {

std::string random_hex(std::size_t n_bytes) {
  std::vector<unsigned char> b(n_bytes);
  if (::RAND_bytes(b.data(), static_cast<int>(b.size())) != 1) {
    KL_PANIC("RAND_bytes failed");
  }
  return wire::to_hex(std::span<const std::uint8_t>(b.data(), b.size()));
}

std::uint64_t unix_now() {
  return static_cast<std::uint64_t>(std::time(nullptr));
}

/// Seconds on a monotonic clock: the time of challenge tokens (issued and checked only by this
/// process, so any steady origin works, and a wall-clock step cannot stretch or cut their life).
std::uint64_t token_clock() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count());
}

std::span<const std::byte> as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

std::string_view as_text(std::span<const std::byte> b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

std::string hex_len(std::size_t n) {
  char buf[32];
  int k = std::snprintf(buf, sizeof buf, "%zx\r\n", n);
  return std::string(buf, static_cast<std::size_t>(k));
}

bool contains(const std::vector<std::string>& v, std::string_view x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

struct owned_open {
  std::string proto;
  std::string host;
  std::uint32_t port = 0;
  std::string rip;
  std::uint32_t rport = 0;
  bool rtls = false;
  [[nodiscard]] mux::stream_open view() const {
    return mux::stream_open{proto, host, port, rip, rport, rtls};
  }
};

}  // namespace

// ---------------------------------------------------------------------------------------------

struct server::impl {
  impl(server& s, std::size_t threads) : srv(s), pool(threads) {}

  server& srv;
  net::worker_pool pool;
  std::vector<std::vector<std::unique_ptr<tcp::acceptor>>> acceptors;  // [worker][port]
  std::vector<std::uint16_t> listen_ports;                             // bound, per acceptor
  tls::endpoint_set endpoints;
  std::unique_ptr<kiteline::keys::certificate_reloader> reloader;  // used on worker 0 after start()
  std::string fe_secret = random_hex(32);
  /// Challenge tokens already used: each is accepted once (shared by every worker).
  token_book used_tokens;
  std::atomic<std::uint64_t> next_tunnel_id{1};
  std::atomic<std::size_t> round_robin{0};
  std::atomic<bool> stopping{false};
  // Tunnels by worker; each map is touched only on its worker's thread.
  std::vector<std::map<std::uint64_t, std::shared_ptr<tunnel>>> tunnels;
  std::mutex sessions_mu;
  std::map<std::string, std::pair<std::size_t, std::weak_ptr<tunnel>>> by_session;
  // Tunnels on probation (no kite accepted yet), in all and per connector address.
  std::mutex probation_mu;
  std::size_t probation_total = 0;
  std::map<std::string, std::size_t, std::less<>> probation_by_ip;

  /// Takes a probation place for a tunnel from `ip`; false when --max_unauth_tunnels is reached
  /// (`why` then says which limit). Any worker.
  bool admit_probation(const std::string& ip, std::string& why) {
    std::lock_guard lock(probation_mu);
    if (probation_total >= cfg().max_unauth_tunnels) {
      why = "too many tunnels awaiting a kite (" + std::to_string(probation_total) + ")";
      return false;
    }
    std::size_t& n = probation_by_ip[ip];
    if (n >= cfg().max_unauth_per_ip) {
      why = "too many tunnels awaiting a kite from this address (" + std::to_string(n) + ")";
      return false;
    }
    ++n;
    ++probation_total;
    return true;
  }
  /// Gives the place back (the tunnel got a kite, or closed). Any worker.
  void leave_probation(tunnel& tun) {
    if (!tun.on_probation) {
      return;
    }
    tun.on_probation = false;
    std::lock_guard lock(probation_mu);
    --probation_total;
    auto it = probation_by_ip.find(tun.peer);
    if (it != probation_by_ip.end() && --it->second == 0) {
      probation_by_ip.erase(it);
    }
  }

  [[nodiscard]] const config::relay_config& cfg() const { return srv.cfg_; }

  /// Completion handler body of every co_spawn: one connection failed, nothing else.
  void log_exception(const std::exception_ptr& e) {
    if (!e) {
      return;
    }
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      log().error("connection handler failed: {}", x.what());
    } catch (...) {
      log().error("connection handler failed: unknown exception");
    }
  }
  spdlog::logger& log() { return *srv.log_; }

  std::uint16_t reported_port(std::uint16_t listen) const {
    for (const auto& a : cfg().port_aliases) {
      if (a.listen_port == listen) {
        return a.reported_port;
      }
    }
    return listen;
  }

  std::string unavailable_page(std::string_view proto_label, std::string_view host) {
    return wire::format_unavailable_page(srv.uuid_, proto_label, host, "fe");
  }

  /// Worker 0: checks the --tls_endpoint files every --tls_reload_seconds until stop.
  awaitable<void> watch_certificates() {
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

  awaitable<void> accept_loop(std::size_t worker, tcp::acceptor* acc, std::uint16_t port);
  awaitable<void> serve(std::size_t worker, tls::transport t, std::uint16_t port,
                        std::vector<std::byte> buf, bool via_tls, std::string peer,
                        std::uint16_t peer_port);
  awaitable<void> handle_tunnel(std::size_t worker, tls::transport t, std::vector<std::byte> buf,
                                std::size_t head_len, std::string peer);
  awaitable<void> handle_connect(std::size_t worker, tls::transport t, std::uint16_t port,
                                 std::vector<std::byte> buf, sniff::classification c,
                                 std::string peer, std::uint16_t peer_port);
  awaitable<void> terminate_tls(std::size_t worker, tls::transport t, std::uint16_t port,
                                std::vector<std::byte> buf, const tls::endpoint* ep,
                                std::string peer, std::uint16_t peer_port);
  awaitable<void> refuse(tls::transport& t, std::string_view reply) {
    (void)co_await t.write(asio::buffer(reply.data(), reply.size()));
    (void)co_await t.shutdown_send();
    // Give the peer a moment to read before the close (pagekite.py sends an RST here).
    asio::steady_timer linger(co_await asio::this_coro::executor);
    linger.expires_after(std::chrono::milliseconds(50));
    (void)co_await linger.async_wait(use_tuple);
    t.close();
  }

  /// The one way a connection changes worker: detached here, attached on worker `target`, where
  /// `then(transport&&)` runs. A connection that cannot move is closed (and logged). Call on
  /// the connection's current worker with no operation pending on it.
  template <class Then>
  void move_to_worker(std::size_t target, tls::transport t, Then then) {
    if (auto ec = t.detach()) {
      log().info("visitor closed reason=\"cannot move it to worker {}: {}\"", target,
                 ec.message());
      return;
    }
    asio::post(pool.context(target),
               [this, target, t = std::move(t), then = std::move(then)]() mutable {
                 if (auto ec = t.attach(pool.context(target).get_executor())) {
                   log().info("visitor closed reason=\"cannot adopt it on worker {}: {}\"",
                              target, ec.message());
                   return;
                 }
                 then(std::move(t));
               });
  }

  /// Hands a visitor to the tunnel `r`, moving the socket to the tunnel's worker if needed.
  void dispatch_stream(std::size_t worker, tls::transport t, const route& r, owned_open info,
                       std::vector<std::byte> first);

  wire::handshake_response process_kites(tunnel& tun, const std::vector<wire::kite_request>& kites,
                                         std::vector<std::string>& ok_keys, bool& rejected);
  void log_kite_decision(const tunnel& tun, const wire::kite_request& k, const kite_decision& d);
  void register_keys(const std::shared_ptr<tunnel>& tun, const std::vector<std::string>& keys);
  std::string new_session_id(tunnel& tun);
  void replace_session(const std::string& id);
  void on_control(const std::shared_ptr<tunnel>& tun, const mux::control_chunk& c);
  void on_tunnel_closed(std::size_t worker, std::uint64_t id, const std::string& why);
};

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

result<void> server::start(std::string& error) {
  std::vector<std::string> policy_warnings;
  auto policy = tls::make_policy(cfg_.tls_protocols, cfg_.tls_legacy, cfg_.tls_ciphers,
                                 policy_warnings, error);
  if (!policy) {
    error = "TLS protocol policy: " + error;
    return std::make_error_code(std::errc::invalid_argument);
  }
  policy->own_records = !cfg_.tls_openssl_records;
  if (!cfg_.tls_endpoints.empty()) {
    log_->info("TLS policy: {}..{}{}", tls::display_name(policy->min),
               tls::display_name(policy->max),
               cfg_.tls_client_ca.empty() ? "" : ", client certificates verified");
    if (policy->min < tls::tls_version::tls1_2) {
      log_->warn("TLS policy: {} enabled: OpenSSL security level lowered to 0 (TLS 1.0/1.1 "
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
    if (!impl_->reloader->add(impl_->endpoints, e.name, e.pem_file, error)) {
      error = e.origin + ": tls_endpoint " + e.name + ": " + e.pem_file + ": " + error;
      return std::make_error_code(std::errc::invalid_argument);
    }
  }
  impl_->endpoints.set_default(cfg_.tls_default);
  if (!cfg_.tls_endpoints.empty() && cfg_.tls_reload_interval.count() > 0) {
    asio::co_spawn(impl_->pool.context(0), impl_->watch_certificates(),
                   [this](const std::exception_ptr& e) { impl_->log_exception(e); });
  }

  for (std::uint16_t want : cfg_.ports) {
    std::uint16_t port = want;
    for (std::size_t w = 0; w < impl_->pool.size(); ++w) {
      auto ep = net::bind_endpoint(cfg_.host, port);
      if (!ep) {
        error = "bad --host '" + cfg_.host + "': " + ep.error().message();
        return ep.error();
      }
      auto acc = net::make_acceptor(impl_->pool.context(w), *ep);
      if (!acc) {
        error = "cannot listen on " + (cfg_.host.empty() ? std::string("*") : cfg_.host) + ":" +
                std::to_string(port) + ": " + acc.error().message();
        return acc.error();
      }
      port = acc->local_endpoint().port();
      impl_->acceptors[w].push_back(std::make_unique<tcp::acceptor>(std::move(*acc)));
    }
    ports_.push_back(port);
  }
  for (std::size_t w = 0; w < impl_->pool.size(); ++w) {
    for (std::size_t i = 0; i < ports_.size(); ++i) {
      asio::co_spawn(impl_->pool.context(w),
                     impl_->accept_loop(w, impl_->acceptors[w][i].get(), ports_[i]),
                     [this](const std::exception_ptr& e) { impl_->log_exception(e); });
    }
  }
  std::string list;
  for (auto p : ports_) {
    list += (list.empty() ? "" : ",") + std::to_string(p);
  }
  log_->info("relay ready ports={} uuid={} workers={}", list, uuid_, impl_->pool.size());
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

// ---------------------------------------------------------------------------------------------

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
    ++srv.counters_.connections;
    std::string peer = remote.address().to_string();
    std::uint16_t peer_port = remote.port();
    std::error_code pec;
    sock.set_option(tcp::no_delay(true), pec);
    // Non-blocking once, as the user's choice: asio then neither sets it again for the first
    // wait nor does the tunnel link when the stream starts (one ioctl per visitor, not two).
    sock.non_blocking(true, pec);
    tls::transport t{net::prefixed_socket(std::move(sock))};
    asio::co_spawn(ex, serve(worker, std::move(t), port, {}, false, peer, peer_port),
                   [this](const std::exception_ptr& e) { log_exception(e); });
  }
}

awaitable<void> server::impl::serve(std::size_t worker, tls::transport t, std::uint16_t port,
                                    std::vector<std::byte> buf, bool via_tls,
                                    std::string peer, std::uint16_t peer_port) {
  using namespace asio::experimental::awaitable_operators;
  auto ex = co_await asio::this_coro::executor;
  const auto deadline = std::chrono::steady_clock::now() + cfg().visitor_timeout;
  sniff::classify_limits limits;
  const std::size_t cap = limits.http.max_head_bytes + limits.tls.max_client_hello_bytes + 1024;
  sniff::classification c;
  std::vector<std::byte> chunk;
  while (true) {
    if (!buf.empty()) {
      c = sniff::classify(buf, limits);
      if (c.what != sniff::kind::need_more) {
        break;
      }
      if (buf.size() >= cap) {
        c.what = sniff::kind::reject;
        break;
      }
    }
    if (!t.is_tls()) {
      // The request usually arrives with the connection: read it without waiting first (an
      // asio readiness wait costs an epoll_ctl and a trip through the event loop).
      chunk.resize(4096);
      auto [ec, n] = t.try_read_plain(chunk);
      if (ec != asio::error::would_block) {
        if (ec || n == 0) {
          t.close();
          co_return;
        }
        buf.insert(buf.end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(n));
        continue;
      }
      core::release(chunk);
    }
    asio::steady_timer timer(ex);
    timer.expires_at(deadline);
    if (!t.is_tls()) {
      // Idle connections hold no buffer until they become readable.
      auto r = co_await (t.socket().async_wait(tcp::socket::wait_read, use_tuple) ||
                         timer.async_wait(use_tuple));
      if (r.index() == 1) {
        ++srv.counters_.visitors_timed_out;
        log().info("visitor closed rip={} reason=\"no request within {}s\"", peer,
                   cfg().visitor_timeout.count());
        t.close();
        co_return;
      }
    }
    chunk.resize(4096);
    auto r = co_await (t.read_some(chunk) || timer.async_wait(use_tuple));
    if (r.index() == 1) {
      ++srv.counters_.visitors_timed_out;
      log().info("visitor closed rip={} reason=\"request head incomplete after {}s\"", peer,
                 cfg().visitor_timeout.count());
      t.close();
      co_return;
    }
    auto [ec, n] = std::get<0>(r);
    if (ec || n == 0) {
      t.close();
      co_return;
    }
    buf.insert(buf.end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(n));
  }
  core::release(chunk);

  switch (c.what) {
    case sniff::kind::ping: {
      ++srv.counters_.pings;
      auto reply = wire::format_ping_reply(srv.uuid_);
      co_await refuse(t, reply);
      co_return;
    }
    case sniff::kind::reject:
      ++srv.counters_.visitors_refused;
      log().info("visitor refused rip={} reason=\"{}\"", peer,
                 c.error ? c.error.message() : std::string("request head too large"));
      t.close();
      co_return;
    case sniff::kind::tunnel_request:
      co_await handle_tunnel(worker, std::move(t), std::move(buf), c.head_length, peer);
      co_return;
    case sniff::kind::visitor_connect:
      co_await handle_connect(worker, std::move(t), port, std::move(buf), std::move(c), peer,
                              peer_port);
      co_return;
    case sniff::kind::visitor_http: {
      if (c.ping_method) {
        co_await refuse(t, wire::format_pong_reply(as_text(buf).substr(0, c.head_length)));
        co_return;
      }
      if (!c.has_host || c.host.empty()) {
        ++srv.counters_.visitors_refused;
        log().info("visitor refused rip={} reason=\"no Host header\"", peer);
        co_await refuse(t, wire::format_no_host_page(srv.uuid_));
        co_return;
      }
      std::string proto =
          (c.websocket && contains(cfg().protos, "websocket")) ? "websocket" : "http";
      route r;
      if (!srv.registry_.find(proto, c.host, reported_port(port), r, false,
                              round_robin.fetch_add(1))) {
        ++srv.counters_.visitors_refused;
        log().info("visitor unavailable rip={} proto={} kite={} reason=\"no tunnel\"", peer,
                   proto, c.host);
        co_await refuse(t, unavailable_page("HTTP", c.host));
        co_return;
      }
      owned_open info{r.proto, c.host, reported_port(port), peer, peer_port, via_tls};
      dispatch_stream(worker, std::move(t), r, std::move(info), std::move(buf));
      co_return;
    }
    case sniff::kind::visitor_tls: {
      if (via_tls) {
        log().info("visitor refused rip={} reason=\"TLS inside TLS\"", peer);
        t.close();
        co_return;
      }
      std::string name = c.has_sni ? c.host : cfg().tls_default;
      route r;
      if (!name.empty() && contains(cfg().protos, "https") &&
          srv.registry_.find("https", name, reported_port(port), r, false,
                             round_robin.fetch_add(1))) {
        owned_open info{"https", name, reported_port(port), peer, peer_port, false};
        dispatch_stream(worker, std::move(t), r, std::move(info), std::move(buf));
        co_return;
      }
      const tls::endpoint* ep = endpoints.find(c.has_sni ? std::string_view(c.host) : "");
      if (ep != nullptr) {
        co_await terminate_tls(worker, std::move(t), port, std::move(buf), ep, peer, peer_port);
        co_return;
      }
      ++srv.counters_.visitors_refused;
      log().info("visitor refused rip={} sni={} reason=\"no https kite or TLS endpoint\"", peer,
                 c.has_sni ? c.host : std::string("(none)"));
      auto alert = wire::tls_alert_unavailable();
      co_await refuse(t, as_text(alert));
      co_return;
    }
    case sniff::kind::need_more:
      break;
  }
  t.close();
}

awaitable<void> server::impl::terminate_tls(std::size_t worker, tls::transport t,
                                            std::uint16_t port, std::vector<std::byte> buf,
                                            const tls::endpoint* ep, std::string peer,
                                            std::uint16_t peer_port) {
  using namespace asio::experimental::awaitable_operators;
  auto ex = co_await asio::this_coro::executor;
  tcp::socket sock = std::move(t.socket());
  // This handshake keeps the context it started with, even if a reload replaces it meanwhile.
  const auto context = ep->context();
  auto stream = std::make_unique<tls::tls_stream>(net::prefixed_socket(std::move(sock), buf),
                                                  *context);
  asio::steady_timer timer(ex);
  timer.expires_after(cfg().visitor_timeout);
  auto r = co_await (stream->handshake(asio::ssl::stream_base::server) ||
                     timer.async_wait(use_tuple));
  if (r.index() == 1 || std::get<0>(r)) {
    log().info("visitor refused rip={} reason=\"TLS handshake failed{}\"", peer,
               r.index() == 1 ? ": timeout" : ": " + std::get<0>(r).message());
    std::error_code ec;
    stream->lowest_layer().close(ec);
    co_return;
  }
  tls::transport tt{std::move(stream)};
  co_await serve(worker, std::move(tt), port, {}, true, peer, peer_port);
}

awaitable<void> server::impl::handle_connect(std::size_t worker, tls::transport t,
                                             std::uint16_t port, std::vector<std::byte> buf,
                                             sniff::classification c, std::string peer,
                                             std::uint16_t peer_port) {
  const std::string host = c.host;
  const std::uint16_t cport = c.port;
  std::vector<std::byte> rest(buf.begin() + static_cast<std::ptrdiff_t>(c.head_length), buf.end());
  auto established = wire::connect_established_reply();
  route r;
  auto accept_with = [&](std::string proto) -> awaitable<bool> {
    auto ec = co_await t.write(asio::buffer(established.data(), established.size()));
    if (ec) {
      t.close();
      co_return false;
    }
    owned_open info{std::move(proto), host, cport, peer, peer_port, false};
    dispatch_stream(worker, std::move(t), r, std::move(info), std::move(rest));
    co_return true;
  };
  if (cport == 443) {
    if (contains(cfg().protos, "https") && srv.registry_.find("https", host, 443, r, true)) {
      co_await accept_with("https");
      co_return;
    }
    const tls::endpoint* ep = endpoints.find(host);
    if (ep != nullptr) {
      // pagekite.py --fe_certname: CONNECT <relay name>:443, then TLS, then the tunnel request.
      auto ec = co_await t.write(asio::buffer(established.data(), established.size()));
      if (ec) {
        t.close();
        co_return;
      }
      co_await terminate_tls(worker, std::move(t), port, std::move(rest), ep, peer, peer_port);
      co_return;
    }
  } else if (cport == 80 || cport == 8080) {
    for (const char* p : {"http", "http2", "http3"}) {
      if (srv.registry_.find(p, host, cport, r, true) && r.proto == p) {
        co_await accept_with(r.proto);
        co_return;
      }
    }
  }
  const bool raw_ok = cfg().raw_virtual || std::find(cfg().raw_ports.begin(), cfg().raw_ports.end(),
                                                     cport) != cfg().raw_ports.end();
  if (raw_ok && contains(cfg().protos, "raw") && srv.registry_.find("raw", host, cport, r, true)) {
    co_await accept_with("raw");
    co_return;
  }
  ++srv.counters_.visitors_refused;
  log().info("visitor unavailable rip={} connect={}:{} reason=\"no tunnel\"", peer, host, cport);
  co_await refuse(t, wire::connect_unavailable());
}

void server::impl::dispatch_stream(std::size_t worker, tls::transport t, const route& r,
                                   owned_open info, std::vector<std::byte> first) {
  ++srv.counters_.visitors_routed;
  auto attach = [info = std::move(info), first = std::move(first),
                 weak = r.ref.target](tls::transport&& v) {
    if (auto tun = weak.lock()) {
      tun->link->attach_visitor(std::move(v), info.view(), first);
    } else {
      v.close();
    }
  };
  if (r.ref.worker == worker) {
    attach(std::move(t));
    return;
  }
  // The stream and its tunnel share a thread from now on (style §4); a terminated-TLS visitor
  // (whose Host named a kite on another worker) moves with its TLS state.
  move_to_worker(r.ref.worker, std::move(t), std::move(attach));
}

// ---------------------------------------------------------------------------------------------

wire::handshake_response server::impl::process_kites(tunnel& tun,
                                                     const std::vector<wire::kite_request>& kites,
                                                     std::vector<std::string>& ok_keys,
                                                     bool& rejected) {
  std::vector<std::uint16_t> reported;
  for (auto p : srv.ports_) {
    reported.push_back(reported_port(p));
  }
  kite_policy_view view;
  view.served_elsewhere = [&](std::string_view key, std::string_view bsalt) {
    return srv.registry_.is_served(key, tun.id, bsalt);
  };
  view.has_tls_endpoint = [&](std::string_view domain) {
    return endpoints.find(domain) != nullptr;
  };
  view.cert_covers = [&](std::string_view domain) {
    return tls::names_cover(tun.cert_names, domain);
  };
  view.token_nonce = [] { return random_hex(4).substr(0, 7); };
  const kite_round_input in{kites, tun.keys, reported, fe_secret, token_clock()};
  kite_round_result round = decide_kites(cfg(), in, view, used_tokens);
  for (std::size_t i = 0; i < kites.size(); ++i) {
    log_kite_decision(tun, kites[i], round.decisions[i]);
    if (round.decisions[i].verdict == kite_verdict::accepted) {
      tun.bsalts[round.decisions[i].key] = kites[i].bsalt;
    }
  }
  rejected = rejected || round.rejected;
  ok_keys.insert(ok_keys.end(), round.new_keys.begin(), round.new_keys.end());
  return std::move(round.response);
}

void server::impl::log_kite_decision(const tunnel& tun, const wire::kite_request& k,
                                     const kite_decision& d) {
  // A bad challenge token answers like pagekite.py (`unauthorized`); the log says why.
  auto bad_token = [&](std::string_view detail) {
    log().info("kite refused tunnel={} peer={} kite={}:{} reason=unauthorized "
               "detail=\"challenge token {}\"",
               tun.id, tun.peer, k.proto, k.domain, detail);
  };
  switch (d.verdict) {
    case kite_verdict::accepted:
      if (d.by_cert) {
        log().info("kite authenticated by client certificate tunnel={} peer={} kite={}", tun.id,
                   tun.peer, d.key);
      }
      return;
    case kite_verdict::already_here:
    case kite_verdict::sign_this:
      return;
    case kite_verdict::duplicate:
      log().info("kite refused tunnel={} peer={} kite={} reason=duplicate", tun.id, tun.peer,
                 d.key);
      return;
    case kite_verdict::token_expired:
      bad_token(fmt::format("{} (issued {} s or more ago)",
                            wire::describe(wire::token_verdict::expired),
                            wire::token_lifetime_seconds));
      return;
    case kite_verdict::token_foreign:
      bad_token(fmt::format("{} (another relay process, another kite or BSALT, or forged)",
                            wire::describe(wire::token_verdict::foreign)));
      return;
    case kite_verdict::token_reused:
      bad_token("reused (it authenticated a kite already: a replayed kite line?)");
      return;
    case kite_verdict::token_store_full:
      log().warn("used-token store full ({} tokens used in the last {} s): refusing kites "
                 "until some expire",
                 used_tokens.capacity(), wire::token_lifetime_seconds);
      bad_token("not recorded (used-token store full)");
      return;
    case kite_verdict::cert_required:
    case kite_verdict::bad_proto:
    case kite_verdict::bad_port:
    case kite_verdict::no_domain_rule:
    case kite_verdict::bad_signature:
      log().info("kite refused tunnel={} peer={} kite={}:{} reason={}", tun.id, tun.peer,
                 k.proto, k.domain, invalid_reason(d.verdict));
      if (d.verdict == kite_verdict::cert_required) {
        log().info("kite refused tunnel={} peer={} kite={}:{} reason=\"no verified client "
                   "certificate names it (--tls_client_required)\"",
                   tun.id, tun.peer, k.proto, k.domain);
      }
      return;
  }
}

std::string server::impl::new_session_id(tunnel& tun) {
  std::string id = wire::make_session_id(unix_now(), wire::sha1_hex(fe_secret + std::to_string(tun.id) +
                                                                     random_hex(8)));
  tun.session_ids.push_back(id);
  return id;
}

void server::impl::replace_session(const std::string& id) {
  std::pair<std::size_t, std::weak_ptr<tunnel>> found;
  {
    std::lock_guard lock(sessions_mu);
    auto it = by_session.find(id);
    if (it == by_session.end()) {
      return;
    }
    found = it->second;
  }
  std::weak_ptr<tunnel> weak = found.second;
  asio::post(pool.context(found.first), [this, weak] {
    if (auto t = weak.lock()) {
      log().info("tunnel={} replaced by a reconnecting connector", t->id);
      t->link->close("replaced");
    }
  });
}

void server::impl::register_keys(const std::shared_ptr<tunnel>& tun,
                                 const std::vector<std::string>& keys) {
  if (!keys.empty() && tun->on_probation) {
    leave_probation(*tun);
    if (tun->link) {
      tun->link->end_probation();
    }
  }
  for (const auto& k : keys) {
    srv.registry_.add(k, tunnel_ref{tun, tun->worker, tun->id, tun->bsalts[k]});
    tun->keys.push_back(k);
    log().info("kite up tunnel={} peer={} kite={}", tun->id, tun->peer, k);
  }
}

awaitable<void> server::impl::handle_tunnel(std::size_t worker, tls::transport t,
                                            std::vector<std::byte> buf, std::size_t head_len,
                                            std::string peer) {
  std::string_view head = as_text(buf).substr(0, head_len);
  auto req = wire::parse_handshake_request(head);
  if (!req) {
    ++srv.counters_.handshakes_refused;
    log().info("tunnel refused peer={} reason=\"{}\"", peer, req.error().message());
    co_await refuse(t, wire::connect_unavailable());
    co_return;
  }
  auto tun = std::make_shared<tunnel>();
  tun->id = next_tunnel_id.fetch_add(1);
  tun->worker = worker;
  tun->peer = peer;
  tun->add_kites = req->add_kites;
  if (SSL* ssl = t.ssl(); ssl != nullptr) {
    tun->tls = std::string(::SSL_get_version(ssl)) + " " + ::SSL_get_cipher_name(ssl);
  }
  if (t.is_tls() && !cfg().tls_client_ca.empty()) {
    tun->cert_names = tls::verified_peer_names(t.ssl());
  }
  if (!req->replace.empty()) {
    replace_session(req->replace);
  }
  std::vector<std::string> ok_keys;
  bool rejected = false;
  auto resp = process_kites(*tun, req->kites, ok_keys, rejected);
  resp.add_kites = true;
  const bool zchunks_ok = !cfg().process.nozchunks;
  resp.zchunks = zchunks_ok;
  resp.protos = cfg().protos;
  for (auto p : srv.ports_) {
    resp.ports.push_back(std::to_string(reported_port(p)));
  }
  if (cfg().raw_virtual) {
    resp.raw_ports.push_back("virtual");
  }
  for (auto p : cfg().raw_ports) {
    resp.raw_ports.push_back(std::to_string(p));
  }
  resp.session_id = new_session_id(*tun);
  // Flow B keeps a tunnel with no kite open while the connector signs in-tunnel: it is on
  // probation (small fixed limits, --auth_timeout), and only so many may wait at once.
  const bool probation = ok_keys.empty() && req->add_kites && !rejected;
  if (probation) {
    std::string why;
    if (!admit_probation(peer, why)) {
      ++srv.counters_.handshakes_refused;
      log().warn("tunnel refused peer={} reason=\"{}\" (--max_unauth_tunnels)", peer, why);
      co_await refuse(t, wire::connect_unavailable());
      co_return;
    }
    tun->on_probation = true;
  }
  auto text = wire::format_handshake_response(resp);
  auto ec = co_await t.write(asio::buffer(text.data(), text.size()));
  if (ec) {
    leave_probation(*tun);
    t.close();
    co_return;
  }
  if (ok_keys.empty() && !(req->add_kites && !rejected)) {
    // Flow A round one (challenge only), or everything rejected: close after the reply.
    if (rejected) {
      ++srv.counters_.handshakes_refused;
      log().info("tunnel refused peer={} reason=\"no kite accepted\"", peer);
    }
    co_await refuse(t, "");
    co_return;
  }
  kiteline::tunnel::link_options opts;
  opts.role = mux::role::relay;
  opts.session.receive_budget = cfg().process.buffers_kib * 1024;
  opts.session.evict_after = std::chrono::seconds(cfg().process.evict_after_s);
  opts.session.stalled_after = std::chrono::seconds(cfg().process.stalled_after_s);
  opts.session.half_closed_timeout = std::chrono::seconds(cfg().process.half_closed_timeout_s);
  opts.probation = tun->on_probation;
  opts.accept_compressed = zchunks_ok;
  // Compress toward the connector only if it asked for ZChunks (libpagekite never does).
  opts.send_compressed = zchunks_ok && req->zchunks;
  opts.compression_level = 1;
  // pagekite.py cannot take dense bursts of small frames; spread them out for it, and for it
  // only: the filler is up to 50 KB per 70 frames, work that a peer claiming nothing (or
  // anything else) does not get to cause.
  const std::string_view version =
      req->versions.empty() ? std::string_view{} : std::string_view(req->versions.front());
  opts.limit_frame_density = wire::is_pagekite_py_version(version);
  // A kiteline connector says "<pagekite.py version>+kiteline" (kite_signing.hpp).
  if (wire::is_kiteline_version(version)) {
    // A kiteline connector sends up to 1 MiB per stream unacknowledged: one SKB per 256 KiB
    // written keeps its pipe full at a fraction of the acknowledgements.
    opts.session.ack_threshold = 256 * 1024;
    opts.session.ack_on_drain = false;
  }
  std::weak_ptr<tunnel> weak = tun;
  kiteline::tunnel::link::hooks hooks;
  hooks.control = [this, weak](const mux::control_chunk& cc) {
    if (auto t2 = weak.lock()) {
      on_control(t2, cc);
    }
  };
  hooks.closed = [this, worker, id = tun->id](const std::string& why) {
    on_tunnel_closed(worker, id, why);
  };
  std::vector<std::byte> leftover(buf.begin() + static_cast<std::ptrdiff_t>(head_len), buf.end());
  tun->link = std::make_shared<kiteline::tunnel::link>(std::move(t), opts, std::move(hooks), srv.log_,
                                                 std::to_string(tun->id));
  tunnels[worker][tun->id] = tun;
  {
    std::lock_guard lock(sessions_mu);
    by_session[tun->session_ids.back()] = {worker, tun};
  }
  register_keys(tun, ok_keys);
  ++srv.counters_.tunnels_up;
  log().info("tunnel up id={} peer={} kites={} flow={} tls=\"{}\"", tun->id, peer,
             ok_keys.size(), ok_keys.empty() ? "B (awaiting signed kites)" : "A",
             tun->tls.empty() ? "none" : tun->tls);
  tun->link->start(leftover);
  if (ok_keys.empty()) {
    // Flow B: the connector has --auth_timeout to sign its kites in-tunnel (spec §4.5).
    auto timer = std::make_shared<asio::steady_timer>(pool.context(worker));
    timer->expires_after(cfg().auth_timeout);
    timer->async_wait([this, weak, timer](std::error_code tec) {
      auto t2 = weak.lock();
      if (!tec && t2 && t2->keys.empty()) {
        log().info("tunnel={} closed: no kite signed within {} s (--auth_timeout)", t2->id,
                   cfg().auth_timeout.count());
        t2->link->close("no kite signed");
      }
    });
  }
}

void server::impl::on_control(const std::shared_ptr<tunnel>& tun, const mux::control_chunk& cc) {
  std::vector<wire::header_field> fields;
  fields.reserve(cc.fields.size());
  for (const auto& f : cc.fields) {
    fields.push_back({f.name, f.value});
  }
  if (!wire::has_handshake_fields(fields)) {
    return;
  }
  auto req = wire::parse_kite_round(fields);
  if (!req) {
    log().info("tunnel={} bad kite round: {}", tun->id, req.error().message());
    tun->link->close("bad kite round");
    return;
  }
  std::vector<std::string> ok_keys;
  bool rejected = false;
  auto resp = process_kites(*tun, req->kites, ok_keys, rejected);
  resp.session_id = new_session_id(*tun);
  {
    std::lock_guard lock(sessions_mu);
    by_session[tun->session_ids.back()] = {tun->worker, tun};
  }
  auto payload = wire::format_result_payload(resp);
  std::string framed = hex_len(payload.size()) + payload;
  tun->link->send_control(as_bytes(framed));
  register_keys(tun, ok_keys);
  const bool any_ok = std::any_of(resp.results.begin(), resp.results.end(), [](const auto& r) {
    return r.status == wire::kite_status::ok;
  });
  if (!any_ok && rejected) {
    log().info("tunnel={} closed: kite round rejected", tun->id);
    // Flush the result chunk first: a plain close() dropped it, so the connector never saw its
    // X-PageKite-Duplicate / Invalid lines (RelayLifecycle.SecondConnectorTakesOverAfterFirstDies).
    tun->link->close_when_flushed("kite round rejected");
  }
}

void server::impl::on_tunnel_closed(std::size_t worker, std::uint64_t id, const std::string& why) {
  auto it = tunnels[worker].find(id);
  if (it == tunnels[worker].end()) {
    return;
  }
  auto tun = it->second;
  leave_probation(*tun);
  srv.registry_.remove_tunnel(id);
  {
    std::lock_guard lock(sessions_mu);
    for (const auto& s : tun->session_ids) {
      by_session.erase(s);
    }
  }
  ++srv.counters_.tunnels_down;
  log().info("tunnel down id={} peer={} kites={} reason=\"{}\" bytes_in={} bytes_out={}", id,
             tun->peer, tun->keys.size(), why, tun->link->stats().bytes_in,
             tun->link->stats().bytes_out);
  // Erase after this call stack unwinds (the link is still executing its close()).
  asio::post(pool.context(worker), [this, worker, id] { tunnels[worker].erase(id); });
}

}  // namespace kiteline::relay
