// tunnel_acceptor's kite rounds with --authdomain (spec 4.6, 8.2-8.4): the authority lookups
// (DNS or auth app) before a round is decided, in-tunnel rounds, quota re-checks and the quota's end.
#include "core/text.hpp"
#include "net/spawn.hpp"
#include "relay/local_kites.hpp"
#include "relay/server_impl.hpp"
#include "relay/tunnel_acceptor.hpp"
#include "tls/client_auth.hpp"
#include "wire/chunk_encoder.hpp"

#include <algorithm>
#include <chrono>

#include <fmt/ranges.h>

namespace kiteline::relay {

using net::awaitable;

namespace {

/// Bytes relayed between the tunnel's visitors and its connector (what a quota counts).
std::uint64_t visitor_bytes(const tunnel& tun) {
  if (!tun.link) {
    return 0;
  }
  return tun.link->stats().local_in + tun.link->stats().local_out;
}

std::string ips_text(const std::optional<ip_limit>& l) {
  return l ? std::to_string(l->n) + "/" + std::to_string(l->seconds) : std::string("-");
}

}  // namespace

std::vector<asio::io_context*> worker_contexts(net::worker_pool& pool) {
  std::vector<asio::io_context*> out;
  for (std::size_t i = 0; i < pool.size(); ++i) {
    out.push_back(&pool.context(i));
  }
  return out;
}

tunnel_acceptor::awaitable_round tunnel_acceptor::process_kites(
    std::shared_ptr<tunnel> tun, std::vector<wire::kite_request> kites, bool recheck) {
  std::vector<std::uint16_t> reported;
  for (auto p : srv_.ports()) {
    reported.push_back(srv_.reported_port(p));
  }
  kite_policy_view view;
  view.served_elsewhere = [&](std::string_view key, std::string_view bsalt) {
    // A kite the relay serves itself is never taken by an outside connector (Duplicate).
    return srv_.registry().is_served(key, tun->id, bsalt) ||
           (!tun->local && takes_local_kite(srv_.cfg().local_kites, key));
  };
  view.has_tls_endpoint = [&](std::string_view domain) {
    return srv_.endpoints.find(domain) != nullptr;
  };
  view.cert_covers = [&](std::string_view domain) {
    return tls::names_cover(tun->cert_names, domain) ||
           (tun->local && names_local_kite(srv_.cfg().local_kites, domain));
  };
  view.token_nonce = [] { return random_hex(4).substr(0, 7); };
  kite_round_input in{kites, tun->keys, reported, fe_secret_, token_clock(), {}};
  in.recheck = recheck;
  // Ask the authorities first (on this tunnel's coroutine: visitors never wait for it).
  std::vector<std::optional<auth_grant>> answers(kites.size());
  const auto queries = authority_queries(srv_.cfg(), in, view);
  for (std::size_t i = 0; i < queries.size(); ++i) {
    if (!queries[i]) {
      continue;
    }
    // The rule that made the query: a DNS suffix, or an auth app (spec 8.3).
    const auto rule = pick_auth_suffix(srv_.cfg().auth.domains, kites[i].domain);
    if (rule && is_auth_app(*rule)) {
      answers[i] = co_await apps_.ask(std::string(*rule), kites[i], recheck);
    } else {
      answers[i] = co_await auth_.ask(tun->worker, *queries[i], recheck);
    }
  }
  in.authority = answers;
  in.tunnel_keys = tun->keys;
  in.now = token_clock();
  kite_round_result round = decide_kites(srv_.cfg(), in, view, used_tokens_);
  round_outcome out;
  bool granted_any = false;
  for (std::size_t i = 0; i < kites.size(); ++i) {
    const auto& d = round.decisions[i];
    log_kite_decision(*tun, kites[i], d);
    if (const auto why = refusal_reason(d.verdict); !why.empty()) {
      srv_.stats.refusals.note("kite", kites[i].proto + ":" + kites[i].domain, tun->peer, why);
    }
    if (d.verdict == kite_verdict::accepted) {
      tun->bsalts[d.key] = kites[i].bsalt;
    }
    const bool ok = d.verdict == kite_verdict::accepted || d.verdict == kite_verdict::already_here;
    if (ok && d.grant && d.grant->outcome == auth_grant::kind::failed) {
      srv_.log().warn("kite {} accepted without authority: {} tunnel={} peer={} (--authfail_open)",
                      d.key, d.grant->detail, tun->id, tun->peer);
    }
    if (d.verdict == kite_verdict::accepted && d.grant && !recheck) {
      tun->limits.auth_kites.push_back(kites[i]);
      srv_.log().info("kite authenticated by authority tunnel={} peer={} kite={} detail=\"{}\"",
                      tun->id, tun->peer, d.key, d.grant->detail);
    }
    granted_any = granted_any || (ok && d.grant);
  }
  const auto& r = round.response;
  if (granted_any && (r.quota || r.qconns || r.qdays || !r.ips_per_sec.empty())) {
    auto& l = tun->limits;
    l.quota_kb = r.quota;
    l.counted_from = visitor_bytes(*tun);
    l.qconns = r.qconns;
    l.qdays = r.qdays;
    l.ips_per_sec = round.ips_per_sec;  // the strictest of the round's grants
    if (l.ips_per_sec) {  // the authority's IPsPerSec: applied with --ratelimit_ips
      srv_.access.set_authority_limit(tun->id, *l.ips_per_sec);
    }
    srv_.log().info("tunnel={} limits quota_kb={} qconns={} qdays={} ips_per_sec={}", tun->id,
                    r.quota ? std::to_string(*r.quota) : "-",
                    r.qconns ? std::to_string(*r.qconns) : "-",
                    r.qdays ? std::to_string(*r.qdays) : "-", ips_text(l.ips_per_sec));
  }
  out.rejected = round.rejected;
  out.ok_keys = std::move(round.new_keys);
  out.response = std::move(round.response);
  co_return out;
}

awaitable<void> tunnel_acceptor::kite_round(std::shared_ptr<tunnel> tun,
                                            std::vector<wire::kite_request> kites) {
  auto round = co_await process_kites(tun, std::move(kites));
  if (!tun->link || tun->link->closed()) {
    co_return;  // the tunnel went away during the lookups
  }
  auto& resp = round.response;
  resp.session_id = new_session_id(*tun);
  {
    std::lock_guard lock(sessions_mu_);
    by_session_[tun->session_ids.back()] = {tun->worker, tun};
  }
  auto payload = wire::format_result_payload(resp);
  const std::string framed = wire::frame_control_payload(payload);
  tun->link->send_control(as_bytes(framed));
  register_keys(tun, round.ok_keys);
  start_quota_watch(tun);
  const bool any_ok = std::any_of(resp.results.begin(), resp.results.end(),
                                  [](const auto& r) { return r.status == wire::kite_status::ok; });
  if (!any_ok && round.rejected) {
    srv_.log().info("tunnel={} closed: kite round rejected", tun->id);
    // Flush the result chunk first: a plain close() dropped it, so the connector never saw its
    // X-PageKite-Duplicate / Invalid lines (RelayLifecycle.SecondConnectorTakesOverAfterFirstDies).
    tun->link->close_when_flushed("kite round rejected");
  }
}

void tunnel_acceptor::start_quota_watch(const std::shared_ptr<tunnel>& tun) {
  if (tun->limits.auth_kites.empty() || tun->quota_watched) {
    return;
  }
  tun->quota_watched = true;
  asio::co_spawn(srv_.pool.context(tun->worker), watch_quota(tun),
                 net::log_failure(srv_.log_ptr(), "quota watch failed"));
}

awaitable<void> tunnel_acceptor::watch_quota(std::weak_ptr<tunnel> weak) {
  using namespace std::chrono_literals;
  asio::steady_timer timer(co_await asio::this_coro::executor);
  auto next_check = std::chrono::steady_clock::now() + srv_.cfg().auth.recheck;
  for (;;) {
    // Counting is sampled once a second (and at each re-check); the re-check interval is an
    // option (--authdomain_recheck_seconds).
    timer.expires_after(std::min<std::chrono::steady_clock::duration>(
        1s, std::max<std::chrono::steady_clock::duration>(
                0s, next_check - std::chrono::steady_clock::now())));
    if (auto [ec] = co_await timer.async_wait(net::use_tuple); ec) {
      co_return;
    }
    auto tun = weak.lock();
    if (!tun || !tun->link || tun->link->closed()) {
      co_return;
    }
    if (const auto left = tun->limits.quota_left_kb(visitor_bytes(*tun)); left && *left <= 0) {
      srv_.log().warn("tunnel={} peer={} closed: quota of {} kB used up (kites {})", tun->id,
                      tun->peer, *tun->limits.quota_kb, fmt::join(tun->keys, ","));
      tun->link->close("quota used up");
      co_return;
    }
    if (std::chrono::steady_clock::now() < next_check) {
      continue;
    }
    next_check = std::chrono::steady_clock::now() + srv_.cfg().auth.recheck;
    // Spec 8.4: ask again about the granted kite lines; push the new quota; if none is OK any
    // more, close the tunnel.
    auto round = co_await process_kites(tun, tun->limits.auth_kites, true);
    const bool any_ok = std::any_of(round.response.results.begin(), round.response.results.end(),
                                    [](const auto& r) { return r.status == wire::kite_status::ok; });
    if (!tun->link || tun->link->closed()) {
      co_return;
    }
    if (!any_ok) {
      srv_.log().warn("tunnel={} peer={} closed: quota re-check refused every kite ({})", tun->id,
                      tun->peer, fmt::join(tun->keys, ","));
      tun->link->close("authority re-check refused");
      co_return;
    }
    if (tun->limits.quota_kb) {
      const std::string chunk = "NOOP: 1\r\nQuota: " + std::to_string(*tun->limits.quota_kb) +
                                "\r\n\r\n!";
      const std::string framed = wire::frame_control_payload(chunk);
      tun->link->send_control(as_bytes(framed));
      srv_.log().info("tunnel={} quota re-checked: {} kB", tun->id, *tun->limits.quota_kb);
    }
  }
}

void tunnel_acceptor::log_authority_refusal(const tunnel& tun, const wire::kite_request& k,
                                            const kite_decision& d) {
  const std::string reason = d.verdict == kite_verdict::authority_refused && d.grant
                                 ? d.grant->reason
                                 : std::string(invalid_reason(d.verdict));
  const std::string detail = d.grant ? d.grant->detail : std::string("no authority answer");
  srv_.log().info("kite {}:{} refused: {} tunnel={} peer={} reason={}{}", k.proto, k.domain,
                  detail, tun.id, tun.peer, reason,
                  d.verdict == kite_verdict::authority_failed ? " (fail closed)" : "");
}

}  // namespace kiteline::relay
