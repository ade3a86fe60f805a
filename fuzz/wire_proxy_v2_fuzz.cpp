// libFuzzer target: the PROXY protocol v2 decoder of the fleet's peer port (issue 24). Every
// prefix of a decoded header must be need_more, re-encoding must give the same bytes back, and
// the fleet TLV's MAC offset must lie inside the header.
#include "wire/proxy_v2.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

using namespace kiteline::wire;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::byte> in(reinterpret_cast<const std::byte*>(data), size);
  const proxy_decoded d = decode_proxy_v2(in);
  if (d.status != proxy_status::done) {
    return 0;
  }
  if (d.length > size || d.length > proxy_v2_max_bytes) {
    std::abort();
  }
  if (d.fleet_mac_offset != 0 && d.fleet_mac_offset + fleet_mac_bytes > d.length) {
    std::abort();
  }
  for (std::size_t n = 0; n < d.length; ++n) {
    if (decode_proxy_v2(in.first(n)).status != proxy_status::need_more) {
      std::abort();
    }
  }
  const auto again = encode_proxy_v2(d.header);
  if (again.size() != d.length || !std::equal(again.begin(), again.end(), in.begin())) {
    std::abort();
  }
  (void)find_fleet_mark(d.header);
  return 0;
}
