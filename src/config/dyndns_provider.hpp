// config dyndns_provider: the value of --dyndns (spec §9.6) as pagekite.py reads it (pk.py
// Configure, common.py DYNDNS): PROVIDER, USER[:PASS]@PROVIDER or an http(s) URL template, and
// the templates the named providers and the --defaults/--whitelabel(s) presets stand for.
#pragma once

#include "config/secret.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace kiteline::config {

/// --dyndns: the URL template of the update and the credentials its %(user)s/%(pass)s take.
struct dyndns_setting {
  std::string url_template;  ///< http:// or https://, with %(domain)s etc. (§9.6)
  std::string user;
  secret password;
  std::string origin;  ///< where it was configured

  friend bool operator==(const dyndns_setting&, const dyndns_setting&) = default;
};

/// The built-in template of a provider name (pagekite.net, beanstalks.net, dyndns.org,
/// no-ip.com), or nullopt.
[[nodiscard]] std::optional<std::string> dyndns_provider_template(std::string_view provider);

/// The template --whitelabel=DOMAIN (http) or --whitelabels=DOMAIN (https) implies:
/// http(s)://dnsup.DOMAIN/?hostname=%(domain)s&myip=%(ips)s&sign=%(sign)s.
[[nodiscard]] std::string dyndns_whitelabel_template(std::string_view domain, bool secure);

/// What is wrong with a URL template ("" = nothing): it must start with http:// or https://
/// and every '%' must begin %% or %(NAME)s with NAME one of domain, ip, ips, sign, user, pass.
[[nodiscard]] std::string dyndns_template_error(std::string_view url_template);

/// Reads a --dyndns value as pagekite.py does: a value starting with "http" is the template;
/// else USER:PASS@PROVIDER / USER@PROVIDER (split at the last '@', then the first ':'), or
/// PROVIDER; a provider name that is not built in is taken as the template itself (and then
/// fails dyndns_template_error). `error` gets the reason on failure. An empty value = no
/// updates (nullopt, no error).
[[nodiscard]] std::optional<dyndns_setting> parse_dyndns(std::string_view value,
                                                         std::string& error);

}  // namespace kiteline::config
