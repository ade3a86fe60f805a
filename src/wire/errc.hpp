// Error codes of the PageKite wire codec (frame decoder, handshake, signatures).
#pragma once

#include <string>
#include <system_error>

namespace kiteline::wire {

/// Every way untrusted tunnel bytes can be refused. Values are stable (used in logs/tests).
enum class errc {
  ok = 0,
  bad_hex_length = 1,        ///< size line has a non-hex digit, is empty, or has bad suffix
  length_too_large = 2,      ///< SIZE or ZSIZE exceeds the configured maximum frame size
  size_line_too_long = 3,    ///< no CRLF within the size-line cap
  zero_length_frame = 4,     ///< SIZE (or ZSIZE) of 0: pagekite.py closes the tunnel on it
  missing_blank_line = 5,    ///< payload has no "\r\n\r\n" separating headers from data
  header_block_too_large = 6,///< chunk header block exceeds the configured cap
  too_many_headers = 7,      ///< more header lines than the configured cap
  bad_header_line = 8,       ///< header line without ':'
  bad_sid = 9,               ///< SID not decimal, empty or longer than the configured digits
  bad_number = 10,           ///< a numeric header (SKB, SPD, Port, RPort, Quota) is malformed
  bad_eof = 11,              ///< EOF value is not "1" followed by R/W letters
  zlib_error = 12,           ///< compressed frame does not inflate to exactly SIZE bytes
  compressed_not_enabled = 13,///< a Z frame arrived but ZChunks were not negotiated
  head_too_large = 14,       ///< handshake head exceeds its cap before the blank line
  bad_request_line = 15,     ///< not "CONNECT PageKite:... HTTP/1.x"
  bad_status_line = 16,      ///< response does not start with "HTTP/1.x 200"
  bad_kite_line = 17,        ///< X-PageKite value does not split into exactly 5 fields
  kite_field_too_long = 18,  ///< proto, domain, salt or signature over its limit
  too_many_kites = 19,       ///< more kite lines than the configured cap
  no_kites = 20,             ///< handshake request without any X-PageKite line
  bad_signature = 21,        ///< signature does not verify
  bad_token = 22,            ///< challenge token malformed or expired
  bad_ping_reply = 23,       ///< relay ping reply does not start with "HTTP/1.1 503 Unavailable"
  bad_connect_reply = 24,    ///< CONNECT preamble reply is not "HTTP/1.x 200"
  zframe_too_large = 25,     ///< a Z frame's SIZE or ZSIZE exceeds the ZChunk cap
};

const std::error_category& wire_category() noexcept;
inline std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), wire_category()};
}

}  // namespace kiteline::wire

template <>
struct std::is_error_code_enum<kiteline::wire::errc> : std::true_type {};
