// libFuzzer target for the console's request parser (console/request, on the http/ head
// scanner) and its Basic auth check: never crashes, a complete head lies within the input and
// the limit, every prefix of it needs more, and the route matches the path.
#include "console/request.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace {

using namespace kiteline::console;  // NOLINT(google-build-using-namespace): the unit under test

void require(bool ok) {
  if (!ok) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const parse_result r = parse_request(in);
  switch (r.status) {
    case parse_status::complete:
      require(r.head_length > 0 && r.head_length <= in.size() && r.head_length <= max_head_bytes);
      require(!r.req.path.empty() && r.req.path.front() == '/');
      require(r.req.path.find('?') == std::string::npos);
      require(r.req.where == route_of(r.req.path));
      if (r.head_length <= 512) {
        for (std::size_t k = 0; k < r.head_length; ++k) {
          require(parse_request(in.substr(0, k)).status == parse_status::need_more);
        }
      }
      (void)basic_auth_ok(r.req.authorization, "s3cret");
      break;
    case parse_status::too_large:
      require(in.size() >= max_head_bytes);
      break;
    case parse_status::need_more:
      require(in.size() < max_head_bytes);
      break;
    case parse_status::bad_request:
      break;
  }
  (void)basic_auth_ok(in, "s3cret");
  return 0;
}
