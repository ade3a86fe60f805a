#include "relay/kite_policy.hpp"

#include "wire/kite_auth.hpp"

#include <algorithm>
#include <optional>

namespace kiteline::relay {
namespace {

template <class Range, class T>
bool contains(const Range& r, const T& x) {
  return std::find(r.begin(), r.end(), x) != r.end();
}

/// Does some --domain rule cover the kite `k` (protocol `base`, port `port`), and does one of
/// the covering rules' secrets verify its signature?
struct rule_match {
  bool matched = false;
  bool verified = false;
};

rule_match match_rules(const config::relay_config& cfg, const wire::kite_request& k,
                       std::string_view base, std::optional<std::uint32_t> port) {
  rule_match m;
  for (const auto& rule : cfg.domains) {
    if (!domain_rule_covers(rule.domain, k.domain)) {
      continue;
    }
    bool proto_ok = false;
    if (rule.any_proto) {
      proto_ok = true;
    } else {
      for (const auto& rp : rule.protos) {
        proto_ok = proto_ok || (rp.proto == base && (!rp.port || rp.port == port));
      }
    }
    if (!proto_ok) {
      continue;
    }
    m.matched = true;
    if (wire::verify_kite_signature(rule.shared_secret.reveal(), k)) {
      m.verified = true;
      break;
    }
  }
  return m;
}

/// Everything but the duplicate rule and the bookkeeping: the verdict for one line. A dry run
/// (`used_tokens` null) records no token and fills `query` for a line that needs an authority.
kite_verdict check_kite(const config::relay_config& cfg, const kite_round_input& in,
                        token_book* used_tokens, const wire::kite_request& k, bool by_cert,
                        const std::optional<auth_grant>* answer, std::string* query) {
  if (!by_cert && cfg.tls_client_required) {
    return kite_verdict::cert_required;
  }
  if (!by_cert && (k.fsalt.empty() || k.signature.empty())) {
    return kite_verdict::sign_this;
  }
  auto pp = wire::split_proto(k.proto);
  if (!pp) {
    return kite_verdict::bad_proto;
  }
  const std::string base(pp->base);
  if (pp->port) {
    bool port_ok = false;
    if (base == "raw") {
      port_ok = cfg.raw_virtual || contains(cfg.raw_ports, *pp->port);
    } else {
      port_ok = contains(in.reported_ports, *pp->port);
    }
    if (!port_ok) {
      return kite_verdict::bad_port;
    }
  }
  if (!contains(cfg.protos, base)) {
    return kite_verdict::bad_proto;
  }
  if (by_cert) {
    return kite_verdict::accepted;
  }
  // Every round, not only a connection's first (spec §4.6 step 4 checks it only then, which
  // let a captured kite line be replayed on any authenticated tunnel).
  const wire::token_check token =
      in.recheck ? wire::token_check{wire::token_verdict::valid, 0}
                 : wire::check_token(in.fe_secret, k, in.now);
  if (token.verdict == wire::token_verdict::expired) {
    return kite_verdict::token_expired;
  }
  if (token.verdict != wire::token_verdict::valid) {
    return kite_verdict::token_foreign;
  }
  const rule_match m = match_rules(cfg, k, base, pp->port);
  if (!m.verified && !cfg.auth.domains.empty()) {
    // Spec §4.6 step 6: no local secret, or it failed; ask the authority (fail closed).
    const auto suffix = pick_auth_suffix(cfg.auth.domains, k.domain);
    if (!suffix) {
      return kite_verdict::no_domain_rule;
    }
    if (used_tokens == nullptr) {
      *query = auth_query_name(k, *suffix);
      return kite_verdict::authority_failed;
    }
    if (answer == nullptr || !answer->has_value()) {
      return kite_verdict::authority_failed;
    }
    if ((*answer)->outcome == auth_grant::kind::refused) {
      return kite_verdict::authority_refused;
    }
    if ((*answer)->outcome == auth_grant::kind::failed && !cfg.auth.fail_open) {
      return kite_verdict::authority_failed;
    }
  } else if (!m.matched) {
    return kite_verdict::no_domain_rule;
  } else if (!m.verified) {
    return kite_verdict::bad_signature;
  }
  if (used_tokens == nullptr || in.recheck) {
    return kite_verdict::accepted;
  }
  // Accepted once: a second use of the same token is a replayed kite line.
  switch (used_tokens->accept(k.fsalt, token.expires_at, in.now)) {
    case token_book::outcome::reused:
      return kite_verdict::token_reused;
    case token_book::outcome::full:
      return kite_verdict::token_store_full;
    case token_book::outcome::accepted:
      break;
  }
  return kite_verdict::accepted;
}

}  // namespace

bool domain_rule_covers(std::string_view rule, std::string_view domain) noexcept {
  if (rule == domain) {
    return true;
  }
  if (rule.size() > 2 && rule.substr(0, 2) == "*.") {
    std::string_view suffix = rule.substr(1);  // ".example.com"
    return domain.size() > suffix.size() && domain.substr(domain.size() - suffix.size()) == suffix;
  }
  return false;
}

wire::kite_status kite_answer(kite_verdict v) noexcept {
  switch (v) {
    case kite_verdict::accepted:
    case kite_verdict::already_here:
      return wire::kite_status::ok;
    case kite_verdict::sign_this:
      return wire::kite_status::sign_this;
    case kite_verdict::duplicate:
      return wire::kite_status::duplicate;
    default:
      return wire::kite_status::invalid;
  }
}

std::string_view invalid_reason(kite_verdict v) noexcept {
  switch (v) {
    case kite_verdict::bad_proto:
      return "proto";
    case kite_verdict::bad_port:
      return "port";
    case kite_verdict::bad_signature:
      return "signature";
    case kite_verdict::cert_required:
    case kite_verdict::token_expired:
    case kite_verdict::token_foreign:
    case kite_verdict::no_domain_rule:
    case kite_verdict::token_reused:
    case kite_verdict::token_store_full:
    case kite_verdict::authority_failed:
      return "unauthorized";
    default:
      return {};
  }
}

std::vector<std::optional<std::string>> authority_queries(const config::relay_config& cfg,
                                                          const kite_round_input& in,
                                                          const kite_policy_view& view) {
  std::vector<std::optional<std::string>> out(in.kites.size());
  if (cfg.auth.domains.empty()) {
    return out;
  }
  for (std::size_t i = 0; i < in.kites.size(); ++i) {
    std::string query;
    const auto& k = in.kites[i];
    (void)check_kite(cfg, in, nullptr, k, view.cert_covers(k.domain), nullptr, &query);
    if (!query.empty()) {
      out[i] = std::move(query);
    }
  }
  return out;
}

kite_round_result decide_kites(const config::relay_config& cfg, const kite_round_input& in,
                               const kite_policy_view& view, token_book& used_tokens) {
  kite_round_result out;
  out.decisions.reserve(in.kites.size());
  std::vector<auth_grant> granted;
  for (std::size_t i = 0; i < in.kites.size(); ++i) {
    const auto& k = in.kites[i];
    const std::string kkey = wire::kite_key(k);
    kite_decision d;
    d.key = k.proto + ":" + k.domain;
    // A verified client certificate naming the kite authenticates it without a secret.
    d.by_cert = view.cert_covers(k.domain);
    const std::optional<auth_grant>* answer = i < in.authority.size() ? &in.authority[i] : nullptr;
    d.verdict = check_kite(cfg, in, &used_tokens, k, d.by_cert, answer, nullptr);
    if (answer != nullptr && answer->has_value()) {
      d.grant = **answer;
    }
    if (d.verdict == kite_verdict::accepted) {
      if (contains(in.tunnel_keys, d.key)) {
        d.verdict = kite_verdict::already_here;
      } else if (view.served_elsewhere(d.key, k.bsalt)) {
        d.verdict = kite_verdict::duplicate;
      }
    }
    switch (kite_answer(d.verdict)) {
      case wire::kite_status::sign_this:
        out.response.results.push_back(
            {wire::kite_status::sign_this,
             kkey,
             wire::make_token(in.fe_secret, k.proto, k.domain, k.bsalt, in.now, view.token_nonce()),
             {}});
        break;
      case wire::kite_status::invalid:
        out.response.results.push_back(
            {wire::kite_status::invalid, kkey, {},
             d.verdict == kite_verdict::authority_refused ? d.grant->reason
                                                          : std::string(invalid_reason(d.verdict))});
        out.rejected = true;
        break;
      case wire::kite_status::duplicate:
        out.response.results.push_back({wire::kite_status::duplicate, kkey, {}, {}});
        out.rejected = true;
        break;
      default:
        out.response.results.push_back({wire::kite_status::ok, kkey, {}, {}});
        if (d.grant && d.grant->outcome == auth_grant::kind::granted) {
          granted.push_back(*d.grant);
        }
        break;
    }
    if (d.verdict == kite_verdict::accepted) {
      const auto pp = wire::split_proto(k.proto);
      d.ssl_ok = std::string_view(pp->base).starts_with("http") && view.has_tls_endpoint(k.domain);
      if (d.ssl_ok) {
        out.response.results.push_back({wire::kite_status::ssl_ok, kkey, {}, {}});
      }
      out.new_keys.push_back(d.key);
    }
    out.decisions.push_back(std::move(d));
  }
  out.response.misc = wire::make_misc("");
  out.ips_per_sec = add_round_limits(out.response, granted);
  return out;
}

}  // namespace kiteline::relay
