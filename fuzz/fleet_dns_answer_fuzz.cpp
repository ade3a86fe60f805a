// libFuzzer target for the DNS answers a fleet relay reads (fleet/dns_message, issue 24): any
// bytes go through ldns_wire2pkt and the A/AAAA extraction; every record found has a name and
// an address, and the answer's description is never empty.
#include "fleet/dns_message.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>

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
  const auto answer = kiteline::fleet::read_answer(data, size);
  if (!answer) {
    return 0;
  }
  for (const auto& r : answer->records) {
    require(!r.name.empty() && !r.address.empty());
  }
  require(!kiteline::fleet::describe(*answer).empty());
  (void)kiteline::fleet::is_refusal(*answer);
  return 0;
}
