// libFuzzer target for the connector's reading of a relay's limits (connector/relay_quota,
// pure): the input is an X-PageKite-IPsPerSec value. Never crashes; a value taken as valid is
// digits, one slash, digits, neither number 0; a round carrying it keeps it only when it is valid.
#include "connector/relay_quota.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

namespace {

using namespace kiteline::connector;  // NOLINT(google-build-using-namespace): the unit under test

void require(bool ok) {
  if (!ok) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string value(reinterpret_cast<const char*>(data), size);
  const bool valid = valid_ips_per_sec(value);
  if (valid) {
    const auto slash = value.find('/');
    require(slash != std::string::npos && slash > 0 && slash + 1 < value.size());
    require(value.find_first_not_of("0123456789/") == std::string::npos);
    require(value.find('/', slash + 1) == std::string::npos);
    require(value.find_first_not_of('0') < slash);                          // IPS > 0
    require(value.find_first_not_of('0', slash + 1) != std::string::npos);  // SECONDS > 0
  }
  round_outcome r;
  r.ips_per_sec = value;
  relay_quota q;
  require(q.apply_round(r) == !value.empty());
  require(q.ips_per_sec == (valid ? value : std::string()));
  require(!q.quota_kb && !q.quota_conns && !q.quota_days);
  return 0;
}
