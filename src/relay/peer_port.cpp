// The peer port of relay/peer_forward.hpp: PROXY v2 + HMAC from the fleet's relays only.
#include "fleet/holder_lookup.hpp"
#include "fleet/peer_mark.hpp"
#include "net/listener.hpp"
#include "net/spawn.hpp"
#include "relay/peer_forward.hpp"
#include "relay/server_impl.hpp"
#include "wire/proxy_v2.hpp"

#include <array>
#include <chrono>
#include <vector>

namespace kiteline::relay {

using net::awaitable;
using net::tcp;
using net::use_tuple;

namespace {

constexpr auto header_deadline = std::chrono::seconds(5);

std::string address_text(const std::array<std::uint8_t, 16>& b, bool v6) {
  if (!v6) {
    return asio::ip::address_v4(asio::ip::address_v4::bytes_type{b[0], b[1], b[2], b[3]})
        .to_string();
  }
  asio::ip::address_v6::bytes_type raw{};
  std::copy(b.begin(), b.end(), raw.begin());
  const asio::ip::address_v6 a(raw);
  return a.is_v4_mapped() ? asio::ip::make_address_v4(asio::ip::v4_mapped, a).to_string()
                          : a.to_string();
}

peer_refusal refusal_of(fleet::peer_verdict v) {
  switch (v) {
    case fleet::peer_verdict::bad_mac:
      return peer_refusal::bad_mac;
    case fleet::peer_verdict::stale_time:
      return peer_refusal::stale_time;
    case fleet::peer_verdict::bad_hops:
      return peer_refusal::bad_hops;
    case fleet::peer_verdict::replayed:
      return peer_refusal::replayed;
    case fleet::peer_verdict::ok:
    case fleet::peer_verdict::no_mark:
      break;
  }
  return peer_refusal::no_header;  // no kiteline mark in the header
}

/// A refused peer connection: a warning, at most one a second (the rest counted in the next).
void refuse_peer(server::impl& srv, const std::string& from, std::string_view why,
                 peer_refusal counted = peer_refusal::no_header) {
  srv.stats.fleet.refused(counted);
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::steady_clock::now().time_since_epoch())
                       .count();
  auto last = srv.peer_warned_at.load();
  if (now != last && srv.peer_warned_at.compare_exchange_strong(last, now)) {
    const auto more = srv.peer_warn_suppressed.exchange(0);
    srv.log().warn("fleet peer connection refused from={} reason=\"{}\"{}", from, why,
                   more == 0 ? std::string() : fmt::format(" (and {} more)", more));
  } else {
    ++srv.peer_warn_suppressed;
  }
}

awaitable<void> peer_session(server::impl& srv, std::size_t worker, tcp::socket sock,
                             std::string from) {
  using namespace asio::experimental::awaitable_operators;
  auto ex = co_await asio::this_coro::executor;
  asio::steady_timer timer(ex);
  timer.expires_after(header_deadline);
  std::vector<std::byte> buf;
  std::array<std::byte, 1024> chunk{};
  wire::proxy_decoded d;
  for (;;) {
    auto r = co_await (sock.async_read_some(asio::buffer(chunk), use_tuple) ||
                       timer.async_wait(use_tuple));
    if (r.index() == 1) {
      refuse_peer(srv, from, "no PROXY v2 header in time");
      co_return;
    }
    auto [ec, n] = std::get<0>(r);
    if (ec || n == 0) {
      if (!buf.empty()) {
        refuse_peer(srv, from, "closed inside the PROXY v2 header");
      }
      co_return;
    }
    buf.insert(buf.end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(n));
    d = wire::decode_proxy_v2(buf);
    if (d.status == wire::proxy_status::invalid) {
      refuse_peer(srv, from, "not a PROXY v2 header");
      co_return;
    }
    if (d.status == wire::proxy_status::done) {
      break;
    }
  }
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
      std::chrono::system_clock::now().time_since_epoch());
  const auto verdict = fleet::verify_peer_header(buf, d, srv.cfg().fleet.peer_secret.reveal(),
                                                 static_cast<std::uint64_t>(now.count()),
                                                 srv.peer_replays);
  if (verdict != fleet::peer_verdict::ok) {
    refuse_peer(srv, from, fleet::describe(verdict), refusal_of(verdict));
    co_return;
  }
  std::string peer = address_text(d.header.src, d.header.ipv6);
  const std::uint16_t peer_port = d.header.src_port;
  srv.stats.fleet.peer_accepted.add();
  srv.log().info("visitor from fleet peer={} rip={} rport={}", from, peer, peer_port);
  std::vector<std::byte> rest(buf.begin() + static_cast<std::ptrdiff_t>(d.length), buf.end());
  std::error_code ec;
  sock.non_blocking(true, ec);
  tls::transport t{net::prefixed_socket(std::move(sock))};
  co_await srv.visitor_job.run(worker, std::move(t), d.header.dst_port, std::move(rest), false,
                               std::move(peer), peer_port, true);
}

awaitable<void> peer_accept_loop(server::impl& srv, std::size_t worker, tcp::acceptor* acc) {
  auto ex = co_await asio::this_coro::executor;
  while (!srv.stopping) {
    tcp::endpoint remote;
    auto [ec, sock] = co_await acc->async_accept(remote, use_tuple);
    if (srv.stopping || ec == asio::error::operation_aborted) {
      break;
    }
    if (ec) {
      srv.log().warn("accept failed on the fleet peer port: {}", ec.message());
      asio::steady_timer t(ex);
      t.expires_after(std::chrono::milliseconds(100));
      (void)co_await t.async_wait(use_tuple);
      continue;
    }
    std::error_code oec;
    sock.set_option(tcp::no_delay(true), oec);
    asio::co_spawn(ex,
                   peer_session(srv, worker, std::move(sock),
                                remote.address().to_string() + ":" + std::to_string(remote.port())),
                   net::log_failure(srv.log_ptr(), "fleet peer connection failed"));
  }
}

}  // namespace

outcome<void> start_fleet(server::impl& srv) {
  const auto& f = srv.cfg().fleet;
  if (!f.enabled() || f.port == 0) {
    return {};
  }
  srv.holders = std::make_unique<fleet::holder_lookup>(f, srv.log_ptr());
  for (const auto& address : f.addresses) {
    const std::size_t index = srv.acceptors[0].size();
    for (std::size_t w = 0; w < srv.pool.size(); ++w) {
      auto ep = net::bind_endpoint(address, f.port);
      if (!ep) {
        return failure(errc::bad_host,
                       "bad --fleet_address '" + address + "': " + ep.error().message());
      }
      auto acc = w == 0 ? net::make_exclusive_acceptor(srv.pool.context(w), *ep)
                        : net::share_acceptor(srv.pool.context(w), *srv.acceptors[0][index]);
      if (!acc) {
        return failure(
            errc::cannot_listen,
            net::describe_listen_error(address + ":" + std::to_string(f.port), acc.error()));
      }
      srv.acceptors[w].push_back(std::make_unique<tcp::acceptor>(std::move(*acc)));
      asio::co_spawn(srv.pool.context(w), peer_accept_loop(srv, w, srv.acceptors[w].back().get()),
                     net::log_failure(srv.log_ptr(), "fleet peer port failed"));
    }
    srv.log().info("fleet peer port listening on {}:{}", address, f.port);
  }
  return {};
}

}  // namespace kiteline::relay
