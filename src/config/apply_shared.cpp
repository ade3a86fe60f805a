// The options both roles share: process settings (logging, threads, buffers, timeouts,
// runas, chroot, daemonize, pidfile).
#include <algorithm>
#include <array>

#include "config/apply_option.hpp"
#include "config/values.hpp"

namespace kiteline::config {

// Options both roles share. Returns false when `o` is not one of them.
bool apply_process(process_config& p, const raw_option& o, const apply_context& ctx) {
  if (apply_console(p.console, o, ctx)) {
    return true;
  }
  if (apply_accesslog(p, o, ctx)) {
    return true;
  }
  const std::string v = value_of(o);
  if (o.name == "logfile") {
    if (v.empty()) {
      ctx.error(o, "needs a file name, `stdio` or `syslog`");
    } else {
      p.logfile = v;
    }
  } else if (o.name == "loglevel") {
    constexpr std::array levels{"none", "err", "warn", "info", "mach", "debug", "all"};
    const bool named = std::find(levels.begin(), levels.end(), v) != levels.end();
    if (!named && !parse_unsigned(v, 9)) {
      ctx.error(o, "`" + v + "` is not a log level (none, err, warn, info, mach, debug, all, 0-9)");
    } else {
      p.loglevel = v;
    }
  } else if (o.name == "threads") {
    if (const auto n = parse_unsigned(v, 1024)) {
      p.threads = static_cast<unsigned>(*n);
    } else {
      ctx.error(o, "expected a number of threads 0-1024 (0 = one per core)");
    }
  } else if (o.name == "buffers") {
    const auto n = parse_unsigned(v, 1u << 22);
    if (n && *n > 0) {
      p.buffers_kib = static_cast<std::size_t>(*n);
    } else {
      ctx.error(o, "expected a size in KiB, 1-4194304");
    }
  } else if (o.name == "evict_after") {
    if (const auto n = parse_unsigned(v, 86400)) {
      p.evict_after_s = static_cast<unsigned>(*n);
    } else {
      ctx.error(o, "expected seconds, 0-86400 (0 = never evict)");
    }
  } else if (o.name == "stalled_after") {
    if (const auto n = parse_unsigned(v, 86400)) {
      p.stalled_after_s = static_cast<unsigned>(*n);
    } else {
      ctx.error(o, "expected seconds, 0-86400 (0 = never)");
    }
  } else if (o.name == "half_closed_timeout") {
    if (const auto n = parse_unsigned(v, 86400)) {
      p.half_closed_timeout_s = static_cast<unsigned>(*n);
    } else {
      ctx.error(o, "expected seconds, 0-86400 (0 = never)");
    }
  } else if (o.name == "grace_seconds") {
    if (const auto n = parse_unsigned(v, 86400)) {
      p.grace_seconds = static_cast<unsigned>(*n);
    } else {
      ctx.error(o, "expected seconds, 0-86400 (0 = stop at once)");
    }
  } else if (o.name == "nozchunks") {
    p.nozchunks = true;
  } else if (o.name == "runas") {
    const auto parts = split(v, ':');
    if (v.empty() || parts.size() > 2 || parts[0].empty() ||
        (parts.size() == 2 && parts[1].empty())) {
      ctx.error(o, "expected USER or USER:GROUP");
    } else {
      p.runas = v;
    }
  } else if (o.name == "daemonize" || o.name == "nodaemonize") {
    p.daemonize = o.name == "daemonize";
  } else if (o.name == "pidfile") {
    if (v.empty()) {
      ctx.error(o, "needs a file name");
    } else {
      p.pidfile = v;
    }
  } else if (o.name == "chroot") {
    if (v.empty()) {
      ctx.error(o, "needs a directory");
    } else {
      p.chroot = v;
    }
  } else {
    return false;
  }
  ctx.origins[o.name] = o.origin;
  return true;
}


}  // namespace kiteline::config
