// The relay's --authdomain options (spec 8.2): the authority rules, the in-flight bound, fail
// open or closed, the nameserver, the lookup timeout and the re-check interval.
#include "config/apply_option.hpp"
#include "config/values.hpp"
#include "core/text.hpp"

namespace kiteline::config {

bool apply_auth_option(relay_auth_config& auth, const raw_option& o, const std::string& n,
                       const std::string& v, const apply_context& ctx) {
  if (n == "authdomain") {
    if (v.find('/') != std::string::npos) {
      ctx.error(o, "auth apps (--authdomain=/path/app) are not implemented yet by kiteline");
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
