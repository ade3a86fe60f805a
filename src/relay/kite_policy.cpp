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

/// Everything but the duplicate rule and the bookkeeping: the verdict for one line.
kite_verdict check_kite(const config::relay_config& cfg, const kite_round_input& in,
                        token_book& used_tokens, const wire::kite_request& k, bool by_cert) {
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
  const wire::token_check token = wire::check_token(in.fe_secret, k, in.now);
  if (token.verdict == wire::token_verdict::expired) {
    return kite_verdict::token_expired;
  }
  if (token.verdict != wire::token_verdict::valid) {
    return kite_verdict::token_foreign;
  }
  const rule_match m = match_rules(cfg, k, base, pp->port);
  if (!m.matched) {
    return kite_verdict::no_domain_rule;
  }
  if (!m.verified) {
    return kite_verdict::bad_signature;
  }
  // Accepted once: a second use of the same token is a replayed kite line.
  switch (used_tokens.accept(k.fsalt, token.expires_at, in.now)) {
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
      return "unauthorized";
    default:
      return {};
  }
}

kite_round_result decide_kites(const config::relay_config& cfg, const kite_round_input& in,
                               const kite_policy_view& view, token_book& used_tokens) {
  kite_round_result out;
  out.decisions.reserve(in.kites.size());
  for (const auto& k : in.kites) {
    const std::string kkey = wire::kite_key(k);
    kite_decision d;
    d.key = k.proto + ":" + k.domain;
    // A verified client certificate naming the kite authenticates it without a secret.
    d.by_cert = view.cert_covers(k.domain);
    d.verdict = check_kite(cfg, in, used_tokens, k, d.by_cert);
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
            {wire::kite_status::invalid, kkey, {}, std::string(invalid_reason(d.verdict))});
        out.rejected = true;
        break;
      case wire::kite_status::duplicate:
        out.response.results.push_back({wire::kite_status::duplicate, kkey, {}, {}});
        out.rejected = true;
        break;
      default:
        out.response.results.push_back({wire::kite_status::ok, kkey, {}, {}});
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
  return out;
}

}  // namespace kiteline::relay
