#include "relay/visitor_session.hpp"

#include "core/memory.hpp"
#include "core/text.hpp"
#include "net/prefixed_socket.hpp"
#include "relay/error_page.hpp"
#include "relay/move_to_worker.hpp"
#include "relay/peer_forward.hpp"
#include "relay/server_impl.hpp"
#include "sniff/classify.hpp"
#include "wire/ping.hpp"
#include "wire/reject.hpp"

#include <algorithm>
#include <chrono>

namespace kiteline::relay {

using net::awaitable;
using net::tcp;
using net::use_tuple;

namespace {

bool contains(const std::vector<std::string>& v, std::string_view x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

}  // namespace

awaitable<void> visitor_session::run(std::size_t worker, tls::transport t, std::uint16_t port,
                                     std::vector<std::byte> buf, bool via_tls, std::string peer,
                                     std::uint16_t peer_port, bool forwarded) {
  using namespace asio::experimental::awaitable_operators;
  auto ex = co_await asio::this_coro::executor;
  const auto started = std::chrono::steady_clock::now();
  const auto deadline = started + srv_.cfg().visitor_timeout;
  const std::uint16_t public_port = srv_.reported_port(port);
  // An access-log line for a visitor answered or dropped here (no kite known yet: "").
  const auto log_visitor = [&](std::string_view kite, std::string_view proto,
                               std::string_view reply, std::string_view note) {
    srv_.log_visitor(started, peer, peer_port, kite, proto, public_port, as_text(buf), reply,
                     note);
  };
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
          log_visitor("", "", "", "closed before a request");
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
        ++srv_.counters().visitors_timed_out;
        srv_.stats.visitor(visitor_proto::unknown, visitor_result::timed_out);
        srv_.log().info("visitor closed rip={} reason=\"no request within {}s\"", peer,
                        srv_.cfg().visitor_timeout.count());
        log_visitor("", "", "", "no request in time");
        t.close();
        co_return;
      }
    }
    chunk.resize(4096);
    auto r = co_await (t.read_some(chunk) || timer.async_wait(use_tuple));
    if (r.index() == 1) {
      ++srv_.counters().visitors_timed_out;
      srv_.stats.visitor(visitor_proto::unknown, visitor_result::timed_out);
      srv_.log().info("visitor closed rip={} reason=\"request head incomplete after {}s\"", peer,
                      srv_.cfg().visitor_timeout.count());
      log_visitor("", "", "", "request head incomplete in time");
      t.close();
      co_return;
    }
    auto [ec, n] = std::get<0>(r);
    if (ec || n == 0) {
      log_visitor("", "", "", "closed before a request");
      t.close();
      co_return;
    }
    buf.insert(buf.end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(n));
  }
  core::release(chunk);

  switch (c.what) {
    case sniff::kind::ping: {
      ++srv_.counters().pings;
      auto reply = wire::format_ping_reply(srv_.uuid(), srv_.access.overloaded());
      co_await srv_.refuse(t, reply);
      co_return;
    }
    case sniff::kind::reject:
      ++srv_.counters().visitors_refused;
      srv_.log().info("visitor refused rip={} reason=\"{}\"", peer,
                      c.error ? c.error.message() : std::string("request head too large"));
      srv_.stats.visitor(visitor_proto::unknown, visitor_result::refused);
      srv_.stats.refusals.note(
          "visitor", "", peer, c.error ? c.error.message() : std::string("request head too large"));
      log_visitor("", "", "", "refused: bad request");
      t.close();
      co_return;
    case sniff::kind::tunnel_request:
      if (forwarded || !srv_.access.tunnel_allowed(peer)) {  // --tunnel_acl (logged there)
        co_await srv_.refuse(t, wire::connect_forbidden());
        co_return;
      }
      co_await srv_.tunnel_job.run(worker, std::move(t), std::move(buf), c.head_length, peer);
      co_return;
    case sniff::kind::visitor_connect:
      co_await connect(worker, std::move(t), port, std::move(buf), std::move(c), peer, peer_port,
                       forwarded);
      co_return;
    case sniff::kind::visitor_http: {
      if (c.ping_method) {
        co_await srv_.refuse(t, wire::format_pong_reply(as_text(buf).substr(0, c.head_length)));
        co_return;
      }
      if (!c.has_host || c.host.empty()) {
        ++srv_.counters().visitors_refused;
        srv_.log().info("visitor refused rip={} reason=\"no Host header\"", peer);
        srv_.stats.visitor(visitor_proto::http, visitor_result::refused);
        srv_.stats.refusals.note("visitor", "", peer, "no Host header");
        const auto page = wire::format_no_host_page(srv_.uuid(), srv_.access.overloaded());
        log_visitor("", "http", page, "refused: no Host header");
        co_await srv_.refuse(t, page);
        co_return;
      }
      std::string proto =
          (c.websocket && contains(srv_.cfg().protos, "websocket")) ? "websocket" : "http";
      if (!srv_.access.client_allowed(peer, proto, c.host)) {  // --client_acl
        srv_.stats.visitor(visitor_proto_of(proto), visitor_result::refused);
        const auto page = wire::format_forbidden_page(srv_.uuid(), proto, c.host);
        log_visitor(c.host, proto, page, "forbidden: client ACL");
        co_await srv_.refuse(t, page);
        co_return;
      }
      route r;
      const bool found = srv_.registry().find(proto, c.host, srv_.reported_port(port), r, false,
                                              srv_.round_robin.fetch_add(1));
      if (!found && may_forward(srv_, t, forwarded) &&
          co_await forward_to_peer(srv_, t, c.host, buf, peer, peer_port, proto, started)) {
        co_return;
      }
      if (!found) {
        ++srv_.counters().visitors_refused;
        srv_.log().info("visitor unavailable rip={} proto={} kite={} reason=\"no tunnel\"", peer,
                        proto, c.host);
        srv_.stats.refusals.note("visitor", proto + ":" + c.host, peer, "no tunnel for this kite");
      }
      // --ratelimit_ips refuses like a missing tunnel (pagekite.py); logged in admit_visitor.
      if (!found || !srv_.access.admit_visitor(r, peer, c.host,
                                               as_text(buf).substr(0, c.head_length))) {
        srv_.stats.visitor(visitor_proto_of(proto), visitor_result::refused);
        const auto page = unavailable_page(srv_.cfg(), srv_.uuid(), t, proto, c.host,
                                           srv_.access.overloaded());
        log_visitor(c.host, proto, page,
                    found ? "unavailable: rate limit" : "unavailable: no tunnel");
        co_await srv_.refuse(t, page);
        co_return;
      }
      owned_open info{r.proto, c.host, srv_.reported_port(port), peer, peer_port, via_tls};
      dispatch_stream(worker, std::move(t), r, std::move(info), std::move(buf));
      co_return;
    }
    case sniff::kind::visitor_tls: {
      if (via_tls) {
        srv_.log().info("visitor refused rip={} reason=\"TLS inside TLS\"", peer);
        srv_.stats.visitor(visitor_proto::https, visitor_result::refused);
        log_visitor("", "https", "", "refused: TLS inside TLS");
        t.close();
        co_return;
      }
      std::string name = c.has_sni ? c.host : srv_.cfg().tls_default;
      if (!srv_.access.client_allowed(peer, "https", name)) {  // --client_acl: the TLS alert
        srv_.stats.visitor(visitor_proto::https, visitor_result::refused);
        log_visitor(name, "https", "", "forbidden: client ACL");
        co_await srv_.refuse(t, as_text(wire::tls_alert_unavailable()));
        co_return;
      }
      route r;
      if (!name.empty() && contains(srv_.cfg().protos, "https") &&
          srv_.registry().find("https", name, srv_.reported_port(port), r, false,
                               srv_.round_robin.fetch_add(1)) &&
          srv_.access.admit_visitor(r, peer, name, "")) {
        owned_open info{"https", name, srv_.reported_port(port), peer, peer_port, false};
        dispatch_stream(worker, std::move(t), r, std::move(info), std::move(buf));
        co_return;
      }
      const tls::endpoint* ep = srv_.endpoints.find(c.has_sni ? std::string_view(c.host) : "");
      if (ep != nullptr) {
        co_await terminate_tls(worker, std::move(t), port, std::move(buf), ep, peer, peer_port);
        co_return;
      }
      if (c.has_sni && may_forward(srv_, t, forwarded) &&
          co_await forward_to_peer(srv_, t, c.host, buf, peer, peer_port, "https", started)) {
        co_return;
      }
      ++srv_.counters().visitors_refused;
      srv_.log().info("visitor refused rip={} sni={} reason=\"no https kite or TLS endpoint\"",
                      peer, c.has_sni ? c.host : std::string("(none)"));
      srv_.stats.visitor(visitor_proto::https, visitor_result::refused);
      srv_.stats.refusals.note("visitor", c.has_sni ? "https:" + c.host : std::string(), peer,
                               "no https kite or TLS endpoint");
      auto alert = wire::tls_alert_unavailable();
      log_visitor(c.has_sni ? std::string_view(c.host) : std::string_view(), "https", "",
                  "unavailable: no https kite or TLS endpoint");
      co_await srv_.refuse(t, as_text(alert));
      co_return;
    }
    case sniff::kind::need_more:
      break;
  }
  t.close();
}

