#include "connector/dyndns_updater.hpp"

#include "connector/kite_signing.hpp"
#include "net/spawn.hpp"
#include "tls/client_context.hpp"
#include "wire/kite_auth.hpp"

#include <openssl/ssl.h>

namespace kiteline::connector {

using namespace asio::experimental::awaitable_operators;
using net::tcp;
using net::use_tuple;

dyndns_updater::dyndns_updater(asio::any_io_executor ex, std::shared_ptr<client_context> ctx,
                               std::function<std::vector<relay_status>()> relays)
    : ex_(std::move(ex)),
      ctx_(std::move(ctx)),
      relays_(std::move(relays)),
      wake_(ex_),
      state_(ctx_->opts.dyndns_backoff) {}

void dyndns_updater::start() {
  asio::co_spawn(
      ex_, [self = shared_from_this()]() { return self->run(); },
      net::log_failure(ctx_->log, "dyndns updates failed"));
}

void dyndns_updater::notify() {
  asio::post(ex_, [self = shared_from_this()] { self->wake_.notify(); });
}

void dyndns_updater::stop() {
  stopped_ = true;
  notify();
}

std::vector<dyndns_update> dyndns_updater::plan() const {
  const auto& services = ctx_->cfg.services;
  std::vector<dyndns_kite> kites;
  for (const auto& s : services) {
    if (s.enabled) {
      kites.push_back({s.id(), s.kite_name, s.kite_secret.reveal()});
    }
  }
  std::vector<dyndns_relay> relays;
  for (const auto& st : relays_()) {
    if (!st.live || st.stopped || st.address.empty()) {
      continue;
    }
    dyndns_relay r{st.address, !st.retiring && !st.draining, {}};
    for (const auto i : st.live_services) {
      if (i < services.size()) {
        r.kites.push_back(services[i].id());
      }
    }
    relays.push_back(std::move(r));
  }
  return dyndns_plan(kites, relays);
}

net::awaitable<void> dyndns_updater::run() {
  asio::steady_timer timer(ex_);
  while (!stopped_) {
    co_await round();
    if (stopped_) {
      break;
    }
    // Wait for a change, or for the end of the back-off (when the round left updates undone).
    const auto retry = state_.retry_at();
    timer.expires_at(retry ? *retry : std::chrono::steady_clock::time_point::max());
    co_await (wake_.wait() || timer.async_wait(use_tuple));
  }
}

net::awaitable<void> dyndns_updater::round() {
  const auto& setting = *ctx_->cfg.dyndns;
  const auto due = state_.due(plan(), std::chrono::steady_clock::now());
  if (due.empty()) {
    co_return;
  }
  bool failed = false;
  for (const auto& u : due) {
    dyndns_values v;
    v.domain = u.domain;
    v.ips = u.ips;
    v.sign = wire::sign_dyndns(u.secret, u.payload(), make_salt8(rng_()));
    v.user = setting.user;
    v.pass = setting.password.reveal();
    const std::string url = dyndns_expand(setting.url_template, v);
    const auto a = co_await fetch(url);
    if (stopped_) {
      co_return;
    }
    if (a.ok) {
      state_.succeeded(u);
      ctx_->log->info("dyndns: {} -> {}: {}", u.domain, u.ips, a.text);
      continue;
    }
    failed = true;
    ctx_->log->warn("dyndns: update of {} -> {} failed: {}", u.domain, u.ips, a.text);
    if (a.transport_failed) {
      break;  // pagekite.py: do not hammer a service that is down
    }
  }
  state_.round_done(failed, std::chrono::steady_clock::now());
  if (failed) {
    const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(
        *state_.retry_at() - std::chrono::steady_clock::now());
    ctx_->log->warn("dyndns: {} failed round(s) in a row; next try in {} s", state_.failures(),
                    (wait.count() + 999) / 1000);
  }
}

namespace {

/// Writes `request` and reads the reply until the service closes, within `deadline`.
template <typename Stream>
net::awaitable<dyndns_reply> exchange(Stream& s, asio::steady_timer& timer,
                                      const std::string& request) {
  dyndns_reply reply;
  auto w = co_await (asio::async_write(s, asio::buffer(request), use_tuple) ||
                     timer.async_wait(use_tuple));
  if (w.index() == 1 || std::get<0>(std::get<0>(w))) {
    reply.error =
        w.index() == 1 ? "timed out" : "write failed: " + std::get<0>(std::get<0>(w)).message();
    co_return reply;
  }
  std::string bytes;
  // Bounded: at most dyndns_reply_limit bytes, and by the timer.
  while (true) {
    std::array<char, 2048> buf{};
    auto r =
        co_await (s.async_read_some(asio::buffer(buf), use_tuple) || timer.async_wait(use_tuple));
    if (r.index() == 1) {
      reply = parse_dyndns_reply(bytes, true);
      if (!reply.complete) {
        reply.error = "timed out waiting for the reply";
      }
      co_return reply;
    }
    auto [ec, n] = std::get<0>(r);
    bytes.append(buf.data(), n);
    const bool eof = static_cast<bool>(ec);
    reply = parse_dyndns_reply(bytes, eof);
    if (reply.complete || !reply.error.empty()) {
      co_return reply;
    }
    if (eof) {
      reply.error = "no complete reply: " + ec.message();
      co_return reply;
    }
  }
}

}  // namespace

net::awaitable<dyndns_updater::attempt> dyndns_updater::fetch(const std::string& url) {
  attempt out;
  out.transport_failed = true;
  const auto u = parse_dyndns_url(url);
  if (!u) {
    out.text = "not a usable http(s) URL after expansion";
    co_return out;
  }
  asio::steady_timer timer(ex_);
  timer.expires_after(ctx_->opts.dyndns_timeout);
  tcp::resolver resolver(ex_);
  auto res = co_await (resolver.async_resolve(u->host, std::to_string(u->port), use_tuple) ||
                       timer.async_wait(use_tuple));
  if (res.index() == 1) {
    out.text = "timed out resolving " + u->host;
    co_return out;
  }
  auto [rec, results] = std::get<0>(res);
  if (rec || results.empty()) {
    out.text = "cannot resolve " + u->host + ": " + rec.message();
    co_return out;
  }
  tcp::socket sock(ex_);
  auto c = co_await (asio::async_connect(sock, results, use_tuple) || timer.async_wait(use_tuple));
  if (c.index() == 1 || std::get<0>(std::get<0>(c))) {
    out.text = "connect to " + u->host_header + " failed: " +
               (c.index() == 1 ? std::string("timed out") : std::get<0>(std::get<0>(c)).message());
    co_return out;
  }
  const std::string request = format_dyndns_request(*u);
  dyndns_reply reply;
  if (!u->https) {
    reply = co_await exchange(sock, timer, request);
  } else {
    // https: the system CA store (or --ca_certs FILE) and the URL's host name, with SNI.
    tls::client_settings st;
    st.names.push_back({u->host, std::nullopt});
    const auto& ca = ctx_->cfg.ca_certs;
    st.ca_file = (ca == "auto" || ca == "curl") ? "" : ca;
    st.policy.own_records = false;
    auto context = tls::make_client_context(st);
    if (!context) {
      out.text = "TLS: " + context.error().message();
      co_return out;
    }
    asio::ssl::stream<tcp::socket> tls_sock(std::move(sock), **context);
    std::error_code literal;
    (void)asio::ip::make_address(u->host, literal);
    if (literal) {  // SNI carries names only, not address literals (RFC 6066 §3)
      // SSL_set_tlsext_host_name() is a macro with a C cast; call what it expands to.
      ::SSL_ctrl(tls_sock.native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME,
                 TLSEXT_NAMETYPE_host_name, const_cast<char*>(u->host.c_str()));
    }
    auto h = co_await (tls_sock.async_handshake(asio::ssl::stream_base::client, use_tuple) ||
                       timer.async_wait(use_tuple));
    if (h.index() == 1 || std::get<0>(std::get<0>(h))) {
      out.text =
          "TLS handshake with " + u->host_header + " failed: " +
          (h.index() == 1 ? std::string("timed out") : std::get<0>(std::get<0>(h)).message());
      co_return out;
    }
    if (const auto why = tls::check_peer(tls_sock.native_handle(), st); !why.empty()) {
      out.text = "TLS: " + u->host + ": " + why;
      co_return out;
    }
    reply = co_await exchange(tls_sock, timer, request);
  }
  out.transport_failed = reply.status == 0;
  out.ok = dyndns_reply_ok(reply);
  out.text = dyndns_reply_summary(reply);
  co_return out;
}

}  // namespace kiteline::connector
