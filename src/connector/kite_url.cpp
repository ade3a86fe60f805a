#include "connector/kite_url.hpp"

#include <charconv>
#include <cstdint>

namespace kiteline::connector {

namespace {

/// The number after the last ':' of `s`, or 0.
std::uint32_t port_after_colon(std::string_view s) {
  const auto colon = s.rfind(':');
  if (colon == std::string_view::npos) {
    return 0;
  }
  std::uint32_t port = 0;
  const auto digits = s.substr(colon + 1);
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
  return (ec == std::errc() && end == digits.data() + digits.size()) ? port : 0;
}

}  // namespace

std::string kite_public_url(std::string_view kite_label, std::string_view relay) {
  const auto colon = kite_label.find(':');
  std::string_view proto = kite_label.substr(0, colon);
  const std::string_view name =
      colon == std::string_view::npos ? std::string_view() : kite_label.substr(colon + 1);
  std::uint32_t port = 0;
  if (const auto dash = proto.find('-'); dash != std::string_view::npos) {
    port = port_after_colon(std::string(":") + std::string(proto.substr(dash + 1)));
    proto = proto.substr(0, dash);
  }
  if (port == 0) {
    port = port_after_colon(relay);
  }
  const std::string port_text = port == 0 ? std::string() : std::to_string(port);
  if (proto == "http" || proto == "http2" || proto == "http3" || proto == "websocket") {
    return "http://" + std::string(name) + (port == 80 || port == 0 ? "" : ":" + port_text) + "/";
  }
  if (proto == "https") {
    return "https://" + std::string(name) + (port == 443 || port == 0 ? "" : ":" + port_text) +
           "/";
  }
  return std::string(name) + (port == 0 ? "" : ":" + port_text);
}

}  // namespace kiteline::connector
