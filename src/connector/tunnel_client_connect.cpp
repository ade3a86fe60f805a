// tunnel_client::open: the connection to a relay before the handshake: TCP connect, the
// optional clear CONNECT preamble (--fe_certname), TLS with SNI and the certificate check, all
// within client_options::connect_timeout. Kept apart from the retry loop in tunnel_client.cpp.
#include <openssl/ssl.h>

#include <algorithm>

#include "connector/kite_signing.hpp"
#include "connector/tunnel_client.hpp"
#include "core/text.hpp"
#include "wire/head.hpp"
#include "wire/ping.hpp"

namespace kiteline::connector {

using namespace asio::experimental::awaitable_operators;
using net::tcp;
using net::use_tuple;

net::awaitable<std::error_code> tunnel_client::open(tcp::endpoint ep) {
  rbuf_.clear();
  conn_.reset();
  if (ctx_->opts.tunnel_dialer) {
    auto sock = ctx_->opts.tunnel_dialer(ex_);
    if (!sock) {
      set_error("local tunnel: " + sock.error().message());
      ctx_->log->warn("relay {}: local tunnel: {}", label_, sock.error().message());
      co_return sock.error();
    }
    conn_.emplace(net::prefixed_socket(std::move(*sock)));
    co_return std::error_code{};
  }
  const auto deadline = std::chrono::steady_clock::now() + ctx_->opts.connect_timeout;
  asio::steady_timer timer(ex_);
  timer.expires_at(deadline);
  tcp::socket sock(ex_);
  auto c = co_await (sock.async_connect(ep, use_tuple) || timer.async_wait(use_tuple));
  std::error_code ec = c.index() == 1 ? std::error_code(asio::error::timed_out)
                                      : std::get<0>(std::get<0>(c));
  if (ec || stopped_) {
    set_error("connect failed: " + ec.message());
    ctx_->log->warn("relay {}: connect failed: {}", label_, ec.message());
    co_return ec ? ec : std::error_code(asio::error::operation_aborted);
  }
  sock.set_option(tcp::no_delay(true), ec);
  const auto security = ctx_->security;
  if (security == tunnel_security::plain) {
    conn_.emplace(net::prefixed_socket(std::move(sock)));
    co_return std::error_code{};
  }
  const auto& names = ctx_->tls_settings.names;
  const std::string name = names.empty() ? host_ : names.front().name;
  std::vector<std::byte> prefix;
  if (security == tunnel_security::preamble) {
    // pagekite.py --fe_certname: clear CONNECT <name>:443, a 200 reply, then TLS (§2.1).
    conn_.emplace(net::prefixed_socket(std::move(sock)));
    const std::string pre = wire::format_connect_preamble(name);
    timer.expires_at(deadline);
    auto w = co_await (conn_->write(asio::buffer(pre.data(), pre.size())) ||
                       timer.async_wait(use_tuple));
    if (w.index() == 1 || std::get<0>(w)) {
      set_error("CONNECT preamble: write failed");
      ctx_->log->warn("relay {}: CONNECT preamble: write failed", label_);
      close_conn();
      co_return asio::error::broken_pipe;
    }
    std::size_t end = 0;
    std::string why;
    while (end == 0 && why.empty()) {
      std::array<std::byte, 512> buf{};
      timer.expires_at(deadline);
      auto r = co_await (conn_->read_some(buf) || timer.async_wait(use_tuple));
      if (r.index() == 1) {
        why = "timed out";
        break;
      }
      auto [rec, n] = std::get<0>(r);
      if (rec || n == 0) {
        why = "relay closed the connection";
        break;
      }
      rbuf_.insert(rbuf_.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
      auto scan = wire::check_connect_reply(as_text(rbuf_));
      if (!scan) {
        why = "relay refused CONNECT " + name + ":443: " +
              std::string(as_text(rbuf_).substr(0, as_text(rbuf_).find('\r')));
      } else {
        end = scan->end;
      }
    }
    if (end == 0) {
      set_error("CONNECT preamble: " + why);
      ctx_->log->warn("relay {}: CONNECT preamble failed: {}", label_, why);
      close_conn();
      co_return asio::error::connection_refused;
    }
    prefix.assign(rbuf_.begin() + static_cast<std::ptrdiff_t>(end), rbuf_.end());
    rbuf_.clear();
    sock = std::move(conn_->socket());
    conn_.reset();
  }
  auto stream = std::make_unique<tls::tls_stream>(net::prefixed_socket(std::move(sock), prefix),
                                                  *ctx_->tls);
  if (security == tunnel_security::direct) {
    // SSL_set_tlsext_host_name() is a macro with a C cast; call what it expands to.
    ::SSL_ctrl(stream->native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
               const_cast<char*>(name.c_str()));
  }
  if (security == tunnel_security::nocheck) {
    ++ctx_->counters.nocertcheck_warnings;
    ctx_->log->warn("relay {}: TLS WITHOUT certificate verification (--fe_nocertcheck): the "
                    "tunnel can be intercepted",
                    label_);
  }
  timer.expires_at(deadline);
  auto h = co_await (stream->handshake(asio::ssl::stream_base::client) ||
                     timer.async_wait(use_tuple));
  ec = h.index() == 1 ? std::error_code(asio::error::timed_out) : std::get<0>(h);
  if (ec) {
    ++ctx_->counters.tls_failures;
    set_error("TLS handshake failed: " + ec.message());
    ctx_->log->error("relay {}: TLS handshake failed: {}", label_, ec.message());
    std::error_code ignored;
    stream->lowest_layer().close(ignored);
    co_return ec;
  }
  const std::string refused = tls::check_peer(stream->native_handle(), ctx_->tls_settings);
  if (!refused.empty()) {
    ++ctx_->counters.tls_failures;
    set_error("relay certificate refused: " + refused);
    ctx_->log->error("relay {}: relay certificate refused: {}", label_, refused);
    std::error_code ignored;
    stream->lowest_layer().close(ignored);
    co_return asio::error::access_denied;
  }
  ctx_->log->info("relay {}: TLS up ({}, {})", label_, ::SSL_get_version(stream->native_handle()),
                  ::SSL_get_cipher_name(stream->native_handle()));
  conn_.emplace(std::move(stream));
  co_return std::error_code{};
}

namespace {

std::string kite_label(const config::service& s) { return kite_proto(s) + ":" + s.kite_name; }

}  // namespace

void tunnel_client::on_quota_chunk(std::int64_t kb) {
  bool changed = false;
  {
    std::lock_guard lock(status_mu_);
    changed = status_.quota.apply_chunk(kb);
  }
  // The relay re-sends it at every re-check (spec 8.4): logged when it moved.
  ctx_->log->log(changed ? spdlog::level::info : spdlog::level::debug,
                 "relay {}: quota now {} kB", label_, kb);
}

void tunnel_client::apply_results(const round_outcome& r) {
  const auto& services = ctx_->cfg.services;
  if (r.quota_kb || r.qconns || r.qdays || !r.ips_per_sec.empty()) {
    // The relay's authority (--authdomain) set limits on this tunnel (spec 4.4).
    auto num = [](const std::optional<std::int64_t>& v) {
      return v ? std::to_string(*v) : std::string("-");
    };
    ctx_->log->info("relay {}: quota {} kB, streams {}, days {}, visitor IPs/s {}", label_,
                    num(r.quota_kb), num(r.qconns), num(r.qdays),
                    r.ips_per_sec.empty() ? "-" : r.ips_per_sec);
    std::lock_guard lock(status_mu_);
    status_.quota.apply_round(r);
  }
  for (const auto& k : r.kites) {
    const auto& res = k.result;
    if (!k.service) {
      ctx_->log->warn("relay {}: result for a kite we did not ask for: {}", label_, res.kite);
      continue;
    }
    const auto& s = services[*k.service];
    switch (res.status) {
      case wire::kite_status::ok:
        if (!live_[*k.service]) {
          live_[*k.service] = true;
          ctx_->log->info("kite {} live on relay {}", kite_label(s), label_);
          if (ctx_->opts.on_kite_live) {
            ctx_->opts.on_kite_live(kite_label(s), label_);
          }
        }
        break;
      case wire::kite_status::ssl_ok:
        ctx_->log->info("kite {}: relay {} terminates HTTPS for it", kite_label(s), label_);
        break;
      case wire::kite_status::invalid: {
        ++ctx_->counters.kites_rejected;
        const std::string why = res.why.empty() ? "refused" : res.why;
        ctx_->log->error("kite {} refused by relay {}: {}{}", s.kite_name, label_, why,
                         why == "signature" ? " (wrong secret?)" : "");
        break;
      }
      case wire::kite_status::duplicate:
        ++ctx_->counters.kites_rejected;
        ctx_->log->warn("kite {} refused by relay {}: duplicate (another tunnel serves it; "
                        "retrying later)",
                        s.kite_name, label_);
        break;
      case wire::kite_status::sign_this:
        ctx_->log->warn("relay {}: unexpected challenge for kite {}", label_, s.kite_name);
        break;
    }
  }
  if (!r.session_id.empty()) {
    session_id_ = r.session_id;
    std::lock_guard lock(status_mu_);
    status_.session_id = session_id_;
  }
  {
    std::lock_guard lock(status_mu_);
    status_.live_kites = static_cast<std::size_t>(std::count(live_.begin(), live_.end(), true));
    status_.live_services = live_indexes();
  }
  ctx_->notify_tunnels_changed();
}

}  // namespace kiteline::connector
