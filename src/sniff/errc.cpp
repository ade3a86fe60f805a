#include "sniff/errc.hpp"

namespace kiteline::sniff {
namespace {
class category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "kiteline.sniff"; }
  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::ok:
        return "ok";
      case errc::not_handshake:
        return "not a TLS handshake record";
      case errc::bad_record_version:
        return "bad TLS record version";
      case errc::bad_record_length:
        return "bad TLS record length";
      case errc::not_client_hello:
        return "first TLS handshake message is not a ClientHello";
      case errc::malformed_client_hello:
        return "malformed TLS ClientHello";
      case errc::client_hello_too_large:
        return "TLS ClientHello too large";
      case errc::bad_server_name:
        return "invalid TLS server name";
      case errc::head_too_large:
        return "HTTP request head too large";
      case errc::too_many_headers:
        return "too many HTTP header lines";
      case errc::bad_method:
        return "unsupported HTTP method";
      case errc::bad_request_line:
        return "malformed HTTP request line";
      case errc::bad_version:
        return "unsupported or missing HTTP version";
      case errc::bad_header_line:
        return "malformed HTTP header line";
      case errc::obs_fold:
        return "obsolete HTTP header line folding";
      case errc::bad_header_value:
        return "control character in HTTP header value";
      case errc::duplicate_host:
        return "duplicate HTTP Host header";
      case errc::bad_host:
        return "malformed HTTP Host header";
      case errc::bad_connect_target:
        return "malformed HTTP CONNECT target";
      case errc::unknown_protocol:
        return "first bytes are neither TLS nor HTTP";
      case errc::xmpp_unsupported:
        return "XMPP visitors are not supported";
    }
    return "unknown kiteline.sniff error";
  }
};
}  // namespace

const std::error_category& sniff_category() noexcept {
  static const category instance;  // immutable
  return instance;
}
}  // namespace kiteline::sniff
