// --errorurl=[DOMAIN:]URL for both roles (spec §6.7): parsing the option, and choosing the URL
// for one kite the way pagekite.py's HTTP_Unavail does.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/relay_config.hpp"

namespace kiteline::config {

/// Applies one --errorurl value: `DOMAIN:http...` adds a per-domain rule (DOMAIN lower-cased;
/// the split is at the first ":http", as pagekite.py splits at ':' when ':http' occurs),
/// anything else replaces the default URL. False for an empty value (nothing changed).
bool apply_error_url(std::string_view value, std::string& url, std::vector<error_url_rule>& rules);

/// The frame URL of an error page for `host`.
struct error_url_choice {
  std::string url;
  bool advertise = true;  ///< false when a per-domain rule matched: no PageKite advertisement
};

/// pagekite.py's choice: `host` (a ":port" suffix dropped) and then each parent domain, down to
/// the last label, against the per-domain rules (a rule's URL wins, without the advertisement);
/// else the default URL. nullopt when neither applies (the plain "Sorry!" page).
[[nodiscard]] std::optional<error_url_choice> choose_error_url(
    std::string_view default_url, const std::vector<error_url_rule>& rules, std::string_view host);

/// The HTTP "unavailable" page a role writes for a visitor of `host` it cannot serve: with an
/// error URL for `host` (choose_error_url), the frameset page (wire::format_error_frame_page,
/// `relay_ip` only for where = "fe"); without, pagekite.py's "Sorry! (WHERE)" page
/// (wire::format_unavailable_page, unchanged bytes). `overloaded`: X-PageKite-Overloaded.
[[nodiscard]] std::string unavailable_page(std::string_view default_url,
                                           const std::vector<error_url_rule>& rules,
                                           std::string_view uuid, std::string_view where,
                                           std::string_view proto, std::string_view host,
                                           std::string_view relay_ip = {},
                                           bool overloaded = false);

}  // namespace kiteline::config
