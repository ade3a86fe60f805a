// libFuzzer target for sniff::classify, with the prefix property on small inputs.
#include "sniff/classify.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

namespace {

using kiteline::sniff::classification;
using kiteline::sniff::classify;
using kiteline::sniff::classify_limits;
using kiteline::sniff::kind;

void check(std::span<const std::byte> in, const classify_limits& lim) {
  const classification full = classify(in, lim);
  if (full.what == kind::reject && !full.error) {
    std::abort();
  }
  if (full.head_length > in.size()) {
    std::abort();
  }
  if (in.size() > 512) {
    return;
  }
  for (std::size_t k = 0; k < in.size(); ++k) {
    const classification c = classify(in.first(k), lim);
    if (c.what != kind::need_more && !(c == full)) {
      std::abort();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::byte> in(reinterpret_cast<const std::byte*>(data), size);
  check(in, classify_limits{});
  classify_limits small;
  small.http = {96, 4};
  small.tls = {400, 4};
  small.ping_peek_bytes = 48;
  check(in, small);
  return 0;
}
