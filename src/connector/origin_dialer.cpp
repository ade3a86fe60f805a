#include "connector/origin_dialer.hpp"

#include "config/error_url.hpp"
#include "connector/http_rewriter.hpp"
#include "connector/service_map.hpp"
#include "core/text.hpp"
#include "net/spawn.hpp"
#include "wire/ping.hpp"
#include "wire/reject.hpp"

namespace kiteline::connector {

using namespace asio::experimental::awaitable_operators;
using net::tcp;
using net::use_tuple;

namespace {

/// Wraps connector::http_rewriter as the tunnel_link's per-stream delivery filter. When the
/// rewriter ends the stream (+password 401, request firewall 500, unparseable request 400/431),
/// its page goes back through the tunnel and the stream ends at once (pipelined requests before
/// the refused one that are still queued for the origin are dropped with it); refuse_local must
/// not run inside the link's action loop, so it is posted. One log line per refusal.
class rewrite_filter final : public kiteline::tunnel::delivery_filter {
 public:
  rewrite_filter(rewrite_options o, std::weak_ptr<kiteline::tunnel::link> link, wire::sid_t sid,
                 asio::any_io_executor ex, std::shared_ptr<spdlog::logger> log, std::string label)
      : kite_(o.kite_name),
        rw_(std::move(o)),
        link_(std::move(link)),
        sid_(sid),
        ex_(std::move(ex)),
        log_(std::move(log)),
        label_(std::move(label)) {}

  void transform(std::span<const std::byte> in, std::vector<std::byte>& out) override {
    if (refused_) {
      return;
    }
    const rewrite_verdict v = rw_.feed(in, out);
    if (v == rewrite_verdict::pass) {
      return;
    }
    refused_ = true;
    const std::string_view req = rw_.refused_request();
    if (v == rewrite_verdict::blocked) {
      log_->info("relay {}: sid={} kite {} refused {} (request firewall rule {}; --insecure or "
                 "+insecure turns it off)",
                 label_, sid_, kite_, req, rw_.refusal_reason());
    } else {
      log_->info("relay {}: sid={} kite {} refused {}{}{}: {}", label_, sid_, kite_,
                 req.empty() ? "a request" : "`", req, req.empty() ? "" : "`",
                 rw_.refusal_reason());
    }
    asio::post(ex_, [link = link_, sid = sid_, reply = std::string(rw_.error_reply())] {
      if (auto l = link.lock()) {
        l->refuse_local(sid, as_bytes(reply));
      }
    });
  }

