// The kites a relay serves itself (config::relay_config::local_kites, from --service_on on a
// relay): which kite lines they cover. PURE: strings in, answers out.
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace kiteline::relay {

/// True when `key` ("proto[-port]:domain", a kite line's registry key) names the domain of a
/// local kite with the same protocol, whatever the port: an outside connector asking for it
/// would take (part of) a kite the relay serves itself, so it gets X-PageKite-Duplicate
/// (pagekite.py answers Duplicate too: its loop-back tunnel holds the kite). Domains compare
/// exactly, case-insensitively; a wildcard kite of an outside connector is no conflict (the
/// exact local kite wins the routing, spec §6.4).
[[nodiscard]] bool takes_local_kite(std::span<const std::string> local_kites,
                                    std::string_view key) noexcept;

/// True when `domain` is the domain of some local kite (the relay's own connector may register
/// it without a signature).
[[nodiscard]] bool names_local_kite(std::span<const std::string> local_kites,
                                    std::string_view domain) noexcept;

}  // namespace kiteline::relay