awaitable<void> visitor_session::terminate_tls(std::size_t worker, tls::transport t,
                                               std::uint16_t port, std::vector<std::byte> buf,
                                               const tls::endpoint* ep, std::string peer,
                                               std::uint16_t peer_port) {
  using namespace asio::experimental::awaitable_operators;
  auto ex = co_await asio::this_coro::executor;
  tcp::socket sock = std::move(t.socket());
  // This handshake keeps the context it started with, even if a reload replaces it meanwhile.
  const auto context = ep->context();
  auto stream =
      std::make_unique<tls::tls_stream>(net::prefixed_socket(std::move(sock), buf), *context);
  asio::steady_timer timer(ex);
  timer.expires_after(srv_.cfg().visitor_timeout);
  auto r =
      co_await (stream->handshake(asio::ssl::stream_base::server) || timer.async_wait(use_tuple));
  if (r.index() == 1 || std::get<0>(r)) {
    srv_.log().info("visitor refused rip={} reason=\"TLS handshake failed{}\"", peer,
                    r.index() == 1 ? ": timeout" : ": " + std::get<0>(r).message());
    srv_.log_visitor(std::chrono::steady_clock::now(), peer, peer_port, ep->name(), "https",
                     srv_.reported_port(port), "", "", "refused: TLS handshake failed");
    std::error_code ec;
    stream->lowest_layer().close(ec);
    co_return;
  }
  tls::transport tt{std::move(stream)};
  co_await run(worker, std::move(tt), port, {}, true, peer, peer_port);
}

