// Error codes of the process set-up main does (kiteline::failure carries the text: the file, the user, the system's reason).
#pragma once

#include <system_error>

namespace kiteline::app {

/// Why the process cannot be set up; main prints the text and exits. Values are stable.
enum class errc {
  ok = 0,
  cannot_open_log = 1,      ///< the --logfile cannot be opened
  no_such_user = 2,         ///< --runas names an unknown user
  no_such_group = 3,        ///< --runas names an unknown group
  chroot_failed = 4,        ///< chroot() or chdir("/") failed
  switch_failed = 5,        ///< setgroups(), setgid() or setuid() failed
  switch_did_not_take = 6,  ///< the ids after the switch are not the ones asked for, or root can be regained
  no_log_directory = 7,     ///< the --logfile's directory does not exist (never created)
  cannot_open_syslog = 8,   ///< --logfile=syslog: the syslog socket cannot be connected
  cannot_daemonize = 9,     ///< --daemonize: pipe(), fork() or setsid() failed
  cannot_write_pidfile = 10,  ///< --pidfile cannot be written
};

/// The "kiteline.app" category.
const std::error_category& app_category() noexcept;

inline std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), app_category()};
}

}  // namespace kiteline::app

template <>
struct std::is_error_code_enum<kiteline::app::errc> : std::true_type {};
