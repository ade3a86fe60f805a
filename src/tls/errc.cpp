#include "tls/errc.hpp"

#include <string>

namespace kiteline::tls {
namespace {
class category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "kiteline.tls"; }
  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::ok: return "ok";
      case errc::bad_protocols: return "bad TLS protocol range";
      case errc::protocol_range: return "cannot set the TLS protocol range";
      case errc::bad_cipher_list: return "bad cipher list";
      case errc::tls13_suites: return "cannot set the TLS 1.3 suites";
      case errc::cannot_read_file: return "cannot read the PEM file";
      case errc::no_private_key: return "no private key";
      case errc::no_certificate: return "no certificate";
      case errc::key_mismatch: return "certificate does not match private key";
      case errc::cannot_install_pair: return "cannot install the certificate and key";
      case errc::ca_file: return "cannot load CA certificates";
      case errc::client_certificate: return "cannot load the client certificate";
    }
    return "unknown kiteline.tls error";
  }
};
}  // namespace

const std::error_category& tls_category() noexcept {
  static const category instance;  // immutable
  return instance;
}
}  // namespace kiteline::tls
