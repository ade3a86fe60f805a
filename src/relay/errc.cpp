#include "relay/errc.hpp"

#include <string>

namespace kiteline::relay {
namespace {
class category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "kiteline.relay"; }
  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::ok: return "ok";
      case errc::tls_policy: return "bad TLS protocol policy";
      case errc::tls_endpoint: return "bad TLS endpoint";
      case errc::bad_host: return "bad --host";
      case errc::cannot_listen: return "cannot listen";
      case errc::probation_full: return "too many tunnels awaiting a kite";
      case errc::probation_full_for_address:
        return "too many tunnels awaiting a kite from this address";
      case errc::bad_access_rules: return "bad access rules";
      case errc::auth_app: return "unusable auth app";
    }
    return "unknown kiteline.relay error";
  }
};
}  // namespace

const std::error_category& relay_category() noexcept {
  static const category instance;  // immutable
  return instance;
}
}  // namespace kiteline::relay
