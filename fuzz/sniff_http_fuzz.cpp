// libFuzzer target for sniff::parse_request_head, with the prefix property on small inputs.
#include "sniff/http_request_head.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace {

using kiteline::sniff::http_limits;
using kiteline::sniff::parse_request_head;

void check(std::string_view in, const http_limits& lim) {
  const auto full = parse_request_head(in, lim);
  if (full && full->complete) {
    const auto& h = full->head;
    if (h.head_length > in.size() || h.head_length > lim.max_head_bytes ||
        h.fields.size() > lim.max_header_lines || h.host.size() > 255 ||
        h.connect_host.size() > 255) {
      std::abort();
    }
    if (h.method == "CONNECT" && !h.pagekite_tunnel && h.connect_port == 0) {
      std::abort();
    }
  }
  if (in.size() > 512) {
    return;
  }
  for (std::size_t k = 0; k < in.size(); ++k) {
    const auto r = parse_request_head(in.substr(0, k), lim);
    if (r.has_value() && !r->complete) {
      continue;
    }
    if (r.has_value() != full.has_value()) {
      std::abort();
    }
    if (r.has_value() ? !(r->head == full->head) : r.error() != full.error()) {
      std::abort();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  check(in, http_limits{});
  check(in, http_limits{64, 3});
  return 0;
}
