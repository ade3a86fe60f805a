// Formatting the handshake as pagekite.py writes it: the connector's request head and
// in-tunnel kite round, the relay's response head and in-tunnel result payload.
#include "wire/handshake.hpp"
#include "wire/handshake_fields.hpp"

namespace kiteline::wire {
namespace {

using handshake_detail::append_header;
using handshake_detail::beanstalk_prefix;
using handshake_detail::crlf;
using handshake_detail::pagekite_prefix;

void append_list(std::string& out, std::string_view prefix, std::string_view suffix,
                 const std::vector<std::string>& items) {
  if (items.empty()) {
    return;
  }
  out.append(prefix).append(suffix).append(": ");
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i != 0) {
      out.append(", ");
    }
    out.append(items[i]);
  }
  out.append(crlf);
}

/// Result lines, session id, misc and quota lines: shared by the head and the result chunk.
void append_results(std::string& out, const handshake_response& resp, std::string_view p) {
  for (const kite_result& r : resp.results) {
    switch (r.status) {
      case kite_status::sign_this:
        out.append(p).append("-SignThis: ").append(r.kite).append(":").append(r.fsalt).append(crlf);
        break;
      case kite_status::ok:
        append_header(out, p, "-OK", r.kite);
        break;
      case kite_status::ssl_ok:
        append_header(out, p, "-SSL-OK", r.kite);
        break;
      case kite_status::invalid:
        append_header(out, p, "-Invalid", r.kite);
        if (!r.why.empty()) {
          out.append(p).append("-Invalid-Why: ").append(r.kite).append(";").append(r.why).append(
              crlf);
        }
        break;
      case kite_status::duplicate:
        append_header(out, p, "-Duplicate", r.kite);
        break;
    }
  }
  if (!resp.session_id.empty()) {
    append_header(out, p, "-SessionID", resp.session_id);
  }
  if (resp.misc) {
    append_header(out, p, "-Misc", *resp.misc);
  }
  if (resp.qconns) {
    append_header(out, p, "-QConns", std::to_string(*resp.qconns));
  }
  if (resp.qdays) {
    append_header(out, p, "-QDays", std::to_string(*resp.qdays));
  }
  if (!resp.ips_per_sec.empty()) {
    append_header(out, p, "-IPsPerSec", resp.ips_per_sec);
  }
  if (resp.quota) {
    append_header(out, p, "-Quota", std::to_string(*resp.quota));
  }
}

void append_capabilities(std::string& out, const handshake_response& resp, std::string_view p) {
  if (resp.zchunks) {
    append_header(out, p, "-Features", "ZChunks");
  }
  if (resp.websockets) {
    append_header(out, p, "-Features", "WebSockets");
  }
  if (resp.add_kites) {
    append_header(out, p, "-Features", "AddKites");
  }
  append_list(out, p, "-Protos", resp.protos);
  append_list(out, p, "-Ports", resp.ports);
  append_list(out, p, "-Raw-Ports", resp.raw_ports);
}

}  // namespace

std::string format_handshake_request(const handshake_request& req) {
  const std::string_view p = req.legacy_beanstalk ? beanstalk_prefix : pagekite_prefix;
  std::string out = "CONNECT PageKite:1 HTTP/1.0\r\n";
  if (req.mobile) {
    append_header(out, p, "-Features", "Mobile");
  }
  if (req.add_kites) {
    append_header(out, p, "-Features", "AddKites");
  }
  if (!req.versions.empty()) {
    append_header(out, p, "-Version", req.versions.front());
  }
  if (req.zchunks) {
    append_header(out, p, "-Features", "ZChunks");
  }
  for (std::size_t i = 1; i < req.versions.size(); ++i) {
    append_header(out, p, "-Version", req.versions[i]);
  }
  if (!req.replace.empty()) {
    append_header(out, p, "-Replace", req.replace);
  }
  for (const kite_request& k : req.kites) {
    append_header(out, p, "", format_kite_line(k));
  }
  out.append(crlf);
  return out;
}

std::string format_handshake_response(const handshake_response& resp) {
  const std::string_view p = resp.legacy_beanstalk ? beanstalk_prefix : pagekite_prefix;
  std::string out =
      "HTTP/1.1 200 OK\r\n"
      "Content-Type: text/html; charset=utf-8\r\n"
      "Pragma: no-cache\r\n"
      "Expires: 0\r\n"
      "Cache-Control: no-store\r\n"
      "Connection: close\r\n"
      "Transfer-Encoding: chunked\r\n";
  append_capabilities(out, resp, p);
  append_results(out, resp, p);
  out.append(crlf);
  return out;
}

std::string format_kite_round_payload(std::string_view version,
                                      std::span<const kite_request> kites) {
  std::string out = "NOOP: 1\r\n";
  if (!version.empty()) {
    append_header(out, pagekite_prefix, "-Version", version);
  }
  for (const kite_request& k : kites) {
    append_header(out, pagekite_prefix, "", format_kite_line(k));
  }
  out.append("\r\n\r\n!");  // blank line, then pagekite.py's filler body "\r\n!"
  return out;
}

std::string format_result_payload(const handshake_response& resp) {
  const std::string_view p = resp.legacy_beanstalk ? beanstalk_prefix : pagekite_prefix;
  std::string out = "NOOP: 1\r\n";
  append_capabilities(out, resp, p);
  append_results(out, resp, p);
  out.append("\r\n!");
  return out;
}

}  // namespace kiteline::wire
