#include "relay/auth_app_answer.hpp"

#include "core/text.hpp"
#include "wire/kite_auth.hpp"

#include <array>
#include <limits>
#include <utility>

// Debian's nlohmann-json3-dev (header only): a parser of outside bytes that is widely fuzzed,
// rather than one more of our own. Used without exceptions (parse(..., false), typed access
// only after a type check), iterative (no recursion on deep nesting) since 3.10.
#include <nlohmann/json.hpp>

namespace kiteline::relay {
namespace {

using json = nlohmann::json;

auth_grant failed(std::string detail) {
  auth_grant g;
  g.outcome = auth_grant::kind::failed;
  g.detail = std::move(detail);
  return g;
}

auth_grant refused(std::string reason, std::string detail) {
  auth_grant g;
  g.outcome = auth_grant::kind::refused;
  g.reason = std::move(reason);
  g.detail = std::move(detail);
  return g;
}

/// A JSON object from the app's text, or why not.
std::optional<json> parse_object(std::string_view text, std::string& why) {
  json j = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    why = text.empty() ? "answered nothing" : "answer is not JSON";
    return std::nullopt;
  }
  if (!j.is_object()) {
    why = "answer is not a JSON object";
    return std::nullopt;
  }
  return j;
}

/// One optional integer field.
struct int_field {
  enum class state : std::uint8_t { absent, null, value, bad } st = state::absent;
  std::int64_t v = 0;
};

int_field get_int(const json& obj, const char* key) {
  int_field f;
  const auto it = obj.find(key);
  if (it == obj.end()) {
    return f;
  }
  if (it->is_null()) {
    f.st = int_field::state::null;
  } else if (it->is_number_unsigned()) {
    const auto u = it->get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      f.st = int_field::state::bad;
    } else {
      f.st = int_field::state::value;
      f.v = static_cast<std::int64_t>(u);
    }
  } else if (it->is_number_integer()) {
    f.st = int_field::state::value;
    f.v = it->get<std::int64_t>();
  } else {
    f.st = int_field::state::bad;
  }
  return f;
}

/// A reason that may go into X-PageKite-Invalid-Why as it is.
bool is_reason_word(std::string_view s) noexcept {
  if (s.empty() || s.size() > 64) {
    return false;
  }
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_ascii_digit(c) ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) {
      return false;
    }
  }
  return true;
}

/// The app's refusal, if its answer carries one: `reason`, else `error` (pagekite.py reads
/// both). null and "" say nothing.
std::optional<auth_grant> refusal_of(const json& obj) {
  for (const char* key : {"reason", "error"}) {
    const auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) {
      continue;
    }
    if (it->is_string()) {
      const auto& s = it->get_ref<const std::string&>();
      if (s.empty()) {
        continue;
      }
      if (is_reason_word(s)) {
        return refused(s, "refused: " + s);
      }
    }
    return refused("unauthorized", std::string("refused with a ") + key +
                                       " that is not one word");
  }
  return std::nullopt;
}

/// "a.b.c.d" with four decimal octets.
std::optional<std::array<std::uint8_t, 4>> parse_ipv4(std::string_view s) noexcept {
  std::array<std::uint8_t, 4> out{};
  for (std::size_t i = 0; i < 4; ++i) {
    const auto dot = i < 3 ? s.find('.') : s.size();
    if (dot == std::string_view::npos || dot == 0 || dot > 3) {
      return std::nullopt;
    }
    const auto v = parse_decimal<unsigned>(s.substr(0, dot), 255U);
    if (!v) {
      return std::nullopt;
    }
    out[i] = static_cast<std::uint8_t>(*v);
    s.remove_prefix(i < 3 ? dot + 1 : dot);
  }
  return s.empty() ? std::optional(out) : std::nullopt;
}

std::string limits_text(const auth_grant& g) {
  std::string t = g.quota_kb ? "quota " + std::to_string(*g.quota_kb) + " kB" : "no quota";
  if (g.qdays) {
    t += ", " + std::to_string(*g.qdays) + " days";
  }
  if (g.qconns) {
    t += ", " + std::to_string(*g.qconns) + " conns";
  }
  if (g.ips_per_sec) {
    t += ", " + std::to_string(g.ips_per_sec->n) + " IPs/" +
         std::to_string(g.ips_per_sec->seconds) + " s";
  }
  return t;
}

}  // namespace

bool is_auth_app(std::string_view suffix) noexcept {
  return suffix.find('/') != std::string_view::npos;
}

auth_app_caps parse_auth_app_caps(std::string_view out) noexcept {
  auth_app_caps caps;
  while (true) {
    out = trim_ascii_space(out);
    if (out.empty()) {
      break;
    }
    std::size_t n = 0;
    while (n < out.size() && !is_ascii_space(out[n])) {
      ++n;
    }
    const auto word = out.substr(0, n);
    caps.server = caps.server || ascii_iequals(word, "SERVER");
    caps.auth = caps.auth || ascii_iequals(word, "AUTH");
    caps.zk_auth = caps.zk_auth || ascii_iequals(word, "ZK-AUTH");
    out.remove_prefix(n);
  }
  return caps;
}

auth_app_request make_auth_app_request(auth_app_mode mode, const wire::kite_request& k,
                                       std::string_view app) {
  if (mode == auth_app_mode::zk_auth) {
    return {"--zk-auth", auth_query_name(k, app)};
  }
  std::string domain;
  for (char c : k.domain) {
    if (c == '*') {
      domain += "_any_";
    } else {
      domain += c;
    }
  }
  return {"--auth", std::move(domain)};
}

