// Kite lines (§4.2): PROTO[-PORT]:DOMAIN:BSALT:FSALT:SIGNATURE, parsed, formatted and keyed;
// a protocol split into base and public port.
#include <array>
#include <limits>

#include "core/text.hpp"
#include "wire/handshake.hpp"

namespace kiteline::wire {

result<kite_request> parse_kite_line(std::string_view value, const kite_limits& limits) {
  std::array<std::string_view, 5> f{};
  std::size_t n = 0;
  std::string_view rest = value;
  while (true) {
    const std::size_t colon = rest.find(':');
    if (n == f.size()) {
      return errc::bad_kite_line;  // a sixth field
    }
    f[n++] = rest.substr(0, colon);
    if (colon == std::string_view::npos) {
      break;
    }
    rest.remove_prefix(colon + 1);
  }
  if (n != f.size()) {
    return errc::bad_kite_line;
  }
  if (f[0].size() > limits.max_proto || f[1].size() > limits.max_domain ||
      f[2].size() > limits.max_salt || f[3].size() > limits.max_salt ||
      f[4].size() > limits.max_signature) {
    return errc::kite_field_too_long;
  }
  if (f[0].empty() || f[1].empty()) {
    return errc::bad_kite_line;
  }
  for (const std::string_view field : f) {
    for (const char c : field) {
      const auto u = static_cast<unsigned char>(c);
      if (u <= 0x20U || u == 0x7fU) {
        return errc::bad_kite_line;
      }
    }
  }
  return kite_request{to_lower(f[0]), to_lower(f[1]), std::string(f[2]), std::string(f[3]),
                      std::string(f[4])};
}

std::string format_kite_line(const kite_request& kite) {
  std::string out;
  out.reserve(kite.proto.size() + kite.domain.size() + kite.bsalt.size() + kite.fsalt.size() +
              kite.signature.size() + 4);
  out.append(kite.proto).append(":").append(kite.domain).append(":").append(kite.bsalt);
  out.append(":").append(kite.fsalt).append(":").append(kite.signature);
  return out;
}

std::string kite_key(const kite_request& kite) {
  std::string out;
  out.append(kite.proto).append(":").append(kite.domain).append(":").append(kite.bsalt);
  return out;
}

result<proto_port> split_proto(std::string_view proto) noexcept {
  const std::size_t dash = proto.find('-');
  if (dash == 0 || proto.empty()) {
    return errc::bad_kite_line;
  }
  if (dash == std::string_view::npos) {
    return proto_port{proto, std::nullopt};
  }
  const std::string_view digits = proto.substr(dash + 1);
  if (digits.empty() || digits.size() > 5) {
    return errc::bad_kite_line;
  }
  const auto port = parse_decimal<std::uint16_t>(digits);  // at most 65535
  if (!port) {
    return errc::bad_kite_line;
  }
  return proto_port{proto.substr(0, dash), *port};
}

}  // namespace kiteline::wire
