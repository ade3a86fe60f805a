// libFuzzer target: the BE's handshake-response parser, result chunks, ping and CONNECT
// replies. Anything that parses must re-format and re-parse to the same value.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "wire/handshake.hpp"
#include "wire/head.hpp"
#include "wire/ping.hpp"

using namespace kiteline::wire;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  response_limits limits;
  limits.max_head = 4096;
  limits.max_results = 16;

  const auto resp = parse_handshake_response(in, limits);
  if (resp) {
    const std::string again = format_handshake_response(*resp);
    const auto reparsed = parse_handshake_response(again, limits);
    if (!reparsed || !(*reparsed == *resp)) {
      std::abort();
    }
    if (resp->misc) {
      (void)motd_from_misc(*resp->misc);
    }
  }

  std::vector<header_field> fields;
  line_reader lines(in);
  std::string_view line;
  while (lines.next(line) && fields.size() < 64) {
    if (const auto f = split_header_line(line)) {
      fields.push_back(*f);
    }
  }
  const auto results = parse_result_fields(fields, limits);
  if (results) {
    const std::string payload = format_result_payload(*results);
    std::vector<header_field> again;
    line_reader payload_lines(payload);
    while (payload_lines.next(line) && !line.empty()) {
      again.push_back(*split_header_line(line));
    }
    const auto reparsed = parse_result_fields(again, limits);
    if (!reparsed || !(*reparsed == *results)) {
      std::abort();
    }
  }

  (void)check_ping_reply(in);
  (void)is_ping_request(in);
  const auto connect = check_connect_reply(in, 1024);
  if (connect && !connect->need_more() && connect->end > in.size()) {
    std::abort();
  }
  return 0;
}
