// config::process_config: settings shared by the relay and the connector (logging, threads...).
#pragma once

#include <cstddef>
#include <string>

#include "config/console_config.hpp"

namespace kiteline::config {

/// Process-wide settings that both roles accept.
struct process_config {
  std::string logfile;             ///< --logfile/-L: "" = default, "stdio", "syslog", or a path
  std::string loglevel = "info";   ///< --loglevel: none, err, warn, info, mach, debug, all or 0-9
  /// --accesslog: one line per visitor connection / served stream: a path, "stdio", "syslog",
  /// or "none" (the default, also "").
  std::string accesslog;
  std::string accesslog_format = "text";  ///< --accesslog_format: text (key=value) or json
  unsigned threads = 0;            ///< --threads: workers; 0 = one per core
  /// --buffers: per-tunnel budget (KiB) of delivered data waiting for local sockets. pagekite.py
  /// defaults to 1024; kiteline to 16 windows of 1 MiB, so 16 stalled readers fit before the
  /// tunnel pauses.
  std::size_t buffers_kib = 16384;
  unsigned evict_after_s = 10;     ///< --evict_after: budget full this long → evict (0 = never)
  /// --stalled_after: the budget overflowed and a stream holding its share of it has not
  /// drained this long → evict it at once (0 = never).
  unsigned stalled_after_s = 1;
  /// --half_closed_timeout: one side finished, the other silent this long → close (0 = never).
  unsigned half_closed_timeout_s = 120;
  bool nozchunks = false;          ///< --nozchunks: never compress chunks (ZChunks off)
  std::string runas;               ///< --runas/-U: USER[:GROUP] to switch to after binding
  std::string chroot;              ///< --chroot: directory to enter after opening files
  console_config console;          ///< --httpd, --httppass, --metrics_per_kite
  /// --daemonize/-Z: detach once the ports are bound (--nodaemonize clears it).
  bool daemonize = false;
  std::string pidfile;             ///< --pidfile/-I: write the process id here ("" = none)
  /// --grace_seconds: on SIGTERM, streams in flight may finish for this long before the process
  /// closes them (0 = stop at once, as before the drain existed).
  unsigned grace_seconds = 30;

  friend bool operator==(const process_config&, const process_config&) = default;
};

}  // namespace kiteline::config
