#include "connector/errc.hpp"

#include <string>

namespace kiteline::connector {
namespace {
class category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "kiteline.connector"; }
  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::ok: return "ok";
      case errc::no_kites: return "no kites configured";
      case errc::no_relay: return "no relay configured";
      case errc::tls_policy: return "bad TLS protocol policy";
      case errc::tls_context: return "cannot build the TLS client context";
      case errc::client_certificate: return "bad client certificate";
      case errc::bad_folder: return "cannot share the folder";
      case errc::cannot_listen: return "cannot listen for the folder server";
    }
    return "unknown kiteline.connector error";
  }
};
}  // namespace

const std::error_category& connector_category() noexcept {
  static const category instance;  // immutable
  return instance;
}
}  // namespace kiteline::connector
