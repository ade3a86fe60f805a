// fleet::names: which DNS names a relay of a fleet publishes (issue 24). A kite already under
// the fleet's zone is published under its own name; any other kite as KITE.ZONE (an operator
// points the kite's public name at it with a CNAME). The pool of live relays is fe.ZONE.
#pragma once

#include <string>
#include <string_view>

namespace kiteline::fleet {

/// The record name for `kite` (lower case, no trailing dot) in `zone`: the kite itself when it
/// is `zone` or lies under it, else "KITE.ZONE". A wildcard kite "*.x" stays a wildcard.
[[nodiscard]] std::string record_name(std::string_view kite, std::string_view zone);

/// "fe.ZONE": every live, not overloaded relay of the fleet has its address there.
[[nodiscard]] std::string pool_name(std::string_view zone);

}  // namespace kiteline::fleet
