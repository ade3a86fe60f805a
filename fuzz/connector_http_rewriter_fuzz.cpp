// libFuzzer target for connector::http_rewriter (and the request firewall it calls): any split
// of the input into feed() calls gives the one-piece output, verdict and refusal reason; output
// is bounded; a verdict other than pass is final and comes with a reply; nothing crashes.
#include "connector/http_firewall.hpp"
#include "connector/http_rewriter.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace {

using kiteline::connector::firewall_check;
using kiteline::connector::firewall_rule;
using kiteline::connector::http_rewriter;
using kiteline::connector::rewrite_options;
using kiteline::connector::rewrite_verdict;

struct outcome {
  std::vector<std::byte> out;
  rewrite_verdict verdict = rewrite_verdict::pass;
  bool passing_through = false;
  std::uint64_t requests = 0;
  std::string reason;
  std::string refused;
  firewall_rule rule = firewall_rule::none;
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
  if (o.verdict != rw.verdict()) {
    std::abort();
  }
  if (o.verdict != rewrite_verdict::pass) {
    // Final: a reply to send, and nothing more for the origin whatever follows.
    const std::size_t before = o.out.size();
    static constexpr std::string_view more = "GET / HTTP/1.1\r\nHost: k\r\n\r\n";
    if (rw.error_reply().empty() || rw.refusal_reason().empty() ||
        rw.feed({reinterpret_cast<const std::byte*>(more.data()), more.size()}, o.out) !=
            o.verdict ||
        o.out.size() != before || rw.passing_through()) {
      std::abort();
    }
  } else if (!rw.refusal_reason().empty() || !rw.refused_request().empty()) {
    std::abort();
  }
  o.passing_through = rw.passing_through();
  o.requests = rw.requests();
  o.reason = rw.refusal_reason();
  o.refused = rw.refused_request();
  o.rule = rw.blocked_rule();
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
  opts.insecure = (flags & 32u) != 0;
  opts.kite_name = "k.example";
  const std::span<const std::byte> in(reinterpret_cast<const std::byte*>(data + 2), size - 2);

  // The firewall alone, on the input split at its first space (method, target).
  const std::string_view text(reinterpret_cast<const char*>(in.data()), in.size());
  const std::size_t sp = text.find(' ');
  (void)firewall_check(text.substr(0, sp), sp == std::string_view::npos ? "" : text.substr(sp + 1));

  const outcome whole = run(opts, in, 0);
  // Bounded growth: the injected lines per request, plus "X-Old-" (6 bytes) per renamed line
  // of at least 16 bytes.
  const std::size_t per_request = 200;
  if (whole.out.size() > 2 * in.size() + per_request * (whole.requests + 1) ||
      (whole.verdict == rewrite_verdict::unauthorized && !whole.out.empty()) ||
      (whole.verdict == rewrite_verdict::blocked) != (whole.rule != firewall_rule::none) ||
      (whole.verdict == rewrite_verdict::blocked && (opts.insecure || !opts.passwords.empty()))) {
    std::abort();
  }
  for (std::uint32_t seed : {std::uint32_t{data[1]} * 2654435761u + 1u, 0x9e3779b9u}) {
    const outcome split = run(opts, in, seed);
    if (split.out != whole.out || split.verdict != whole.verdict ||
        split.passing_through != whole.passing_through || split.requests != whole.requests ||
        split.reason != whole.reason || split.refused != whole.refused ||
        split.rule != whole.rule) {
      std::abort();
    }
  }
  return 0;
}
