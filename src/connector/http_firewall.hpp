// pagekite.py's default HTTP request firewall (spec §7.3 item 4): which requests a connector
// refuses with the 500 page unless --insecure, +insecure, or an +ip/+password check passed.
#pragma once

#include <string_view>

namespace kiteline::connector {

/// The default rule a request matched (pagekite.py filters.py HttpSecurityFilter).
enum class firewall_rule {
  none,           ///< allowed
  xampp,          ///< target starts with /xampp/ (after one or more '/')
  security,       ///< ... /security/
  licenses,       ///< ... /licenses/
  webalizer,      ///< ... /webalizer/
  server_status,  ///< ... /server-status
  server_info,    ///< ... /server-info
  adm_prefix,     ///< ... /adm (anything starting with /adm: /admin, /administrator, ...)
  wp_admin,       ///< a '/' then `wp-admin/`, unless `admin-ajax` or `css/` follows
  wp_config,      ///< a '/' then `wp-config.php`
  system32,       ///< a '/' then `system32/`
  dot_dot,        ///< a '/' then `..`
  htaccess,       ///< a '/' then `.htaccess`
  htpass,         ///< a '/' then `.htpass` (.htpasswd, ...)
  db_admin,       ///< a '/' then [php|sql]my[sql](adm|manager): phpMyAdmin, mysqladmin, ...
  adm_php,        ///< a '/' then `adm`, and `.php` later in the target
  install_php,    ///< a '/' then `install`, and `.php` later in the target
  setup_php,      ///< a '/' then `setup.php`
};

/// A short label of the rule for logs, e.g. "/server-status" or "adm*.php".
[[nodiscard]] std::string_view firewall_rule_name(firewall_rule r) noexcept;

/// The rule that refuses the request `method` `target` (the request line's first two fields),
/// or firewall_rule::none. Only GET, POST, PUT, PATCH and DELETE are checked; everything is
/// ASCII case-insensitive (method, path and the exceptions), as in pagekite.py. The whole
/// target counts, query included, and nothing is percent-decoded (pagekite.py does neither).
/// When several rules match, the first in the order above is returned. Pure.
///
/// Quirks kept from pagekite.py: /wp-admin/admin-ajax.php is still refused (by adm*.php);
/// /a/server-status and absolute-form targets (http://host/admin) are not refused by the
/// "starts with" rules; `/foo..` is allowed, `/..foo` is not.
[[nodiscard]] firewall_rule firewall_check(std::string_view method,
                                           std::string_view target) noexcept;

}  // namespace kiteline::connector
