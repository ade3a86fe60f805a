#include "wire/reject.hpp"

#include "core/text.hpp"

#include <array>

namespace kiteline::wire {
namespace {

constexpr std::array<std::byte, 7> tls_alert_bytes = {
    std::byte{0x15}, std::byte{0x03}, std::byte{0x03}, std::byte{0x00},
    std::byte{0x02}, std::byte{0x02}, std::byte{0x31}};

/// The headers every relay page carries after X-PageKite-UUID, blank line included.
constexpr std::string_view page_headers =
    "Content-Type: text/html; charset=utf-8\r\n"
    "Pragma: no-cache\r\n"
    "Expires: 0\r\n"
    "Cache-Control: no-store\r\n"
    "Connection: close\r\n"
    "\r\n";

}  // namespace

std::string format_no_host_page(std::string_view uuid) {
  std::string out = "HTTP/1.1 400 Bad request\r\nX-PageKite-UUID: ";
  out.append(uuid).append("\r\n").append(page_headers);
  out.append(
      "<html><body><h1>400 Bad request</h1><p>Your request has no Host header.</p>"
      "</body></html>\n");
  return out;
}

std::string format_unavailable_page(std::string_view uuid, std::string_view proto_label,
                                    std::string_view host, std::string_view where, bool advertise,
                                    bool overloaded) {
  std::string out = "HTTP/1.1 503 Unavailable\r\n";
  if (overloaded) {
    out.append("X-PageKite-Overloaded: Sorry\r\n");
  }
  out.append("X-PageKite-UUID: ").append(uuid).append("\r\n");
  out.append(page_headers);
  out.append("<html><body><h1>Sorry! (").append(where).append(")</h1><p>The ");
  out.append(to_upper(proto_label));
  if (advertise) {
    out.append(" <a href=\"https://pagekite.net/\"><i>PageKite</i></a> for <b>");
  } else {
    out.append(" connection for <b>");
  }
  out.append(host).append(
      "</b> is unavailable at the moment.</p><p>Please try again later.</p><!--  -->"
      "</body></html>\n");
  return out;
}

std::span<const std::byte, 7> tls_alert_unavailable() noexcept {
  return std::span<const std::byte, 7>(tls_alert_bytes);
}

std::string_view connect_unavailable() noexcept { return "HTTP/1.0 503 Unavailable\r\n\r\n"; }

}  // namespace kiteline::wire
