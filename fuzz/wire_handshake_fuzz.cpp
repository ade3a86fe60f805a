// libFuzzer target: the FE's tunnel-request parser (head and in-tunnel kite round). Anything
// that parses must re-format and re-parse to the same value.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "wire/handshake.hpp"
#include "wire/head.hpp"
#include "wire/kite_auth.hpp"

using namespace kiteline::wire;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  handshake_limits limits;
  limits.max_head = 4096;
  limits.max_kites = 8;

  const auto scan = find_head_end(in, limits.max_head);
  const auto req = parse_handshake_request(in, limits);
  if (scan && !scan->need_more() && scan->end > in.size()) {
    std::abort();
  }
  if (req) {
    if (!scan || scan->need_more()) {
      std::abort();  // parsed without a complete head
    }
    const std::string again = format_handshake_request(*req);
    const auto reparsed = parse_handshake_request(again, limits);
    if (!reparsed || !(*reparsed == *req)) {
      std::abort();
    }
    for (const kite_request& k : req->kites) {
      (void)verify_kite_signature("s3cret", k);
      // Seed kiteline-token-valid carries a token of "fe-secret" issued 30 s before this time.
      constexpr std::uint64_t now = 1795342288;
      const token_check t = check_token("fe-secret", k, now);
      if (t.verdict == token_verdict::valid &&
          (k.fsalt.size() != signature_length || k.fsalt.front() != 't' || t.expires_at <= now ||
           t.expires_at > now + token_lifetime_seconds)) {
        std::abort();
      }
      if (t.verdict != token_verdict::valid && t.expires_at != 0) {
        std::abort();
      }
      (void)split_proto(k.proto);
      if (format_kite_line(k).size() > 24 + 1024 + 3 * 36 + 4) {
        std::abort();
      }
    }
  }

  // The same bytes as the header lines of a control chunk (Flow B).
  std::vector<header_field> fields;
  line_reader lines(in);
  std::string_view line;
  while (lines.next(line) && fields.size() < 64) {
    if (const auto f = split_header_line(line)) {
      fields.push_back(*f);
    }
  }
  (void)has_handshake_fields(fields);
  const auto round = parse_kite_round(fields, limits);
  if (round) {
    const std::string version = round->versions.empty() ? std::string() : round->versions[0];
    const std::string payload = format_kite_round_payload(version, round->kites);
    std::vector<header_field> again;
    line_reader payload_lines(payload);
    while (payload_lines.next(line) && !line.empty()) {
      again.push_back(*split_header_line(line));
    }
    const auto reparsed = parse_kite_round(again, limits);
    if (!reparsed || !(reparsed->kites == round->kites)) {
      std::abort();
    }
  }
  return 0;
}