awaitable<void> visitor_session::connect(std::size_t worker, tls::transport t, std::uint16_t port,
                                         std::vector<std::byte> buf, sniff::classification c,
                                         std::string peer, std::uint16_t peer_port,
                                         bool forwarded) {
  const auto started = std::chrono::steady_clock::now();  // (the CONNECT line is in)
  const std::string host = c.host;
  const std::uint16_t cport = c.port;
  std::vector<std::byte> rest(buf.begin() + static_cast<std::ptrdiff_t>(c.head_length), buf.end());
  auto established = wire::connect_established_reply();
  if (!srv_.access.client_allowed(peer, "connect", host, cport)) {
    srv_.stats.visitor(visitor_proto::raw, visitor_result::refused);
    const auto page = wire::format_forbidden_page(srv_.uuid(), "raw", host);
    srv_.log_visitor(std::chrono::steady_clock::now(), peer, peer_port, host, "connect", cport,
                     as_text(buf).substr(0, c.head_length), page, "forbidden: client ACL");
    co_await srv_.refuse(t, page);
    co_return;
  }
  route r;
  auto accept_with = [&](std::string proto) -> awaitable<bool> {
    if (!srv_.access.admit_visitor(r, peer, host, "")) {  // --ratelimit_ips (logged there)
      co_await srv_.refuse(t, wire::connect_unavailable());
      co_return false;
    }
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
    if (contains(srv_.cfg().protos, "https") && srv_.registry().find("https", host, 443, r, true)) {
      co_await accept_with("https");
      co_return;
    }
    const tls::endpoint* ep = srv_.endpoints.find(host);
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
      if (srv_.registry().find(p, host, cport, r, true) && r.proto == p) {
        co_await accept_with(r.proto);
        co_return;
      }
    }
  }
  const bool raw_ok = srv_.cfg().raw_virtual ||
                      std::find(srv_.cfg().raw_ports.begin(), srv_.cfg().raw_ports.end(), cport) !=
                          srv_.cfg().raw_ports.end();
  if (raw_ok && contains(srv_.cfg().protos, "raw") &&
      srv_.registry().find("raw", host, cport, r, true)) {
    co_await accept_with("raw");
    co_return;
  }
  if (may_forward(srv_, t, forwarded) &&
      co_await forward_to_peer(srv_, t, host, buf, peer, peer_port, "raw", started)) {
    co_return;  // the CONNECT line replayed: the holder answers it
  }
  ++srv_.counters().visitors_refused;
  srv_.log().info("visitor unavailable rip={} connect={}:{} reason=\"no tunnel\"", peer, host,
                  cport);
  srv_.stats.visitor(visitor_proto::unknown, visitor_result::refused);
  srv_.stats.refusals.note("visitor", host + ":" + std::to_string(cport), peer,
                           "CONNECT: no tunnel for this kite");
  const auto reply = wire::connect_unavailable();
  srv_.log_visitor(std::chrono::steady_clock::now(), peer, peer_port, host, "connect", cport,
                   as_text(buf).substr(0, c.head_length), reply, "unavailable: no tunnel");
  co_await srv_.refuse(t, reply);
}

void visitor_session::dispatch_stream(std::size_t worker, tls::transport t, const route& r,
                                      owned_open info, std::vector<std::byte> first) {
  ++srv_.counters().visitors_routed;
  srv_.stats.visitor(visitor_proto_of(info.proto), visitor_result::routed);
  auto attach = [info = std::move(info), first = std::move(first), weak = r.ref.target,
                 log = srv_.log_ptr()](tls::transport&& v) {
    if (auto tun = weak.lock()) {
      if (!tun->limits.admits_stream(tun->link->stream_count())) {
        // The authority's QConns (relay/auth_answer): streams at once on this tunnel.
        log->info("visitor refused tunnel={} reason=\"QConns: {} streams open\"", tun->id,
                  tun->link->stream_count());
        v.close();
        return;
      }
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
  move_to_worker(srv_.pool, r.ref.worker, std::move(t), std::move(attach), srv_.log());
}

}  // namespace kiteline::relay
