#include "app/privileges.hpp"

#include <grp.h>
#include <pwd.h>
#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <vector>

namespace kiteline::app {
namespace {

std::string errno_text(int e) { return std::strerror(e); }

struct ids {
  uid_t uid = 0;
  gid_t gid = 0;
};

outcome<ids> lookup(const std::string& runas) {
  ids out;
  const auto colon = runas.find(':');
  const std::string user = runas.substr(0, colon);
  std::vector<char> buf(16384);
  struct passwd pw {};
  struct passwd* found = nullptr;
  int rc = ::getpwnam_r(user.c_str(), &pw, buf.data(), buf.size(), &found);
  if (found == nullptr) {
    return failure(errc::no_such_user, "--runas: no user `" + user + "`" +
                                           (rc != 0 ? " (" + errno_text(rc) + ")" : ""));
  }
  out.uid = pw.pw_uid;
  out.gid = pw.pw_gid;
  if (colon != std::string::npos) {
    const std::string group_name = runas.substr(colon + 1);
    struct group gr {};
    struct group* gfound = nullptr;
    rc = ::getgrnam_r(group_name.c_str(), &gr, buf.data(), buf.size(), &gfound);
    if (gfound == nullptr) {
      return failure(errc::no_such_group, "--runas: no group `" + group_name + "`" +
                                              (rc != 0 ? " (" + errno_text(rc) + ")" : ""));
    }
    out.gid = gr.gr_gid;
  }
  return out;
}

}  // namespace

outcome<std::string> drop_privileges(const std::string& runas, const std::string& chroot_dir) {
  ids target;
  if (!runas.empty()) {
    outcome<ids> found = lookup(runas);
    if (!found) {
      return found.error();
    }
    target = *found;
  }
  // Time zone data is read once, now, while /etc/localtime is still reachable.
  ::tzset();
  if (!chroot_dir.empty()) {
    if (::chroot(chroot_dir.c_str()) != 0) {
      return failure(errc::chroot_failed,
                     "--chroot=" + chroot_dir + ": chroot failed: " + errno_text(errno) +
                       (errno == EPERM ? " (kiteline must start as root to use --chroot)" : ""));
    }
    if (::chdir("/") != 0) {
      return failure(errc::chroot_failed,
                     "--chroot=" + chroot_dir + ": chdir(\"/\") failed: " + errno_text(errno));
    }
  }
  if (!runas.empty()) {
    if (::setgroups(1, &target.gid) != 0) {
      return failure(errc::switch_failed,
                     "--runas=" + runas + ": setgroups failed: " + errno_text(errno) +
                       (errno == EPERM ? " (kiteline must start as root to switch users)" : ""));
    }
    if (::setgid(target.gid) != 0) {
      return failure(errc::switch_failed,
                     "--runas=" + runas + ": setgid(" + std::to_string(target.gid) +
                       ") failed: " + errno_text(errno));
    }
    if (::setuid(target.uid) != 0) {
      return failure(errc::switch_failed,
                     "--runas=" + runas + ": setuid(" + std::to_string(target.uid) +
                       ") failed: " + errno_text(errno));
    }
    // Verify that it took, everywhere.
    gid_t groups[8];
    const int n = ::getgroups(8, groups);
    const bool ids_ok = ::getuid() == target.uid && ::geteuid() == target.uid &&
                        ::getgid() == target.gid && ::getegid() == target.gid;
    const bool groups_ok = n == 1 && groups[0] == target.gid;
    const bool root_gone = target.uid == 0 || (::setuid(0) != 0 && ::seteuid(0) != 0);
    if (!ids_ok || !groups_ok || !root_gone) {
      return failure(errc::switch_did_not_take,
                     "--runas=" + runas + ": the switch did not take (uid=" +
                       std::to_string(::getuid()) + " euid=" + std::to_string(::geteuid()) +
                       " gid=" + std::to_string(::getgid()) + " groups=" + std::to_string(n) +
                       (root_gone ? "" : ", uid 0 can be regained") + ")");
    }
  }
  std::string summary = "uid=" + std::to_string(::getuid()) + " gid=" + std::to_string(::getgid());
  if (!runas.empty()) {
    summary += " groups=" + std::to_string(target.gid);
  }
  if (!chroot_dir.empty()) {
    summary += " root=" + chroot_dir;
  }
  return summary;
}

}  // namespace kiteline::app