 private:
  std::string kite_;
  http_rewriter rw_;
  std::weak_ptr<kiteline::tunnel::link> link_;
  wire::sid_t sid_;
  asio::any_io_executor ex_;
  std::shared_ptr<spdlog::logger> log_;
  std::string label_;
  bool refused_ = false;
};

/// Connects the origin of stream `sid` (within ctx->opts.origin_timeout, every address of
/// `host`), writes `preface` (PROXY line), and attaches the socket to the link, or refuses the
/// stream with `refusal`. Parameters by value: it outlives the open() call that spawned it.
net::awaitable<void> dial_origin(asio::any_io_executor ex, std::shared_ptr<client_context> ctx,
                                 std::string label, std::weak_ptr<kiteline::tunnel::link> link,
                                 wire::sid_t sid, std::string host, std::uint16_t port,
                                 std::string preface, std::string refusal) {
  const auto deadline = std::chrono::steady_clock::now() + ctx->opts.origin_timeout;
  asio::steady_timer timer(ex);
  timer.expires_at(deadline);
  std::error_code ec;
  tcp::socket sock(ex);
  // A numeric origin (127.0.0.1, ::1: the usual case) is connected at once. Resolving it through
  // asio's resolver would run getaddrinfo on the resolver's own thread and hand the result back:
  // two cross-thread wake-ups per visitor, which cost more than the rest of the dial on loopback.
  std::vector<tcp::endpoint> endpoints;
  std::error_code numeric_ec;
  const auto address = asio::ip::make_address(host, numeric_ec);
  if (!numeric_ec) {
    endpoints.emplace_back(address, port);
  } else {
    tcp::resolver resolver(ex);
    auto rr = co_await (resolver.async_resolve(host, std::to_string(port), use_tuple) ||
                        timer.async_wait(use_tuple));
    if (rr.index() == 1) {
      ec = asio::error::timed_out;
    } else {
      auto [rec, results] = std::get<0>(rr);
      ec = rec;
      for (const auto& entry : results) {
        endpoints.push_back(entry.endpoint());
      }
    }
  }
  if (!ec) {
    // Every address, IPv4 and IPv6, within one 2-s budget (§7.1).
    timer.expires_at(deadline);
    if (endpoints.size() == 1) {
      // Opened here and made non-blocking once, as the user's choice, so that neither the
      // connect nor the tunnel link's start sets it again (one ioctl per origin, not two).
      sock.open(endpoints.front().protocol(), ec);
      if (!ec) {
        sock.non_blocking(true, ec);
      }
      if (!ec) {
        auto c = co_await (sock.async_connect(endpoints.front(), use_tuple) ||
                           timer.async_wait(use_tuple));
        ec = c.index() == 1 ? std::error_code(asio::error::timed_out) : std::get<0>(std::get<0>(c));
      }
    } else {
      auto c = co_await (asio::async_connect(sock, endpoints, use_tuple) ||
                         timer.async_wait(use_tuple));
      ec = c.index() == 1 ? std::error_code(asio::error::timed_out) : std::get<0>(std::get<0>(c));
    }
  }
  if (!ec && !preface.empty()) {
    timer.expires_at(deadline);
    auto w = co_await (asio::async_write(sock, asio::buffer(preface), use_tuple) ||
                       timer.async_wait(use_tuple));
    ec = w.index() == 1 ? std::error_code(asio::error::timed_out) : std::get<0>(std::get<0>(w));
  }
  auto l = link.lock();
  if (!l) {
    co_return;
  }
  if (ec) {
    ++ctx->counters.origin_failures;
    ++ctx->counters.streams_refused;
    ctx->log->info("relay {}: sid={} origin {}:{} unavailable: {}", label, sid, host, port,
                    ec.message());
    std::error_code ignored;
    sock.close(ignored);
    l->refuse_local(sid, as_bytes(refusal));
    co_return;
  }
  ++ctx->counters.origin_connects;
  sock.set_option(tcp::no_delay(true), ec);
  l->attach_local(sid, tls::transport(net::prefixed_socket(std::move(sock))));
  co_return;
}

}  // namespace

origin_dialer::origin_dialer(asio::any_io_executor ex, std::shared_ptr<client_context> ctx,
                             std::string label)
    : ex_(std::move(ex)), ctx_(std::move(ctx)), label_(std::move(label)) {}

void origin_dialer::note(const mux::open_local& o, std::string outcome) {
  requests_->note({std::chrono::system_clock::now(), label_,
                   o.proto + ":" + o.host + ":" + std::to_string(o.port.value_or(0)), o.rip,
                   std::move(outcome)});
}

void origin_dialer::stream_ended() noexcept { --ctx_->counters.origin_streams; }

void origin_dialer::refuse_later(const std::shared_ptr<kiteline::tunnel::link>& link,
                                 wire::sid_t sid, std::string reply) {
  ++ctx_->counters.streams_refused;
  // Not inside the link's action loop: post.
  asio::post(ex_, [link = std::weak_ptr<kiteline::tunnel::link>(link), sid, reply = std::move(reply)] {
    if (auto l = link.lock()) {
      l->refuse_local(sid, as_bytes(reply));
    }
  });
}

void origin_dialer::open(const mux::open_local& o,
                         const std::shared_ptr<kiteline::tunnel::link>& link,
                         std::string_view uuid) {
  ++ctx_->counters.streams_opened;
  const std::uint64_t open_now = ++ctx_->counters.origin_streams;
  const auto& services = ctx_->cfg.services;
  const bool http = is_http_proto(o.proto) || ascii_istarts_with(o.proto, "probe");
  std::string refusal;
  if (http) {
    refusal = config::unavailable_page(ctx_->cfg.error_url, ctx_->cfg.error_urls, uuid, "be",
                                       o.proto, o.host);
  } else if (o.proto == "https") {
    auto alert = wire::tls_alert_unavailable();
    refusal.assign(reinterpret_cast<const char*>(alert.data()), alert.size());
  }
  if (open_now > ctx_->cfg.max_conns) {
    // pagekite.py has no such cap; its answer for a stream it cannot serve is this refusal.
    ++ctx_->counters.streams_over_max;
    if (ctx_->counters.streams_over_max.load() % 1000 == 1) {
      ctx_->log->warn("relay {}: sid={} refused: {} streams already open to origins "
                      "(--max_conns={}; {} refused so far)",
                      label_, o.sid, open_now - 1, ctx_->cfg.max_conns,
                      ctx_->counters.streams_over_max.load());
    }
    note(o, "refused: --max_conns");
    refuse_later(link, o.sid, std::move(refusal));
    return;
  }
  if (ctx_->draining) {
    // Connector drain (SIGTERM): refused as pagekite.py refuses a stream it cannot serve.
    if (ctx_->counters.streams_refused.load() % 1000 == 0) {
      ctx_->log->info("relay {}: sid={} refused: the connector is draining", label_, o.sid);
    }
    refuse_later(link, o.sid, std::move(refusal));
    return;
  }
  const config::service* s = choose_service(services, o.proto, o.host, o.port);
  if (s == nullptr) {
    ctx_->log->info("relay {}: sid={} no service for {}:{}:{}", label_, o.sid, o.proto, o.host,
                    o.port.value_or(0));
    note(o, "refused: no such kite here");
    refuse_later(link, o.sid, std::move(refusal));
    return;
  }
  if (!ip_allowed(s->flags.ip_allow, o.rip)) {
    ctx_->log->info("relay {}: sid={} kite {} refused visitor {} (+ip)", label_, o.sid,
                    s->kite_name, o.rip);
    note(o, "refused: +ip");
    refuse_later(link, o.sid, http ? std::string(wire::ip_forbidden_page()) : std::string());
    return;
  }
  std::string host = s->origin_host;
  std::uint16_t port = s->origin_port;
  if (s->kind != config::origin_kind::tcp) {
    auto it = ctx_->folder_ports.find(s->id());
    if (it == ctx_->folder_ports.end()) {
      refuse_later(link, o.sid, std::move(refusal));
      return;
    }
    host = "127.0.0.1";
    port = it->second;
  }
  if (is_http_proto(o.proto) && s->kind == config::origin_kind::tcp) {
    rewrite_options ro;
    ro.raw_headers = s->flags.rawheaders;  // still firewalled and checked, as pagekite.py
    // Trusted streams (§7.3 item 4): --insecure, +insecure, or the +ip check above passed.
    ro.insecure = ctx_->cfg.insecure || s->flags.insecure || !s->flags.ip_allow.empty();
    ro.rip = o.rip;
    ro.rtls = o.rtls;
    ro.port = o.port.value_or(0);
    ro.kite_name = s->kite_name;
    ro.uuid = std::string(uuid);
    if (s->flags.rewrite_host) {
      ro.rewrite_host = s->flags.rewrite_host->empty() ? s->origin_host : *s->flags.rewrite_host;
    }
    for (const auto& p : s->flags.passwords) {
      ro.passwords.emplace_back(p.user, p.password.reveal());
    }
    link->set_filter(o.sid, std::make_unique<rewrite_filter>(std::move(ro), link, o.sid, ex_,
                                                             ctx_->log, label_));
  }
  note(o, "origin " + host + ":" + std::to_string(port));
  std::string preface;
  if (s->flags.proxyproto) {
    preface = proxy_v1_line(o.rip, o.rport.value_or(0), o.port.value_or(0));
  }
  asio::co_spawn(ex_,
                 dial_origin(ex_, ctx_, label_, link, o.sid, std::move(host), port,
                             std::move(preface), std::move(refusal)),
                 net::log_failure(ctx_->log, "relay " + label_ + ": origin dial failed"));
}

}  // namespace kiteline::connector
