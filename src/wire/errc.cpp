#include "wire/errc.hpp"

namespace kiteline::wire {
namespace {
class category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "kiteline.wire"; }
  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::ok: return "ok";
      case errc::bad_hex_length: return "bad hex length in chunk size line";
      case errc::length_too_large: return "chunk length exceeds the maximum frame size";
      case errc::zframe_too_large:
        return "compressed chunk larger than the ZChunk size cap";
      case errc::size_line_too_long: return "chunk size line too long";
      case errc::zero_length_frame: return "zero-length chunk";
      case errc::missing_blank_line: return "chunk has no blank line after its headers";
      case errc::header_block_too_large: return "chunk header block too large";
      case errc::too_many_headers: return "too many chunk header lines";
      case errc::bad_header_line: return "chunk header line without ':'";
      case errc::bad_sid: return "malformed SID";
      case errc::bad_number: return "malformed numeric chunk header";
      case errc::bad_eof: return "malformed EOF header";
      case errc::zlib_error: return "compressed chunk does not inflate to its size";
      case errc::compressed_not_enabled: return "compressed chunk without ZChunks";
      case errc::head_too_large: return "handshake head too large";
      case errc::bad_request_line: return "not a PageKite tunnel request";
      case errc::bad_status_line: return "bad handshake response status line";
      case errc::bad_kite_line: return "malformed X-PageKite kite line";
      case errc::kite_field_too_long: return "kite line field too long";
      case errc::too_many_kites: return "too many kites in one request";
      case errc::no_kites: return "tunnel request without kites";
      case errc::bad_signature: return "kite signature does not verify";
      case errc::bad_token: return "challenge token invalid or expired";
      case errc::bad_ping_reply: return "relay ping reply is not 'HTTP/1.1 503 Unavailable'";
      case errc::bad_connect_reply: return "CONNECT preamble refused by the relay";
    }
    return "unknown kiteline.wire error";
  }
};
}  // namespace

const std::error_category& wire_category() noexcept {
  static const category instance;  // immutable; the only static in the codec
  return instance;
}
}  // namespace kiteline::wire
