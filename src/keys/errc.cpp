#include "keys/errc.hpp"

#include <string>

namespace kiteline::keys {
namespace {
class category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "kiteline.keys"; }
  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::ok: return "ok";
      case errc::cannot_start: return "cannot start the key process";
      case errc::key_process_down: return "key process is down";
      case errc::no_channel: return "no key process channel free in time";
      case errc::request_too_large: return "request too large";
      case errc::refused: return "the key process refused the request";
      case errc::not_allowed: return "not one of the key process's files";
      case errc::bad_reply: return "bad reply from the key process";
      case errc::unsupported_key: return "unsupported key";
      case errc::certificate_refused: return "certificate refused";
    }
    return "unknown kiteline.keys error";
  }
};
}  // namespace

const std::error_category& keys_category() noexcept {
  static const category instance;  // immutable
  return instance;
}
}  // namespace kiteline::keys