std::string auth_app_request_line(const auth_app_request& r) {
  return r.flag + " " + r.arg + "\n";
}

bool auth_app_output::feed(std::string_view bytes) {
  if (overflowed_ || held_.size() + bytes.size() > limit_) {
    overflowed_ = true;
    held_.clear();
    return false;
  }
  held_.append(bytes);
  return true;
}

std::optional<std::string> auth_app_output::take_line() {
  while (true) {
    const auto eol = held_.find('\n');
    if (eol == std::string::npos) {
      return std::nullopt;
    }
    const std::string_view line = trim_ascii_space(std::string_view(held_).substr(0, eol));
    std::string out(line);
    held_.erase(0, eol + 1);
    if (!out.empty()) {
      return out;
    }
  }
}

bool auth_app_output::holds_text() const noexcept {
  return !trim_ascii_space(held_).empty();
}

auth_app_answer decode_auth_app_answer(std::string_view text) {
  auth_app_answer out;
  std::string why;
  const auto obj = parse_object(text, why);
  if (!obj) {
    out.grant = failed(why);
    return out;
  }
  const auto secret = obj->find("secret");
  const bool secret_bad = secret != obj->end() && !secret->is_null() && !secret->is_string();
  if (secret != obj->end() && secret->is_string()) {
    out.secret = secret->get<std::string>();
  }
  // A refusal wins over anything malformed next to it: --authfail_open must not turn it
  // into an acceptance.
  if (auto r = refusal_of(*obj)) {
    out.grant = std::move(*r);
    return out;
  }
  const auto quota = get_int(*obj, "quota_kb");
  const auto days = get_int(*obj, "quota_days");
  const auto conns = get_int(*obj, "quota_conns");
  const auto ips = get_int(*obj, "ips_per_sec-ips");
  const auto secs = get_int(*obj, "ips_per_sec-secs");
  using st = int_field::state;
  if (quota.st == st::null || (quota.st == st::value && quota.v == 0)) {
    // pagekite.py refuses a quota that is 0 or None the same way.
    out.grant = refused("quota", "answered quota_kb " +
                                     std::string(quota.st == st::null ? "null" : "0") +
                                     " (no quota left)");
    return out;
  }
  const std::array<std::pair<const int_field*, const char*>, 5> fields{
      {{&quota, "quota_kb"},
       {&days, "quota_days"},
       {&conns, "quota_conns"},
       {&ips, "ips_per_sec-ips"},
       {&secs, "ips_per_sec-secs"}}};
  for (const auto& [f, name] : fields) {
    if (f->st == st::bad) {
      out.grant = failed(std::string("answer: ") + name + " is not an integer");
      return out;
    }
  }
  if (secret_bad || out.secret.empty()) {
    out.grant = failed(secret_bad ? "answer: secret is not a string"
                                  : "gave no secret");
    return out;
  }
  auth_grant& g = out.grant;
  g.outcome = auth_grant::kind::granted;
  if (quota.st == st::value && quota.v > 0) {
    g.quota_kb = quota.v;
  }
  if (days.st == st::value && days.v > 0) {
    g.qdays = days.v;
  }
  if (conns.st == st::value && conns.v > 0) {
    g.qconns = conns.v;
  }
  constexpr std::int64_t u32_max = 0xffffffff;
  if (ips.st == st::value && secs.st == st::value && ips.v > 0 && secs.v > 0 &&
      ips.v <= u32_max && secs.v <= u32_max) {
    g.ips_per_sec = ip_limit{static_cast<std::uint32_t>(ips.v),
                             static_cast<std::uint32_t>(secs.v)};
  }
  g.detail = "answered a secret (" + limits_text(g) + ")";
  return out;
}

auth_grant judge_auth_app_answer(const auth_app_answer& a, const wire::kite_request& k) {
  if (a.grant.outcome == auth_grant::kind::failed) {
    return a.grant;
  }
  if (a.secret.empty()) {
    return a.grant;  // a refusal (decode fails an answer without a secret otherwise)
  }
  if (!wire::verify_kite_signature(a.secret, k)) {
    return refused("signature", "its secret does not verify the kite's signature");
  }
  return a.grant;
}

auth_grant decode_zk_auth_app_answer(std::string_view text) {
  std::string why;
  const auto obj = parse_object(text, why);
  if (!obj) {
    return failed(why);
  }
  const auto host = obj->find("hostname");
  if (host == obj->end() || !host->is_string()) {
    return failed("answer: hostname is missing or not a string");
  }
  bool via_cname = false;
  if (const auto alias = obj->find("alias"); alias != obj->end() && !alias->is_null()) {
    if (alias->is_string()) {
      via_cname = !alias->get_ref<const std::string&>().empty();
    } else if (alias->is_array()) {
      via_cname = !alias->empty();
    } else {
      return failed("answer: alias is not a string or a list");
    }
  }
  const auto ips = obj->find("ips");
  if (ips == obj->end() || !ips->is_array() || ips->empty() || !ips->front().is_string()) {
    return failed("answer: ips is not a list starting with an address");
  }
  const auto a = parse_ipv4(ips->front().get_ref<const std::string&>());
  if (!a) {
    return failed("answer: ips[0] is not an IPv4 address");
  }
  std::string_view canonical = host->get_ref<const std::string&>();
  while (!canonical.empty() && canonical.back() == '.') {
    canonical.remove_suffix(1);
  }
  return decode_auth_answer(*a, to_lower(canonical), via_cname);
}

}  // namespace kiteline::relay
