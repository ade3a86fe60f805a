// The relay's "no tunnel" page for an HTTP visitor, with --errorurl (spec §6.7).
#pragma once

#include <string>
#include <string_view>

#include "config/relay_config.hpp"
#include "tls/transport.hpp"

namespace kiteline::relay {

/// The 503 page for a visitor of `host` (protocol `proto`) that no tunnel serves: without a
/// --errorurl for it, pagekite.py's "Sorry! (fe)" page (wire::format_unavailable_page); with
/// one (config::choose_error_url), the frameset page (wire::format_error_frame_page) with
/// where=FE, and relay= the address of the relay's socket the visitor `t` reached. With
/// `overloaded` (--overload*), either page says X-PageKite-Overloaded: Sorry.
[[nodiscard]] std::string unavailable_page(const config::relay_config& cfg, std::string_view uuid,
                                           tls::transport& t, std::string_view proto,
                                           std::string_view host, bool overloaded = false);

}  // namespace kiteline::relay
