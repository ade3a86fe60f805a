#include "relay/tunnel_acceptor.hpp"

#include "accesslog/stream_record.hpp"
#include "core/text.hpp"
#include "net/spawn.hpp"
#include "relay/errc.hpp"
#include "relay/kite_policy.hpp"
#include "relay/local_kites.hpp"
#include "relay/server_impl.hpp"
#include "tls/client_auth.hpp"
#include "wire/chunk_encoder.hpp"
#include "wire/handshake.hpp"
#include "wire/kite_auth.hpp"
#include "wire/reject.hpp"
#include "wire/sha1.hpp"

#include <algorithm>
#include <chrono>
#include <ctime>

#include <openssl/ssl.h>

namespace kiteline::relay {

using net::awaitable;
using net::use_tuple;

namespace {

std::uint64_t unix_now() { return static_cast<std::uint64_t>(std::time(nullptr)); }

}  // namespace

std::string_view refusal_reason(kite_verdict v) noexcept {
  switch (v) {
    case kite_verdict::accepted:
    case kite_verdict::already_here:
    case kite_verdict::sign_this:
      return {};
    case kite_verdict::cert_required:
      return "no verified client certificate names it";
    case kite_verdict::bad_proto:
      return "protocol not served";
    case kite_verdict::bad_port:
      return "port not served";
    case kite_verdict::token_expired:
      return "challenge token expired";
    case kite_verdict::token_foreign:
      return "challenge token not issued here";
    case kite_verdict::no_domain_rule:
      return "no --domain rule covers it";
    case kite_verdict::bad_signature:
      return "bad signature";
    case kite_verdict::token_reused:
      return "challenge token reused";
    case kite_verdict::token_store_full:
      return "used-token store full";
    case kite_verdict::duplicate:
      return "duplicate";
    case kite_verdict::authority_refused:
      return "refused by the authority";
    case kite_verdict::authority_failed:
      return "no authority answer (fail closed)";
  }
  return "refused";
}

/// Seconds on a monotonic clock: the time of challenge tokens (issued and checked only by this
/// process, so any steady origin works, and a wall-clock step cannot stretch or cut their life).
std::uint64_t token_clock() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count());
}

tunnel_acceptor::tunnel_acceptor(server::impl& srv)
    : srv_(srv),
      fe_secret_(random_hex(32)),
      auth_(srv.cfg().auth, worker_contexts(srv.pool)),
      apps_(srv.cfg().auth, worker_contexts(srv.pool), srv.log_ptr()) {
  if (!srv.cfg().auth.domains.empty() && srv.cfg().auth.fail_open) {
    srv.log().warn(
        "--authfail_open: a kite whose --authdomain lookup fails (error, timeout, queue full) "
        "is ACCEPTED without authentication");
  }
}

outcome<void> tunnel_acceptor::admit_probation(const std::string& ip) {
  std::lock_guard lock(probation_mu_);
  if (probation_total_ >= srv_.cfg().max_unauth_tunnels) {
    return failure(errc::probation_full, "too many tunnels awaiting a kite (" +
                                             std::to_string(probation_total_) + ")");
  }
  std::size_t& n = probation_by_ip_[ip];
  if (n >= srv_.cfg().max_unauth_per_ip) {
    return failure(errc::probation_full_for_address,
                   "too many tunnels awaiting a kite from this address (" + std::to_string(n) +
                       ")");
  }
  ++n;
  ++probation_total_;
  return {};
}

void tunnel_acceptor::leave_probation(tunnel& tun) {
  if (!tun.on_probation) {
    return;
  }
  tun.on_probation = false;
  std::lock_guard lock(probation_mu_);
  --probation_total_;
  auto it = probation_by_ip_.find(tun.peer);
  if (it != probation_by_ip_.end() && --it->second == 0) {
    probation_by_ip_.erase(it);
  }
}

