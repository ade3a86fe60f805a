// libFuzzer target for the --accept_acl_file parser (relay/acl): any bytes parse to rules or to
// an error naming a line, every rule's pattern compiles and is bounded, and the verdicts for a
// few addresses are consistent with the rules (a line that matched exists and decides).
#include "relay/acl.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace {

void require(bool ok) {
  if (!ok) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 64 * 1024) {
    return 0;
  }
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  kiteline::relay::acl_file_error err;
  const auto file = kiteline::relay::parse_acl_file(text, err);
  if (!file) {
    require(err.line >= 1 && !err.why.empty());
    return 0;
  }
  require(file->rules.size() <= kiteline::relay::max_acl_file_rules);
  std::size_t last = 0;
  for (const auto& r : file->rules) {
    require(r.line > last);
    last = r.line;
    require(!r.pattern.empty() && r.pattern.size() <= kiteline::max_address_pattern);
  }
  for (std::string_view address : {"127.0.0.1", "::1", "::ffff:10.0.0.1", "2001:db8::7"}) {
    const auto v = kiteline::relay::check_acl_file(*file, address);
    if (v.line == 0) {
      require(v.allowed);
      continue;
    }
    bool found = false;
    for (const auto& r : file->rules) {
      if (r.line == v.line) {
        require(r.allow == v.allowed);
        found = true;
        break;
      }
    }
    require(found);
  }
  return 0;
}
