// libFuzzer target for the DNS answers a fleet relay reads (fleet/dns_message, issue 24): any
// bytes go through ldns_wire2pkt and the A/AAAA extraction; every record found has a name and
// an address, and the answer's description is never empty. The same bytes go through the TSIG
// check of a reply to a signed query (reply_verifier), as one reply and as a stream of two.
#include "fleet/dns_message.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

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
  static const kiteline::fleet::tsig_key key{"fleet.", "hmac-sha256.", "c2VjcmV0c2VjcmV0"};
  static const std::vector<std::uint8_t> query = [] {
    std::string error;
    return kiteline::fleet::build_query("web.fleet.test", false, key, 7, error);
  }();
  kiteline::fleet::reply_verifier verify(key, query);
  std::string error;
  const auto first = verify.next(data, size, error);
  require(first.has_value() || !error.empty());
  (void)verify.next(data, size, error);
  (void)verify.complete();
  return 0;
}
