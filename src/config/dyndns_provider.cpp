#include "config/dyndns_provider.hpp"

#include <array>
#include <utility>

namespace kiteline::config {
namespace {

constexpr std::string_view pagekite_query = "?hostname=%(domain)s&myip=%(ips)s&sign=%(sign)s";

/// pagekite.py 1.5.2's common.py DYNDNS, the named entries.
constexpr std::array<std::pair<std::string_view, std::string_view>, 4> providers{{
    {"pagekite.net", "http://up.pagekite.net/?hostname=%(domain)s&myip=%(ips)s&sign=%(sign)s"},
    {"beanstalks.net", "http://up.b5p.us/?hostname=%(domain)s&myip=%(ips)s&sign=%(sign)s"},
    {"dyndns.org",
     "https://%(user)s:%(pass)s@members.dyndns.org/nic/update?wildcard=NOCHG&backmx=NOCHG"
     "&hostname=%(domain)s&myip=%(ip)s"},
    {"no-ip.com",
     "https://%(user)s:%(pass)s@dynupdate.no-ip.com/nic/update?hostname=%(domain)s&myip=%(ip)s"},
}};

constexpr std::array<std::string_view, 6> variables{"domain", "ip", "ips", "sign", "user", "pass"};

}  // namespace

std::optional<std::string> dyndns_provider_template(std::string_view provider) {
  for (const auto& [name, tmpl] : providers) {
    if (name == provider) {
      return std::string(tmpl);
    }
  }
  return std::nullopt;
}

std::string dyndns_whitelabel_template(std::string_view domain, bool secure) {
  return std::string(secure ? "https" : "http") + "://dnsup." + std::string(domain) + "/" +
         std::string(pagekite_query);
}

std::string dyndns_template_error(std::string_view t) {
  if (!t.starts_with("http://") && !t.starts_with("https://")) {
    return "expected a provider (pagekite.net, beanstalks.net, dyndns.org, no-ip.com), "
           "USER:PASS@PROVIDER or an http(s):// URL template";
  }
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (t[i] != '%') {
      continue;
    }
    if (i + 1 < t.size() && t[i + 1] == '%') {
      ++i;
      continue;
    }
    const auto close = t.find(")s", i);
    const bool named = i + 1 < t.size() && t[i + 1] == '(' && close != std::string_view::npos;
    const std::string_view name = named ? t.substr(i + 2, close - i - 2) : std::string_view();
    bool known = false;
    for (const auto v : variables) {
      known = known || v == name;
    }
    if (!known) {
      return "in the URL template, '%' must begin %% or one of %(domain)s %(ip)s %(ips)s "
             "%(sign)s %(user)s %(pass)s (at `" +
             std::string(t.substr(i, 12)) + "`)";
    }
    i = close + 1;
  }
  return "";
}

std::optional<dyndns_setting> parse_dyndns(std::string_view value, std::string& error) {
  error.clear();
  if (value.empty()) {
    return std::nullopt;
  }
  dyndns_setting out;
  std::string_view provider = value;
  if (!value.starts_with("http")) {
    if (const auto at = value.rfind('@'); at != std::string_view::npos) {
      const std::string_view userpass = value.substr(0, at);
      provider = value.substr(at + 1);
      const auto colon = userpass.find(':');
      out.user = std::string(userpass.substr(0, colon));
      if (colon != std::string_view::npos) {
        out.password = secret(std::string(userpass.substr(colon + 1)));
      }
    }
  }
  const auto builtin =
      value.starts_with("http") ? std::nullopt : dyndns_provider_template(provider);
  out.url_template = builtin ? *builtin : std::string(provider);
  error = dyndns_template_error(out.url_template);
  if (!error.empty()) {
    return std::nullopt;
  }
  return out;
}

}  // namespace kiteline::config