awaitable<void> tunnel_acceptor::run(std::size_t worker, tls::transport t,
                                     std::vector<std::byte> buf, std::size_t head_len,
                                     std::string peer, bool local) {
  std::string_view head = as_text(buf).substr(0, head_len);
  auto req = wire::parse_handshake_request(head);
  if (!req) {
    ++srv_.counters().handshakes_refused;
    srv_.log().info("tunnel refused peer={} reason=\"{}\"", peer, req.error().message());
    srv_.stats.refusals.note("tunnel", "", peer, req.error().message());
    co_await srv_.refuse(t, wire::connect_unavailable());
    co_return;
  }
  auto tun = std::make_shared<tunnel>();
  tun->id = next_tunnel_id_.fetch_add(1);
  tun->worker = worker;
  tun->peer = peer;
  tun->since = std::chrono::system_clock::now();
  tun->add_kites = req->add_kites;
  tun->local = local;
  if (SSL* ssl = t.ssl(); ssl != nullptr) {
    tun->tls = std::string(::SSL_get_version(ssl)) + " " + ::SSL_get_cipher_name(ssl);
  }
  if (t.is_tls() && !srv_.cfg().tls_client_ca.empty()) {
    tun->cert_names = tls::verified_peer_names(t.ssl());
  }
  if (!req->replace.empty()) {
    replace_session(req->replace);
  }
  auto round = co_await process_kites(tun, req->kites);
  std::vector<std::string> ok_keys = std::move(round.ok_keys);
  const bool rejected = round.rejected;
  auto& resp = round.response;
  resp.add_kites = true;
  const bool zchunks_ok = !srv_.cfg().process.nozchunks;
  resp.zchunks = zchunks_ok;
  resp.protos = srv_.cfg().protos;
  for (auto p : srv_.ports()) {
    resp.ports.push_back(std::to_string(srv_.reported_port(p)));
  }
  if (srv_.cfg().raw_virtual) {
    resp.raw_ports.push_back("virtual");
  }
  for (auto p : srv_.cfg().raw_ports) {
    resp.raw_ports.push_back(std::to_string(p));
  }
  resp.session_id = new_session_id(*tun);
  // Flow B keeps a tunnel with no kite open while the connector signs in-tunnel: it is on
  // probation (small fixed limits, --auth_timeout), and only so many may wait at once.
  const bool probation = ok_keys.empty() && req->add_kites && !rejected;
  if (probation) {
    if (const auto admitted = admit_probation(peer); !admitted) {
      ++srv_.counters().handshakes_refused;
      srv_.log().warn("tunnel refused peer={} reason=\"{}\" (--max_unauth_tunnels)", peer,
                      admitted.error().message());
      srv_.stats.refusals.note("tunnel", "", peer,
                               admitted.error().message() + " (--max_unauth_tunnels)");
      co_await srv_.refuse(t, wire::connect_unavailable());
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
      ++srv_.counters().handshakes_refused;
      srv_.log().info("tunnel refused peer={} reason=\"no kite accepted\"", peer);
      srv_.stats.refusals.note("tunnel", "", peer, "no kite accepted");
    }
    co_await srv_.refuse(t, "");
    co_return;
  }
  kiteline::tunnel::link_options opts;
  opts.role = mux::role::relay;
  opts.session.receive_budget = srv_.cfg().process.buffers_kib * 1024;
  opts.session.evict_after = std::chrono::seconds(srv_.cfg().process.evict_after_s);
  opts.session.stalled_after = std::chrono::seconds(srv_.cfg().process.stalled_after_s);
  opts.session.half_closed_timeout = std::chrono::seconds(srv_.cfg().process.half_closed_timeout_s);
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
  // A kiteline connector says "<pagekite.py version>+kiteline" (kite_signing.hpp). Any other
  // may write chunk heads and bodies separately with Nagle on (libpagekite): ACK it promptly.
  opts.quick_ack = !wire::is_kiteline_version(version);
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
  if (const auto& sink = srv_.access_log()) {
    opts.stream_notes = true;
    hooks.stream_finished = [sink, peer = tun->peer](const kiteline::tunnel::stream_note& n,
                                                     std::uint64_t read, std::uint64_t delivered) {
      sink->write(accesslog::stream_record(accesslog::side::relay, n, read, delivered, peer));
    };
  }
  std::vector<std::byte> leftover(buf.begin() + static_cast<std::ptrdiff_t>(head_len), buf.end());
  tun->link = std::make_shared<kiteline::tunnel::link>(std::move(t), opts, std::move(hooks),
                                                       srv_.log_ptr(), std::to_string(tun->id));
  srv_.tunnels[worker][tun->id] = tun;
  {
    std::lock_guard lock(sessions_mu_);
    by_session_[tun->session_ids.back()] = {worker, tun};
  }
  register_keys(tun, ok_keys);
  ++srv_.counters().tunnels_up;
  srv_.log().info("tunnel up id={} peer={} kites={} flow={} tls=\"{}\"", tun->id, peer,
                  ok_keys.size(), ok_keys.empty() ? "B (awaiting signed kites)" : "A",
                  tun->tls.empty() ? "none" : tun->tls);
  tun->link->start(leftover);
  if (ok_keys.empty()) {
    start_auth_timer(worker, weak);
  }
  start_quota_watch(tun);
}

