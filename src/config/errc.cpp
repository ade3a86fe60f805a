#include "config/errc.hpp"

#include <string>

namespace kiteline::config {
namespace {
class category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "kiteline.config"; }
  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::ok: return "ok";
      case errc::bad_flag: return "bad flag";
      case errc::bad_service_cfg: return "expected KITE/PORT:KEY:VALUE";
      case errc::bad_port: return "bad port";
      case errc::bad_kite_name: return "not a valid kite name";
    }
    return "unknown kiteline.config error";
  }
};
}  // namespace

const std::error_category& config_category() noexcept {
  static const category instance;  // immutable
  return instance;
}
}  // namespace kiteline::config
