// libFuzzer target for sniff::extract_sni, with the prefix property checked on small inputs.
#include "sniff/host_name.hpp"
#include "sniff/tls_client_hello.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

namespace {

using kiteline::sniff::client_hello_info;
using kiteline::sniff::extract_sni;
using kiteline::sniff::sni_status;
using kiteline::sniff::tls_limits;

void check(std::span<const std::byte> in, const tls_limits& lim) {
  const auto full = extract_sni(in, lim);
  if (full && full->status == sni_status::found &&
      !kiteline::sniff::is_valid_host_name(full->server_name)) {
    std::abort();
  }
  if (full && full->status != sni_status::need_more && !full->sslv2 &&
      full->hello_end > in.size()) {
    std::abort();
  }
  if (in.size() > 1024) {
    return;
  }
  // Every prefix: need_more, or exactly the full verdict (so never another name).
  for (std::size_t k = 0; k < in.size(); ++k) {
    const auto r = extract_sni(in.first(k), lim);
    if (r.has_value() && r->status == sni_status::need_more) {
      continue;
    }
    if (r.has_value() != full.has_value()) {
      std::abort();
    }
    if (r.has_value() ? !(*r == *full) : r.error() != full.error()) {
      std::abort();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::byte> in(reinterpret_cast<const std::byte*>(data), size);
  check(in, tls_limits{});
  check(in, tls_limits{300, 3});
  return 0;
}
