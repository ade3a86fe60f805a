// Error codes of the sniff module (TLS ClientHello / HTTP request head / first-bytes classifier).
#pragma once

#include <string>
#include <system_error>

namespace kiteline::sniff {

/// Every way the first bytes of a visitor connection can be refused. Values are stable (used in
/// logs/tests). All of them mean "close the connection" (after a TLS alert or an HTTP error page
/// where the relay chooses to send one).
enum class errc {
  ok = 0,
  not_handshake = 1,           ///< TLS: first record is not a handshake record (byte 0 != 0x16)
  bad_record_version = 2,      ///< TLS: record version is not 3.0 .. 3.4
  bad_record_length = 3,       ///< TLS: record length 0 or over 2^14 (RFC 8446 §5.1)
  not_client_hello = 4,        ///< TLS: first handshake message is not a ClientHello (type 1)
  malformed_client_hello = 5,  ///< TLS: inconsistent inner lengths, bad field, duplicate
                               ///< server_name extension, or a non-handshake record in between
  client_hello_too_large = 6,  ///< TLS: ClientHello over tls_limits::max_client_hello_bytes, or
                               ///< spread over more than tls_limits::max_records records
  bad_server_name = 7,         ///< TLS: the first host_name is empty, too long or not a host name
  head_too_large = 8,          ///< HTTP: no blank line within http_limits::max_head_bytes
  too_many_headers = 9,        ///< HTTP: more header lines than http_limits::max_header_lines
  bad_method = 10,             ///< HTTP: method is not one of the §6.2 list (case-sensitive)
  bad_request_line = 11,       ///< HTTP: request line not "METHOD SP target SP version"
  bad_version = 12,            ///< HTTP: version missing or not exactly HTTP/1.0 or HTTP/1.1
  bad_header_line = 13,        ///< HTTP: header line without ':' or with a non-token name
  obs_fold = 14,               ///< HTTP: header line starting with SP/HTAB (obsolete folding)
  bad_header_value = 15,       ///< HTTP: header value holds NUL, CR or another control character
  duplicate_host = 16,         ///< HTTP: more than one Host header
  bad_host = 17,               ///< HTTP: Host value is not host[:port] (bad name, port 0, ...)
  bad_connect_target = 18,     ///< HTTP: CONNECT target is not host:port with port 1..65535
  unknown_protocol = 19,       ///< classify: first bytes are neither TLS nor an HTTP method
  xmpp_unsupported = 20,       ///< classify: XMPP stream ("<?xml"); not routed (yet)
};

/// The "kiteline.sniff" category.
const std::error_category& sniff_category() noexcept;

/// Makes errc usable as a std::error_code.
inline std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), sniff_category()};
}

}  // namespace kiteline::sniff

template <>
struct std::is_error_code_enum<kiteline::sniff::errc> : std::true_type {};
