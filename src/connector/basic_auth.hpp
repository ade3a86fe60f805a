// HTTP Basic authentication for +password kites (spec §7.2): the Authorization value of a
// request against the kite's USER=PASS pairs. Pure.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace kiteline::connector {

/// True when `authorization` (an Authorization header value, OWS trimmed) is
/// `Basic base64(USER:PASS)` for one of `passwords`: scheme ASCII case-insensitive, standard
/// padded base64, the password may contain ':' (the first ':' splits). Every pair is compared
/// in full, without an early exit that depends on the secrets (lengths may leak).
[[nodiscard]] bool basic_auth_ok(std::string_view authorization,
                                 std::span<const std::pair<std::string, std::string>> passwords);

}  // namespace kiteline::connector
