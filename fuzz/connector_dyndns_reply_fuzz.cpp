// libFuzzer target for the connector's reading of a --dyndns service's reply
// (connector/dyndns, pure): the input is the bytes the update service sent, also read as an
// update URL. Never crashes; a complete reply has no error and a 3-digit status; success needs
// a 2xx status and a body starting with good/nochg; the log text has no control bytes; a
// prefix of the bytes never completes with another body than the whole.
#include "connector/dyndns.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

using namespace kiteline::connector;  // NOLINT(google-build-using-namespace): the unit under test

void require(bool ok) {
  if (!ok) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  for (const bool eof : {false, true}) {
    const auto r = parse_dyndns_reply(bytes, eof);
    if (r.complete) {
      require(r.error.empty());
      require(r.status >= 100 && r.status <= 999);
      require(r.body.size() <= dyndns_reply_limit);
    }
    if (dyndns_reply_ok(r)) {
      require(r.status >= 200 && r.status < 300);
      require(r.body.starts_with("good") || r.body.starts_with("nochg"));
    }
    for (const char c : dyndns_reply_summary(r)) {
      require(static_cast<unsigned char>(c) >= 0x20 && c != 0x7f);
    }
    if (size > 0) {
      const auto cut = static_cast<std::size_t>(data[0]) % size;
      const auto part = parse_dyndns_reply(bytes.substr(0, cut), false);
      if (part.complete && r.complete) {
        require(part.body == r.body && part.status == r.status);
      }
    }
  }
  if (const auto u = parse_dyndns_url(bytes)) {
    require(!u->host.empty());
    require(u->target.starts_with('/'));
    require(u->port != 0);
    const std::string req = format_dyndns_request(*u);
    require(req.starts_with("GET /") && req.ends_with("\r\n\r\n"));
  }
  return 0;
}
