// The relay's kite policy (spec §4.3, §4.6): which kites of one handshake round it accepts and
// what it answers for each. PURE: no Asio, OpenSSL, logging or clock; `now`, the nonces and the
// relay's live state come in as arguments, the verdicts go out as values.
#pragma once

#include "config/relay_config.hpp"
#include "relay/auth_answer.hpp"
#include "relay/token_book.hpp"
#include "wire/handshake.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace kiteline::relay {

/// Why the policy accepted or refused one kite line. Each maps to one answer (kite_answer()).
enum class kite_verdict : std::uint8_t {
  accepted,          ///< X-PageKite-OK (plus SSL-OK when a TLS endpoint covers an http kite)
  already_here,      ///< X-PageKite-OK: this tunnel serves the kite already (nothing to add)
  sign_this,         ///< X-PageKite-SignThis: no token or signature yet (round one)
  cert_required,     ///< Invalid "unauthorized": --tls_client_required and no certificate names it
  bad_proto,         ///< Invalid "proto": malformed, or not in --protos
  bad_port,          ///< Invalid "port": the kite's port is not served (or not a raw port)
  token_expired,     ///< Invalid "unauthorized": a token of this relay, too old
  token_foreign,     ///< Invalid "unauthorized": not this relay process's token for this kite
  no_domain_rule,    ///< Invalid "unauthorized": no --domain rule covers the kite and proto
  bad_signature,     ///< Invalid "signature": a rule covers it, but no secret verifies it
  token_reused,      ///< Invalid "unauthorized": the token authenticated a kite already
  token_store_full,  ///< Invalid "unauthorized": the used-token book is full (fail closed)
  duplicate,         ///< X-PageKite-Duplicate: the same connector serves it on another tunnel
  authority_refused,  ///< Invalid with the authority's reason (--authdomain said no)
  authority_failed,   ///< Invalid "unauthorized": no usable authority answer (fail closed)
};

/// The verdict for one kite line of the round, in the order of the request.
struct kite_decision {
  kite_verdict verdict = kite_verdict::accepted;
  std::string key;       ///< "proto:domain" (the registry key)
  bool by_cert = false;  ///< authenticated by a verified client certificate (no secret)
  bool ssl_ok = false;   ///< accepted, and X-PageKite-SSL-OK follows the OK line
  /// Set when --authdomain decided: the authority's answer (granted for an accepted kite;
  /// refused/failed otherwise, then its reason and detail say why).
  std::optional<auth_grant> grant;
};

/// What the policy reads from the relay's live state. Every member must be set; each call is
/// answered synchronously on the caller's thread.
struct kite_policy_view {
  /// True when a live tunnel other than the one asking serves `key` for the connector with
  /// `bsalt` (kite_registry::is_served with the asking tunnel's id).
  std::function<bool(std::string_view key, std::string_view bsalt)> served_elsewhere;
  /// True when a TLS endpoint of the relay covers `domain` (then http kites get SSL-OK).
  std::function<bool(std::string_view domain)> has_tls_endpoint;
  /// True when the tunnel's verified client certificate names `domain` (mTLS; false without).
  std::function<bool(std::string_view domain)> cert_covers;
  /// 7 random hex chars: the nonce of one new challenge token.
  std::function<std::string()> token_nonce;
};

/// One tunnel's side of a round.
struct kite_round_input {
  std::span<const wire::kite_request> kites;      ///< the round's kite lines, in order
  std::span<const std::string> tunnel_keys;       ///< keys the asking tunnel registered already
  std::span<const std::uint16_t> reported_ports;  ///< the relay's ports as it reports them
  std::string_view fe_secret;                     ///< this process's challenge-token secret
  std::uint64_t now = 0;                          ///< token clock (seconds, monotonic)
  /// The authorities' answers, by kite line (see authority_queries); empty, or one per line
  /// (nullopt where none was asked). A line that needs one and has none is authority_failed.
  std::span<const std::optional<auth_grant>> authority = {};
  /// A quota re-check (spec 8.4) of kite lines the tunnel was granted: no token check (the
  /// token was used when it was granted), the authority decides again.
  bool recheck = false;
};

/// The outcome of a round.
struct kite_round_result {
  /// Per-kite results in order (an accepted http kite with a TLS endpoint has two: OK and
  /// SSL-OK), plus X-PageKite-Misc; the caller adds the relay-wide fields.
  wire::handshake_response response;
  std::vector<kite_decision> decisions;  ///< one per kite line, in order
  std::vector<std::string> new_keys;     ///< keys to register now (verdict accepted), in order
  bool rejected = false;                 ///< some kite was refused (Invalid or Duplicate)
  /// The IPsPerSec of response as a limit (an authority's grant; else none).
  std::optional<ip_limit> ips_per_sec;
};

/// Decides one round of kite lines (the handshake's, or an in-tunnel round of Flow B), in the
/// order of the lines, exactly as pagekite.py answers them: SignThis for an unsigned line, OK /
/// Duplicate / Invalid (why: "proto", "port", "unauthorized", "signature") for a signed one.
/// Side effect: each accepted token is recorded in `used_tokens` (once only; any thread).
[[nodiscard]] kite_round_result decide_kites(const config::relay_config& cfg,
                                             const kite_round_input& in,
                                             const kite_policy_view& view, token_book& used_tokens);

/// For each kite line of the round, the name to ask its --authdomain authority about, or
/// nullopt when the line is decided without one (a local secret verifies it, it is refused
/// before, or no --authdomain covers it). No side effects: ask these, then call decide_kites
/// with the answers in `in.authority` (spec 4.6 steps 5-6).
[[nodiscard]] std::vector<std::optional<std::string>> authority_queries(
    const config::relay_config& cfg, const kite_round_input& in, const kite_policy_view& view);

/// The X-PageKite answer of a verdict (ok, sign_this, invalid, duplicate).
[[nodiscard]] wire::kite_status kite_answer(kite_verdict v) noexcept;
/// The Invalid reason of a verdict ("proto", "port", "unauthorized", "signature"); empty for
/// the verdicts that are not Invalid.
[[nodiscard]] std::string_view invalid_reason(kite_verdict v) noexcept;

/// Does a --domain rule's DOMAIN cover `domain` (exact, or a wildcard parent "*.example.com")?
[[nodiscard]] bool domain_rule_covers(std::string_view rule, std::string_view domain) noexcept;

}  // namespace kiteline::relay
