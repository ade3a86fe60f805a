// The X-PageKite-Misc value carrying a message of the day: motd=URL-encoded text
// (Python's quote_plus), encoded and decoded.
#include "core/text.hpp"
#include "wire/handshake.hpp"

namespace kiteline::wire {
namespace {

bool is_unreserved(char c) noexcept {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-' || c == '~';
}

}  // namespace

std::string make_misc(std::string_view motd) {
  std::string out = "motd=";
  for (const char c : motd) {
    if (is_unreserved(c)) {
      out.push_back(c);
    } else if (c == ' ') {
      out.push_back('+');
    } else {
      const auto u = static_cast<unsigned char>(c);
      out.push_back('%');
      out.push_back(ascii_upper(hex_digit(u >> 4U)));
      out.push_back(ascii_upper(hex_digit(u)));
    }
  }
  return out;
}

std::string motd_from_misc(std::string_view misc) {
  while (!misc.empty()) {
    const std::size_t amp = misc.find('&');
    const std::string_view param = misc.substr(0, amp);
    if (param.starts_with("motd=")) {
      const std::string_view enc = param.substr(5);
      std::string out;
      out.reserve(enc.size());
      for (std::size_t i = 0; i < enc.size(); ++i) {
        if (enc[i] == '+') {
          out.push_back(' ');
        } else if (enc[i] == '%' && i + 2 < enc.size() && hex_digit_value(enc[i + 1]) >= 0 &&
                   hex_digit_value(enc[i + 2]) >= 0) {
          out.push_back(
              static_cast<char>(hex_digit_value(enc[i + 1]) * 16 + hex_digit_value(enc[i + 2])));
          i += 2;
        } else {
          out.push_back(enc[i]);
        }
      }
      return out;
    }
    if (amp == std::string_view::npos) {
      break;
    }
    misc.remove_prefix(amp + 1);
  }
  return {};
}

}  // namespace kiteline::wire
