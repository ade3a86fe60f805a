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

bool lookup(const std::string& runas, ids& out, std::string& error) {
  const auto colon = runas.find(':');
  const std::string user = runas.substr(0, colon);
  std::vector<char> buf(16384);
  struct passwd pw {};
  struct passwd* found = nullptr;
  int rc = ::getpwnam_r(user.c_str(), &pw, buf.data(), buf.size(), &found);
  if (found == nullptr) {
    error = "--runas: no user `" + user + "`" + (rc != 0 ? " (" + errno_text(rc) + ")" : "");
    return false;
  }
  out.uid = pw.pw_uid;
  out.gid = pw.pw_gid;
  if (colon != std::string::npos) {
    const std::string group_name = runas.substr(colon + 1);
    struct group gr {};
    struct group* gfound = nullptr;
    rc = ::getgrnam_r(group_name.c_str(), &gr, buf.data(), buf.size(), &gfound);
    if (gfound == nullptr) {
      error = "--runas: no group `" + group_name + "`" + (rc != 0 ? " (" + errno_text(rc) + ")" : "");
      return false;
    }
    out.gid = gr.gr_gid;
  }
  return true;
}

}  // namespace

bool drop_privileges(const std::string& runas, const std::string& chroot_dir, std::string& error,
                     std::string& summary) {
  ids target;
  if (!runas.empty() && !lookup(runas, target, error)) {
    return false;
  }
  // Time zone data is read once, now, while /etc/localtime is still reachable.
  ::tzset();
  if (!chroot_dir.empty()) {
    if (::chroot(chroot_dir.c_str()) != 0) {
      error = "--chroot=" + chroot_dir + ": chroot failed: " + errno_text(errno) +
              (errno == EPERM ? " (kiteline must start as root to use --chroot)" : "");
      return false;
    }
    if (::chdir("/") != 0) {
      error = "--chroot=" + chroot_dir + ": chdir(\"/\") failed: " + errno_text(errno);
      return false;
    }
  }
  if (!runas.empty()) {
    if (::setgroups(1, &target.gid) != 0) {
      error = "--runas=" + runas + ": setgroups failed: " + errno_text(errno) +
              (errno == EPERM ? " (kiteline must start as root to switch users)" : "");
      return false;
    }
    if (::setgid(target.gid) != 0) {
      error = "--runas=" + runas + ": setgid(" + std::to_string(target.gid) +
              ") failed: " + errno_text(errno);
      return false;
    }
    if (::setuid(target.uid) != 0) {
      error = "--runas=" + runas + ": setuid(" + std::to_string(target.uid) +
              ") failed: " + errno_text(errno);
      return false;
    }
    // Verify that it took, everywhere.
    gid_t groups[8];
    const int n = ::getgroups(8, groups);
    const bool ids_ok = ::getuid() == target.uid && ::geteuid() == target.uid &&
                        ::getgid() == target.gid && ::getegid() == target.gid;
    const bool groups_ok = n == 1 && groups[0] == target.gid;
    const bool root_gone = target.uid == 0 || (::setuid(0) != 0 && ::seteuid(0) != 0);
    if (!ids_ok || !groups_ok || !root_gone) {
      error = "--runas=" + runas + ": the switch did not take (uid=" +
              std::to_string(::getuid()) + " euid=" + std::to_string(::geteuid()) +
              " gid=" + std::to_string(::getgid()) + " groups=" + std::to_string(n) +
              (root_gone ? "" : ", uid 0 can be regained") + ")";
      return false;
    }
  }
  summary = "uid=" + std::to_string(::getuid()) + " gid=" + std::to_string(::getgid());
  if (!runas.empty()) {
    summary += " groups=" + std::to_string(target.gid);
  }
  if (!chroot_dir.empty()) {
    summary += " root=" + chroot_dir;
  }
  return true;
}

}  // namespace kiteline::app
