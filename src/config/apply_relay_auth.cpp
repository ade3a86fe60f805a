// The relay's --authdomain options (spec 8.2, 8.3): the authority rules (DNS suffixes or auth
// apps), the in-flight bound, fail open or closed, the nameserver, the lookup timeout and the
// re-check interval.
#include "config/apply_option.hpp"
#include "config/values.hpp"
#include "core/text.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <string_view>

namespace kiteline::config {
namespace {

/// --authdomain=[KITEDOMAIN:]/path/app: an auth app (the value holds a '/'; a KITEDOMAIN holds
/// none, so a ':' inside the path stays in it). The path is kept as given (case matters) and
/// must be absolute and free of blanks (it is one word of a SERVER app's request line).
std::optional<authdomain_rule> parse_auth_app_rule(std::string_view v) {
  authdomain_rule rule;
  const auto colon = v.find(':');
  if (colon != std::string_view::npos && v.substr(0, colon).find('/') == std::string_view::npos) {
    rule.kite_domain = to_lower(v.substr(0, colon));
    v.remove_prefix(colon + 1);
    if (rule.kite_domain.empty()) {
      return std::nullopt;
    }
  }
  if (v.size() < 2 || v.front() != '/') {
    return std::nullopt;
  }
  for (char c : v) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return std::nullopt;
    }
  }
  rule.suffix = std::string(v);
  return rule;
}

}  // namespace

bool apply_auth_option(relay_auth_config& auth, const raw_option& o, const std::string& n,
                       const std::string& v, const apply_context& ctx) {
  if (n == "authdomain") {
    if (v.find('/') != std::string::npos) {
      if (auto rule = parse_auth_app_rule(v)) {
        if (::access(rule->suffix.c_str(), X_OK) != 0) {
          ctx.error(o, "cannot run the auth app " + rule->suffix + ": " + std::strerror(errno) +
                           " (give the absolute path of an executable program; see "
                           "docs/operations.md, \"External auth apps\")");
          return true;
        }
        auth.domains.push_back(std::move(*rule));
      } else {
        ctx.error(o, "expected [KITEDOMAIN:]/ABSOLUTE/PATH/OF/APP (an auth app, spec 8.3; no "
                     "blanks or control characters in the path)");
      }
      return true;
    }
    const auto parts = split(v, ':');
    authdomain_rule rule;
    if (parts.size() == 1) {
      rule.suffix = to_lower(parts[0]);
    } else if (parts.size() == 2) {
      rule.kite_domain = to_lower(parts[0]);
      rule.suffix = to_lower(parts[1]);
    }
    while (!rule.suffix.empty() && rule.suffix.back() == '.') {
      rule.suffix.pop_back();
    }
    if (parts.size() > 2 || rule.suffix.empty() || (parts.size() == 2 && rule.kite_domain.empty())) {
      ctx.error(o, "expected [KITEDOMAIN:]SUFFIX, e.g. example.com:auth.example.net");
      return true;
    }
    auth.domains.push_back(std::move(rule));
  } else if (n == "auththreads") {
    const auto k = parse_unsigned(v, 100000);
    if (!k || *k == 0) {
      ctx.error(o, "expected a number of lookups in flight, 1-100000");
    } else {
      auth.max_in_flight = static_cast<std::size_t>(*k);
    }
  } else if (n == "authfail_closed") {
    auth.fail_open = false;
  } else if (n == "authfail_open") {
    auth.fail_open = true;
  } else if (n == "authdns") {
    if (v.empty()) {
      ctx.error(o, "expected IP or IP:PORT (IPv6: [IP]:PORT)");
    } else {
      auth.dns_server = v;
    }
  } else if (n == "authdns_timeout") {
    const auto secs = parse_unsigned(v, 300);
    if (!secs || *secs == 0) {
      ctx.error(o, "expected seconds, 1-300");
    } else {
      auth.timeout = std::chrono::seconds(*secs);
    }
  } else if (n == "authdomain_recheck_seconds") {
    const auto secs = parse_unsigned(v, 86400);
    if (!secs || *secs == 0) {
      ctx.error(o, "expected seconds, 1-86400");
    } else {
      auth.recheck = std::chrono::seconds(*secs);
    }
  } else {
    return false;
  }
  return true;
}

}  // namespace kiteline::config
