// libFuzzer target for the --authdomain answer decoder (relay/auth_answer, pure): the first
// four bytes are the A record, the fifth says whether a CNAME was followed, the rest is the
// canonical name. Never crashes; a grant has a positive quota and no reason, a refusal has a
// reason, and the round's limit fields follow from the grants.
#include "relay/auth_answer.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace {

using namespace kiteline::relay;  // NOLINT(google-build-using-namespace): the unit under test

void require(bool ok) {
  if (!ok) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 5) {
    return 0;
  }
  const std::array<std::uint8_t, 4> a{data[0], data[1], data[2], data[3]};
  const bool via_cname = (data[4] & 1) != 0;
  const std::string_view name(reinterpret_cast<const char*>(data + 5), size - 5);
  const auth_grant g = decode_auth_answer(a, name, via_cname);
  switch (g.outcome) {
    case auth_grant::kind::granted:
      require(g.quota_kb && *g.quota_kb > 0 && g.reason.empty());
      require(a[0] != 255 || a[1] != 255 || a[2] != 255);
      break;
    case auth_grant::kind::refused:
      require(!g.reason.empty() && !g.quota_kb);
      break;
    case auth_grant::kind::failed:
      require(via_cname && !g.detail.empty());
      break;
  }
  require(!g.qdays || *g.qdays > 0);
  require(!g.qconns || *g.qconns > 0);
  require(!g.ips_per_sec || (g.ips_per_sec->n > 0 && g.ips_per_sec->seconds > 0));
  kiteline::wire::handshake_response r;
  const std::array<auth_grant, 2> both{g, g};
  const auto chosen = add_round_limits(r, both);
  require(chosen == g.ips_per_sec);
  require(r.quota == (g.quota_kb && *g.quota_kb > 0 ? g.quota_kb : std::nullopt));
  require(r.qconns == g.qconns && r.qdays == g.qdays);
  require(r.ips_per_sec.empty() == !g.ips_per_sec);
  return 0;
}
