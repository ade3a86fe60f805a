// pagekite.py's default HTTP request firewall as a hand-written matcher (see http_firewall.hpp).
#include "connector/http_firewall.hpp"

#include "core/text.hpp"

#include <algorithm>
#include <array>
#include <cstddef>

namespace kiteline::connector {
namespace {

/// True when `s` has `word` (lower-case) at `at`, ASCII case-insensitively.
bool has_at(std::string_view s, std::size_t at, std::string_view word) noexcept {
  return at <= s.size() && s.size() - at >= word.size() &&
         ascii_iequals(s.substr(at, word.size()), word);
}

/// [php|sql]my[sql](adm|manager) at `at` (each optional part tried both ways, as a
/// backtracking matcher would).
bool db_admin_at(std::string_view s, std::size_t at) noexcept {
  for (std::string_view lead : {"php", "sql", ""}) {
    if (!has_at(s, at, lead) || !has_at(s, at + lead.size(), "my")) {
      continue;
    }
    const std::size_t after_my = at + lead.size() + 2;
    for (std::string_view mid : {"sql", ""}) {
      if (has_at(s, after_my, mid) && (has_at(s, after_my + mid.size(), "adm") ||
                                       has_at(s, after_my + mid.size(), "manager"))) {
        return true;
      }
    }
  }
  return false;
}

/// The first rule in enum order that matches right after the '/' at `slash`.
firewall_rule rule_after_slash(std::string_view t, std::size_t slash,
                               std::size_t last_php) noexcept {
  const std::size_t at = slash + 1;
  if (has_at(t, at, "wp-admin/") && !has_at(t, at + 9, "admin-ajax") &&
      !has_at(t, at + 9, "css/")) {
    return firewall_rule::wp_admin;
  }
  if (has_at(t, at, "wp-config.php")) {
    return firewall_rule::wp_config;
  }
  if (has_at(t, at, "system32/")) {
    return firewall_rule::system32;
  }
  if (has_at(t, at, "..")) {
    return firewall_rule::dot_dot;
  }
  if (has_at(t, at, ".htaccess")) {
    return firewall_rule::htaccess;
  }
  if (has_at(t, at, ".htpass")) {
    return firewall_rule::htpass;
  }
  if (db_admin_at(t, at)) {
    return firewall_rule::db_admin;
  }
  // adm...php, install...php: ".php" anywhere after the word, even past later slashes.
  const bool php_found = last_php != std::string_view::npos;
  if (php_found && has_at(t, at, "adm") && last_php >= at + 3) {
    return firewall_rule::adm_php;
  }
  if (php_found && has_at(t, at, "install") && last_php >= at + 7) {
    return firewall_rule::install_php;
  }
  if (has_at(t, at, "setup.php")) {
    return firewall_rule::setup_php;
  }
  return firewall_rule::none;
}

/// Start of the last ".php" in `t` (case-insensitive), or npos.
std::size_t last_dot_php(std::string_view t) noexcept {
  for (std::size_t i = t.size(); i >= 4; --i) {
    if (has_at(t, i - 4, ".php")) {
      return i - 4;
    }
  }
  return std::string_view::npos;
}

}  // namespace

std::string_view firewall_rule_name(firewall_rule r) noexcept {
  switch (r) {
    case firewall_rule::none:
      return "none";
    case firewall_rule::xampp:
      return "/xampp/";
    case firewall_rule::security:
      return "/security/";
    case firewall_rule::licenses:
      return "/licenses/";
    case firewall_rule::webalizer:
      return "/webalizer/";
    case firewall_rule::server_status:
      return "/server-status";
    case firewall_rule::server_info:
      return "/server-info";
    case firewall_rule::adm_prefix:
      return "/adm*";
    case firewall_rule::wp_admin:
      return "wp-admin/";
    case firewall_rule::wp_config:
      return "wp-config.php";
    case firewall_rule::system32:
      return "system32/";
    case firewall_rule::dot_dot:
      return "/..";
    case firewall_rule::htaccess:
      return ".htaccess";
    case firewall_rule::htpass:
      return ".htpass*";
    case firewall_rule::db_admin:
      return "phpMyAdmin-like";
    case firewall_rule::adm_php:
      return "adm*.php";
    case firewall_rule::install_php:
      return "install*.php";
    case firewall_rule::setup_php:
      return "setup.php";
  }
  return "?";
}

firewall_rule firewall_check(std::string_view method, std::string_view target) noexcept {
  constexpr std::array<std::string_view, 5> methods = {"get", "post", "put", "patch", "delete"};
  if (std::none_of(methods.begin(), methods.end(),
                   [&](std::string_view m) { return ascii_iequals(method, m); })) {
    return firewall_rule::none;
  }
  // "Starts with": one or more '/', then the word.
  if (!target.empty() && target.front() == '/') {
    const std::size_t at = target.find_first_not_of('/');
    constexpr std::array<std::pair<std::string_view, firewall_rule>, 7> prefixes = {{
        {"xampp/", firewall_rule::xampp},
        {"security/", firewall_rule::security},
        {"licenses/", firewall_rule::licenses},
        {"webalizer/", firewall_rule::webalizer},
        {"server-status", firewall_rule::server_status},
        {"server-info", firewall_rule::server_info},
        {"adm", firewall_rule::adm_prefix},
    }};
    if (at != std::string_view::npos) {
      for (const auto& [word, rule] : prefixes) {
        if (has_at(target, at, word)) {
          return rule;
        }
      }
    }
  }
  // "A '/' anywhere, then": the lowest-numbered rule over every '/' of the target.
  const std::size_t last_php = last_dot_php(target);
  firewall_rule best = firewall_rule::none;
  for (std::size_t slash = target.find('/'); slash != std::string_view::npos;
       slash = target.find('/', slash + 1)) {
    const firewall_rule r = rule_after_slash(target, slash, last_php);
    if (r != firewall_rule::none && (best == firewall_rule::none || r < best)) {
      best = r;
    }
  }
  return best;
}

}  // namespace kiteline::connector
