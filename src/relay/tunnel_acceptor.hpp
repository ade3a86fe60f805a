// relay::tunnel_acceptor: an incoming tunnel's handshake (Flow A and B), its kites' policy
// (relay/kite_policy) and registration, the Flow B --auth_timeout timer, in-tunnel kite rounds,
// session ids and X-PageKite-Replace, probation, and the tunnel's end.
#pragma once

#include "core/outcome.hpp"
#include "mux/session.hpp"
#include "net/asio.hpp"
#include "relay/auth_app.hpp"
#include "relay/authority.hpp"
#include "relay/kite_policy.hpp"
#include "relay/server.hpp"
#include "relay/token_book.hpp"
#include "tls/transport.hpp"
#include "wire/handshake.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace kiteline::relay {

/// Why a kite was refused, in words for the console's recent refusals ("" = not refused).
[[nodiscard]] std::string_view refusal_reason(kite_verdict v) noexcept;
/// Seconds on a monotonic clock: the time of challenge tokens.
[[nodiscard]] std::uint64_t token_clock();

/// The workers' io_contexts, by index (for relay::authority).
std::vector<asio::io_context*> worker_contexts(net::worker_pool& pool);

/// The tunnel job of one relay. Any worker: its shared state (used tokens, session ids,
/// probation counts) is under its own locks; a tunnel's own state is touched on its worker only.
class tunnel_acceptor {
  struct round_outcome;
  using awaitable_round = net::awaitable<round_outcome>;

 public:
  /// `srv` must outlive every tunnel started here (the relay owns this object).
  explicit tunnel_acceptor(server::impl& srv);

  /// Answers the tunnel request (`buf`'s first `head_len` bytes; the rest are the tunnel's
  /// first bytes) of connector `peer`, and runs the tunnel on `worker` if a kite was accepted
  /// or Flow B may follow. On `worker`, the transport's executor. `local`: the relay's own
  /// connector (server::open_local_tunnel): its kites of relay_config::local_kites need no
  /// signature.
  net::awaitable<void> run(std::size_t worker, tls::transport t, std::vector<std::byte> buf,
                           std::size_t head_len, std::string peer, bool local = false);

  /// Asks each --authdomain auth app for its capabilities (relay/auth_app): "" when all can
  /// be used, else the operator's error. Once, from server::start(), before the workers run.
  [[nodiscard]] std::string start_auth_apps() { return apps_.start(); }

 private:
  /// A decided round: the answer, the keys to register, whether a kite was refused.
  struct round_outcome {
    wire::handshake_response response;
    std::vector<std::string> ok_keys;
    bool rejected = false;
  };
  /// Decides a round of kites with decide_kites(), after asking the --authdomain authorities
  /// about the lines that need it (relay/tunnel_auth.cpp); logs each decision, records the
  /// accepted kites' BSALTs and authority limits. On the tunnel's worker. `recheck`: a quota
  /// re-check of kites the tunnel serves (no token check, no cache).
  awaitable_round process_kites(std::shared_ptr<tunnel> tun, std::vector<wire::kite_request> kites,
                                bool recheck = false);
  /// An in-tunnel round (Flow B, AddKites): decides, answers with a result chunk, registers.
  net::awaitable<void> kite_round(std::shared_ptr<tunnel> tun, std::vector<wire::kite_request> kites);
  /// Quotas (spec 8.4): every --authdomain_recheck_seconds asks again and pushes `Quota:`;
  /// counts the tunnel's visitor bytes against the quota and closes it when none is left.
  net::awaitable<void> watch_quota(std::weak_ptr<tunnel> weak);
  /// Starts watch_quota on the tunnel's worker when its kites have an authority quota.
  void start_quota_watch(const std::shared_ptr<tunnel>& tun);
  void log_authority_refusal(const tunnel& tun, const wire::kite_request& k,
                             const kite_decision& d);
  void log_kite_decision(const tunnel& tun, const wire::kite_request& k, const kite_decision& d);
  void register_keys(const std::shared_ptr<tunnel>& tun, const std::vector<std::string>& keys);
  std::string new_session_id(tunnel& tun);
  void replace_session(const std::string& id);
  /// Flow B: closes the tunnel if no kite is signed within --auth_timeout (spec §4.5).
  void start_auth_timer(std::size_t worker, const std::weak_ptr<tunnel>& weak);
  void on_control(const std::shared_ptr<tunnel>& tun, const mux::control_chunk& c);
  void on_tunnel_closed(std::size_t worker, std::uint64_t id, const std::string& why);

  /// Takes a probation place for a tunnel from `ip`; false when --max_unauth_tunnels is reached
  /// (`why` then says which limit). Any worker.
  outcome<void> admit_probation(const std::string& ip);
  /// Gives the place back (the tunnel got a kite, or closed). Any worker.
  void leave_probation(tunnel& tun);

  server::impl& srv_;
  const std::string fe_secret_;
  authority auth_;
  auth_apps apps_;  ///< --authdomain=/path/app (relay/auth_app)
  /// Challenge tokens already used: each is accepted once (shared by every worker).
  token_book used_tokens_;
  std::atomic<std::uint64_t> next_tunnel_id_{1};
  std::mutex sessions_mu_;
  std::map<std::string, std::pair<std::size_t, std::weak_ptr<tunnel>>> by_session_;
  // Tunnels on probation (no kite accepted yet), in all and per connector address.
  std::mutex probation_mu_;
  std::size_t probation_total_ = 0;
  std::map<std::string, std::size_t, std::less<>> probation_by_ip_;
};

}  // namespace kiteline::relay
