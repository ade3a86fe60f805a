#include "relay/local_kites.hpp"

#include "core/text.hpp"

namespace kiteline::relay {
namespace {

struct key_parts {
  std::string_view proto;  ///< without the port
  std::string_view domain;
};

key_parts split_key(std::string_view key) noexcept {
  const auto colon = key.find(':');
  if (colon == std::string_view::npos) {
    return {};
  }
  std::string_view proto = key.substr(0, colon);
  proto = proto.substr(0, proto.find('-'));
  return {proto, key.substr(colon + 1)};
}

}  // namespace

bool takes_local_kite(std::span<const std::string> local_kites, std::string_view key) noexcept {
  const key_parts k = split_key(key);
  if (k.domain.empty()) {
    return false;
  }
  for (const auto& l : local_kites) {
    const key_parts lp = split_key(l);
    if (ascii_iequals(lp.proto, k.proto) && ascii_iequals(lp.domain, k.domain)) {
      return true;
    }
  }
  return false;
}

bool names_local_kite(std::span<const std::string> local_kites, std::string_view domain) noexcept {
  for (const auto& l : local_kites) {
    const key_parts lp = split_key(l);
    if (!lp.domain.empty() && ascii_iequals(lp.domain, domain)) {
      return true;
    }
  }
  return false;
}

}  // namespace kiteline::relay
