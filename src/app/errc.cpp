#include "app/errc.hpp"

#include <string>

namespace kiteline::app {
namespace {
class category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "kiteline.app"; }
  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::ok: return "ok";
      case errc::cannot_open_log: return "cannot open log file";
      case errc::no_such_user: return "no such user";
      case errc::no_such_group: return "no such group";
      case errc::chroot_failed: return "chroot failed";
      case errc::switch_failed: return "cannot switch user";
      case errc::switch_did_not_take: return "the user switch did not take";
      case errc::no_log_directory: return "the log file's directory does not exist";
      case errc::cannot_open_syslog: return "cannot connect to syslog";
      case errc::cannot_daemonize: return "cannot daemonize";
      case errc::cannot_write_pidfile: return "cannot write the pid file";
    }
    return "unknown kiteline.app error";
  }
};
}  // namespace

const std::error_category& app_category() noexcept {
  static const category instance;  // immutable
  return instance;
}
}  // namespace kiteline::app