void tunnel_acceptor::start_auth_timer(std::size_t worker, const std::weak_ptr<tunnel>& weak) {
  // Flow B: the connector has --auth_timeout to sign its kites in-tunnel (spec §4.5).
  auto timer = std::make_shared<asio::steady_timer>(srv_.pool.context(worker));
  timer->expires_after(srv_.cfg().auth_timeout);
  timer->async_wait([this, weak, timer](std::error_code tec) {
    auto t2 = weak.lock();
    if (!tec && t2 && t2->keys.empty()) {
      srv_.log().info("tunnel={} closed: no kite signed within {} s (--auth_timeout)", t2->id,
                      srv_.cfg().auth_timeout.count());
      t2->link->close("no kite signed");
    }
  });
}

void tunnel_acceptor::log_kite_decision(const tunnel& tun, const wire::kite_request& k,
                                        const kite_decision& d) {
  // A bad challenge token answers like pagekite.py (`unauthorized`); the log says why.
  auto bad_token = [&](std::string_view detail) {
    srv_.log().info(
        "kite refused tunnel={} peer={} kite={}:{} reason=unauthorized "
        "detail=\"challenge token {}\"",
        tun.id, tun.peer, k.proto, k.domain, detail);
  };
  switch (d.verdict) {
    case kite_verdict::accepted:
      if (d.by_cert) {
        srv_.log().info("kite authenticated by {} tunnel={} peer={} kite={}",
                        tun.local ? "the relay itself (local back-end)" : "client certificate",
                        tun.id, tun.peer, d.key);
      }
      return;
    case kite_verdict::already_here:
    case kite_verdict::sign_this:
      return;
    case kite_verdict::duplicate:
      srv_.log().info("kite refused tunnel={} peer={} kite={} reason=duplicate", tun.id, tun.peer,
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
      srv_.log().warn(
          "used-token store full ({} tokens used in the last {} s): refusing kites "
          "until some expire",
          used_tokens_.capacity(), wire::token_lifetime_seconds);
      bad_token("not recorded (used-token store full)");
      return;
    case kite_verdict::authority_refused:
    case kite_verdict::authority_failed:
      log_authority_refusal(tun, k, d);
      return;
    case kite_verdict::cert_required:
    case kite_verdict::bad_proto:
    case kite_verdict::bad_port:
    case kite_verdict::no_domain_rule:
    case kite_verdict::bad_signature:
      srv_.log().info("kite refused tunnel={} peer={} kite={}:{} reason={}", tun.id, tun.peer,
                      k.proto, k.domain, invalid_reason(d.verdict));
      if (d.verdict == kite_verdict::cert_required) {
        srv_.log().info(
            "kite refused tunnel={} peer={} kite={}:{} reason=\"no verified client "
            "certificate names it (--tls_client_required)\"",
            tun.id, tun.peer, k.proto, k.domain);
      }
      return;
  }
}

std::string tunnel_acceptor::new_session_id(tunnel& tun) {
  std::string id = wire::make_session_id(
      unix_now(), wire::sha1_hex(fe_secret_ + std::to_string(tun.id) + random_hex(8)));
  tun.session_ids.push_back(id);
  return id;
}

void tunnel_acceptor::replace_session(const std::string& id) {
  std::pair<std::size_t, std::weak_ptr<tunnel>> found;
  {
    std::lock_guard lock(sessions_mu_);
    auto it = by_session_.find(id);
    if (it == by_session_.end()) {
      return;
    }
    found = it->second;
  }
  std::weak_ptr<tunnel> weak = found.second;
  asio::post(srv_.pool.context(found.first), [this, weak] {
    if (auto t = weak.lock()) {
      srv_.log().info("tunnel={} replaced by a reconnecting connector", t->id);
      t->link->close("replaced");
    }
  });
}

void tunnel_acceptor::register_keys(const std::shared_ptr<tunnel>& tun,
                                    const std::vector<std::string>& keys) {
  if (!keys.empty() && tun->on_probation) {
    leave_probation(*tun);
    if (tun->link) {
      tun->link->end_probation();
    }
  }
  for (const auto& k : keys) {
    srv_.registry().add(k, tunnel_ref{tun, tun->worker, tun->id, tun->bsalts[k]});
    tun->keys.push_back(k);
    srv_.log().info("kite up tunnel={} peer={} kite={}", tun->id, tun->peer, k);
  }
}

void tunnel_acceptor::on_control(const std::shared_ptr<tunnel>& tun, const mux::control_chunk& cc) {
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
    srv_.log().info("tunnel={} bad kite round: {}", tun->id, req.error().message());
    tun->link->close("bad kite round");
    return;
  }
  // Decided on the tunnel's worker, after any authority lookups (relay/tunnel_auth.cpp).
  asio::co_spawn(srv_.pool.context(tun->worker), kite_round(tun, std::move(req->kites)),
                 net::log_failure(srv_.log_ptr(), "kite round failed"));
}

