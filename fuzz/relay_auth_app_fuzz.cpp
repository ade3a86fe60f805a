// libFuzzer target for the auth apps' answers (relay/auth_app_answer, pure): the first byte
// picks --auth (even) or --zk-auth (odd) and where the output is split in two reads; the rest
// is what the app wrote. Never crashes; the lines read are the same for any split; a grant has
// no reason and only positive limits; a refusal's reason is one header-safe word; a failure
// says why.
#include "relay/auth_app_answer.hpp"

#include "wire/kite_auth.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace kiteline::relay;  // NOLINT(google-build-using-namespace): the unit under test

void require(bool ok) {
  if (!ok) {
    std::abort();
  }
}

std::vector<std::string> lines_of(std::string_view out, std::size_t cut) {
  auth_app_output o;
  std::vector<std::string> lines;
  for (auto piece : {out.substr(0, cut), out.substr(cut)}) {
    if (!o.feed(piece)) {
      lines.emplace_back("<overflow>");
      return lines;
    }
    while (auto l = o.take_line()) {
      lines.push_back(*l);
    }
  }
  return lines;
}

bool header_safe(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f || c == ';' || c == ':') {
      return false;
    }
  }
  return !s.empty();
}

void check(const auth_grant& g) {
  switch (g.outcome) {
    case auth_grant::kind::granted:
      require(g.reason.empty());
      require(!g.quota_kb || *g.quota_kb > 0);
      break;
    case auth_grant::kind::refused:
      require(!g.quota_kb);
      break;
    case auth_grant::kind::failed:
      require(!g.detail.empty());
      break;
  }
  require(!g.qdays || *g.qdays > 0);
  require(!g.qconns || *g.qconns > 0);
  require(!g.ips_per_sec || (g.ips_per_sec->n > 0 && g.ips_per_sec->seconds > 0));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1 || size > 32 * 1024) {
    return 0;  // (the reader's limit is 64 KiB: a split must not change what fits)
  }
  const bool zk = (data[0] & 1) != 0;
  const std::string_view out(reinterpret_cast<const char*>(data + 1), size - 1);
  const std::size_t cut = static_cast<std::size_t>(data[0] >> 1) % (out.size() + 1);
  const auto whole = lines_of(out, out.size());
  require(lines_of(out, cut) == whole);
  require(lines_of(out, 0) == whole);

  static const kiteline::wire::kite_request kite = [] {
    kiteline::wire::kite_request k{"http", "a.example", "323760d189da5750ebf1411b24533441f059",
                                   "t1bce137fb8b222cbcd54df9fad0db08c7dd", ""};
    k.signature = kiteline::wire::make_kite_signature("s", k.proto, k.domain, k.bsalt, k.fsalt,
                                                      "a70f2eb2");
    return k;
  }();
  if (zk) {
    const auto g = decode_zk_auth_app_answer(out);
    check(g);
    if (g.outcome == auth_grant::kind::refused) {
      require(!g.reason.empty());
    }
    return 0;
  }
  const auto a = decode_auth_app_answer(out);
  check(a.grant);
  if (a.grant.outcome == auth_grant::kind::granted) {
    require(!a.secret.empty());
  }
  const auto g = judge_auth_app_answer(a, kite);
  check(g);
  if (g.outcome == auth_grant::kind::refused) {
    require(header_safe(g.reason) && g.reason.size() <= 64);
  }
  if (g.outcome == auth_grant::kind::granted) {
    require(a.secret == "s");  // only the kite's own secret verifies its signature
  }
  return 0;
}
