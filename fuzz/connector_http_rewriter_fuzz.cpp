// libFuzzer target for connector::http_rewriter: any split of the input into feed() calls gives
// the one-piece output and verdict, output is bounded, and nothing crashes.
#include "connector/http_rewriter.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

namespace {

using kiteline::connector::http_rewriter;
using kiteline::connector::rewrite_options;
using kiteline::connector::rewrite_verdict;

struct outcome {
  std::vector<std::byte> out;
  rewrite_verdict verdict = rewrite_verdict::pass;
  bool passing_through = false;
  std::uint64_t requests = 0;
};

/// Feeds `in` in pieces whose sizes come from a small PRNG seeded with `seed` (0 = one piece).
outcome run(const rewrite_options& opts, std::span<const std::byte> in, std::uint32_t seed) {
  http_rewriter rw(opts);
  outcome o;
  std::size_t pos = 0;
  std::uint32_t x = seed;
  while (pos < in.size()) {
    std::size_t n = in.size() - pos;
    if (seed != 0) {
      x ^= x << 13;
      x ^= x >> 17;
      x ^= x << 5;
      // Mostly tiny pieces (0..7 bytes), sometimes larger ones.
      n = std::min<std::size_t>(n, (x & 0x80u) != 0 ? (x >> 8) % 300 : x % 8);
    }
    o.verdict = rw.feed(in.subspan(pos, n), o.out);
    pos += n;
  }
  o.verdict = rw.feed({}, o.out);
  o.passing_through = rw.passing_through();
  o.requests = rw.requests();
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) {
    return 0;
  }
  // Byte 0 picks the options, byte 1 seeds the split; the rest is the visitor's byte stream.
  const std::uint8_t flags = data[0];
  rewrite_options opts;
  opts.rip = "::ffff:10.0.0.1";
  opts.port = 443;
  opts.rtls = (flags & 1u) != 0;
  if ((flags & 2u) != 0) {
    opts.rewrite_host = "origin:8080";
  }
  if ((flags & 4u) != 0) {
    opts.passwords = {{"alice", "s3cret"}};  // Basic YWxpY2U6czNjcmV0
  }
  opts.raw_headers = (flags & 8u) != 0;
  if ((flags & 16u) != 0) {
    opts.max_head = 64;  // reach the head cap with small inputs
  }
  const std::span<const std::byte> in(reinterpret_cast<const std::byte*>(data + 2), size - 2);

  const outcome whole = run(opts, in, 0);
  // Bounded growth: the injected lines per request, plus "X-Old-" (6 bytes) per renamed line
  // of at least 16 bytes.
  const std::size_t per_request = 200;
  if (whole.out.size() > 2 * in.size() + per_request * (whole.requests + 1) ||
      (whole.verdict == rewrite_verdict::unauthorized && !whole.out.empty())) {
    std::abort();
  }
  for (std::uint32_t seed : {std::uint32_t{data[1]} * 2654435761u + 1u, 0x9e3779b9u}) {
    const outcome split = run(opts, in, seed);
    if (split.out != whole.out || split.verdict != whole.verdict ||
        split.passing_through != whole.passing_through || split.requests != whole.requests) {
      std::abort();
    }
  }
  return 0;
}