void tunnel_acceptor::on_tunnel_closed(std::size_t worker, std::uint64_t id,
                                       const std::string& why) {
  auto it = srv_.tunnels[worker].find(id);
  if (it == srv_.tunnels[worker].end()) {
    return;
  }
  auto tun = it->second;
  leave_probation(*tun);
  srv_.registry().remove_tunnel(id);
  srv_.access.forget_tunnel(id);
  {
    std::lock_guard lock(sessions_mu_);
    for (const auto& s : tun->session_ids) {
      by_session_.erase(s);
    }
  }
  ++srv_.counters().tunnels_down;
  srv_.log().info("tunnel down id={} peer={} kites={} reason=\"{}\" bytes_in={} bytes_out={}", id,
                  tun->peer, tun->keys.size(), why, tun->link->stats().bytes_in,
                  tun->link->stats().bytes_out);
  // Erase after this call stack unwinds (the link is still executing its close()).
  asio::post(srv_.pool.context(worker), [this, worker, id] {
    const auto it2 = srv_.tunnels[worker].find(id);
    if (it2 != srv_.tunnels[worker].end() && it2->second->link) {
      // The console's byte totals: the tunnel moves from the live table to the closed sums.
      const auto& ls = it2->second->link->stats();
      auto& c = srv_.stats.closed[worker];
      c.visitor_received += ls.local_in;
      c.visitor_sent += ls.local_out;
      c.tunnel_received += ls.bytes_in;
      c.tunnel_sent += ls.bytes_out;
    }
    srv_.tunnels[worker].erase(id);
  });
}

}  // namespace kiteline::relay
