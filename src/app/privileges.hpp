// net privileges: --chroot and --runas, applied once every port is bound and every file is open.
#pragma once

#include <string>

#include "app/errc.hpp"
#include "core/outcome.hpp"

namespace kiteline::app {

/// Enters `chroot_dir` (when not empty; chdir("/") inside), then switches to `runas`
/// ("USER" or "USER:GROUP"; when not empty): setgroups({gid}), setgid, setuid, in that order,
/// and verifies that it took (real and effective ids, the group list, and that uid 0 cannot be
/// regained). User and group are looked up BEFORE the chroot. On any failure returns an
/// app::errc with the text saying which step failed and why: the caller must not go on
/// running. On success returns a summary: "uid=65534 gid=65534 groups=65534 root=/srv/jail".
/// Main thread, once; the ids change for every thread of the process (glibc).
outcome<std::string> drop_privileges(const std::string& runas, const std::string& chroot_dir);

}  // namespace kiteline::app
