// HTTP Basic credentials against a kite's +password pairs (see basic_auth.hpp).
#include "connector/basic_auth.hpp"

#include "core/text.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace kiteline::connector {
namespace {

/// Compares without an early exit on the first differing byte (lengths may leak).
bool constant_time_equals(std::string_view a, std::string_view b) noexcept {
  unsigned diff = a.size() == b.size() ? 0u : 1u;
  const std::size_t n = std::min(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i) {
    diff |=
        static_cast<unsigned>(static_cast<unsigned char>(a[i]) ^ static_cast<unsigned char>(b[i]));
  }
  return diff == 0;
}

}  // namespace

bool basic_auth_ok(std::string_view value,
                   std::span<const std::pair<std::string, std::string>> passwords) {
  std::size_t sp = 0;
  while (sp < value.size() && !is_ows(value[sp])) {
    ++sp;
  }
  if (!ascii_iequals(value.substr(0, sp), "basic")) {
    return false;
  }
  const std::optional<std::string> decoded = base64_decode(trim_ows(value.substr(sp)));
  if (!decoded) {
    return false;
  }
  const std::size_t colon = decoded->find(':');
  if (colon == std::string::npos) {
    return false;
  }
  const std::string_view user = std::string_view(*decoded).substr(0, colon);
  const std::string_view pass = std::string_view(*decoded).substr(colon + 1);
  bool ok = false;
  for (const auto& [u, p] : passwords) {
    // Evaluate both comparisons for every pair: no early exit that depends on secrets.
    const bool user_ok = constant_time_equals(user, u);
    const bool pass_ok = constant_time_equals(pass, p);
    ok = ok || (user_ok && pass_ok);
  }
  return ok;
}

}  // namespace kiteline::connector
