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

constexpr std::string_view pagekite_link = "<a href=\"https://pagekite.net/\"><i>PageKite</i></a>";

/// The "Sorry! (WHERE) ... is unavailable at the moment" message (pagekite.py
/// HTTP_Unavailable's `message`), appended to `out`.
void append_unavailable_message(std::string& out, std::string_view where,
                                std::string_view proto_label, std::string_view host,
                                bool advertise) {
  out.append("<h1>Sorry! (").append(where).append(")</h1><p>The ");
  out.append(to_upper(proto_label));
  if (advertise) {
    out.append(" ").append(pagekite_link).append(" for <b>");
  } else {
    out.append(" connection for <b>");
  }
  out.append(host).append(
      "</b> is unavailable at the moment.</p><p>Please try again later.</p><!--  -->");
}

/// The page body around that message, appended to `out`.
void append_unavailable_body(std::string& out, std::string_view where,
                             std::string_view proto_label, std::string_view host, bool advertise) {
  out.append("<html><body>");
  append_unavailable_message(out, where, proto_label, host, advertise);
  out.append("</body></html>\n");
}

/// The connector's page head: status line, X-PageKite-UUID when `uuid` is known, `extra` header
/// lines, then the same headers as the relay's pages.
std::string connector_page_head(std::string_view status_line, std::string_view uuid,
                                std::string_view extra) {
  std::string out(status_line);
  out.append("\r\n");
  if (!uuid.empty()) {
    out.append("X-PageKite-UUID: ").append(uuid).append("\r\n");
  }
  out.append(extra).append(page_headers);
  return out;
}

}  // namespace

std::string format_no_host_page(std::string_view uuid, bool overloaded) {
  std::string out = "HTTP/1.1 400 Bad request\r\n";
  if (overloaded) {
    out.append("X-PageKite-Overloaded: Sorry\r\n");
  }
  out.append("X-PageKite-UUID: ");
  out.append(uuid).append("\r\n").append(page_headers);
  out.append(
      "<html><body><h1>400 Bad request</h1><p>Your request has no Host header.</p>"
      "</body></html>\n");
  return out;
}

namespace {

/// The head of a relay page: status line, [X-PageKite-Overloaded], X-PageKite-UUID and the
/// page headers.
std::string sorry_head(std::string_view status_line, std::string_view uuid, bool overloaded) {
  std::string out(status_line);
  out.append("\r\n");
  if (overloaded) {
    out.append("X-PageKite-Overloaded: Sorry\r\n");
  }
  out.append("X-PageKite-UUID: ").append(uuid).append("\r\n");
  out.append(page_headers);
  return out;
}

/// pagekite.py HTTP_Unavailable with any status: sorry_head() and the "Sorry! (WHERE)" body.
std::string sorry_page(std::string_view status_line, std::string_view uuid,
                       std::string_view proto_label, std::string_view host,
                       std::string_view where, bool advertise, bool overloaded) {
  std::string out = sorry_head(status_line, uuid, overloaded);
  append_unavailable_body(out, where, proto_label, host, advertise);
  return out;
}

}  // namespace

std::string format_unavailable_page(std::string_view uuid, std::string_view proto_label,
                                    std::string_view host, std::string_view where, bool advertise,
                                    bool overloaded) {
  return sorry_page("HTTP/1.1 503 Unavailable", uuid, proto_label, host, where, advertise,
                    overloaded);
}

std::string format_forbidden_page(std::string_view uuid, std::string_view proto_label,
                                  std::string_view host, bool advertise) {
  return sorry_page("HTTP/1.1 403 Forbidden", uuid, proto_label, host, "fe", advertise, false);
}

std::string format_error_frame_page(const error_frame& f) {
  std::string out = sorry_head(std::string("HTTP/1.1 ").append(f.status), f.uuid, f.overloaded);
  std::string src = html_escape(f.url);
  if (f.url.find('?') != std::string_view::npos) {
    src.append("&amp;where=").append(html_escape(to_upper(f.where)));
    src.append("&amp;proto=").append(html_escape(to_lower(f.proto)));
    src.append("&amp;domain=").append(html_escape(f.host));
    if (!f.relay_ip.empty()) {
      src.append("&amp;relay=").append(html_escape(f.relay_ip));
    }
  }
  out.append("<html><frameset cols=\"*\"><frame target=\"_top\" src=\"").append(src);
  out.append("\" /><noframes>");
  append_unavailable_message(out, to_lower(f.where), f.proto, html_escape(f.host), f.advertise);
  out.append("</noframes></frameset></html>\n");
  return out;
}

std::span<const std::byte, 7> tls_alert_unavailable() noexcept {
  return std::span<const std::byte, 7>(tls_alert_bytes);
}

std::string_view connect_unavailable() noexcept { return "HTTP/1.0 503 Unavailable\r\n\r\n"; }

std::string_view connect_forbidden() noexcept { return "HTTP/1.0 403 Forbidden\r\n\r\n"; }

std::string format_unauthorized_page(std::string_view uuid, std::string_view kite_name) {
  std::string out = connector_page_head("HTTP/1.1 401 Unauthorized", uuid,
                                        "WWW-Authenticate: Basic realm=PageKite\r\n");
  out.append("<html><body><h1>Sorry! (be)</h1><p>The HTTP ").append(pagekite_link);
  out.append(" for <b>").append(html_escape(kite_name));
  out.append(
      "</b> requires a user name and password.</p><p>Please try again.</p><!--  -->"
      "</body></html>\n");
  return out;
}

std::string format_firewall_page(std::string_view uuid, std::string_view kite_name) {
  std::string out = connector_page_head("HTTP/1.1 500 Unavailable", uuid, "");
  append_unavailable_body(out, "be", "HTTP", html_escape(kite_name), true);
  return out;
}

std::string format_refused_request_page(std::string_view uuid, std::string_view kite_name,
                                        bool too_large, std::string_view reason) {
  const std::string_view status =
      too_large ? "431 Request Header Fields Too Large" : "400 Bad Request";
  std::string out = connector_page_head("HTTP/1.1 " + std::string(status), uuid, "");
  out.append("<html><body><h1>").append(status).append("</h1><p>This request for <b>");
  out.append(html_escape(kite_name)).append("</b> was not forwarded: ");
  out.append(html_escape(reason)).append(".</p></body></html>\n");
  return out;
}

std::string_view ip_forbidden_page() noexcept {
  return "HTTP/1.1 403 Forbidden\r\nContent-Type: text/html; charset=utf-8\r\nConnection: close\r\n"
         "\r\n<html><body><h1>403 Forbidden</h1><p>Your address may not visit this site.</p>"
         "</body></html>\n";
}

std::string format_folder_error_body(std::string_view status_text) {
  std::string out = "<!DOCTYPE html>\n<html><head><title>";
  out.append(status_text).append("</title></head><body><h1>").append(status_text);
  out.append("</h1></body></html>\n");
  return out;
}

}  // namespace kiteline::wire
