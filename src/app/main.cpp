// kiteline entry point: parses the pagekite.py-compatible command line and runs the relay or
// the connector until SIGINT/SIGTERM. The only code tests do not link (style §2).
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include <pthread.h>
#include <unistd.h>

#include "config/parse.hpp"
#include "connector/client.hpp"
#include "net/log.hpp"
#include "relay/server.hpp"

namespace {

using kiteline::config::action;

/// Blocks the stop/reload signals in every thread (workers inherit the mask) so that main can
/// sigwait() for them: no signal handler, no global state.
sigset_t block_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  return set;
}

int run_relay(const kiteline::config::relay_config& cfg) {
  std::string error;
  auto log = kiteline::net::make_logger("relay", cfg.process.logfile, cfg.process.loglevel, error);
  if (!log) {
    std::fprintf(stderr, "kiteline: %s\n", error.c_str());
    return 1;
  }
  sigset_t signals = block_signals();
  kiteline::relay::server relay(cfg, log);
  if (!relay.start(error)) {
    std::fprintf(stderr, "kiteline: %s\n", error.c_str());
    log->error("start failed: {}", error);
    return 1;
  }
  std::string ports;
  for (auto p : relay.bound_ports()) {
    ports += (ports.empty() ? "" : ",") + std::to_string(p);
  }
  // Machine-readable line for scripts and tests binding port 0 (style §9).
  std::printf("kiteline relay ready ports=%s\n", ports.c_str());
  std::fflush(stdout);
  relay.start_threads();
  for (;;) {
    int sig = 0;
    sigwait(&signals, &sig);
    if (sig == SIGHUP) {
      log->info("SIGHUP received (certificate reload is not implemented yet)");
      continue;
    }
    log->info("signal {} received, stopping", sig);
    break;
  }
  relay.stop();
  return 0;
}

int run_connector(const kiteline::config::connector_config& cfg) {
  std::string error;
  auto log =
      kiteline::net::make_logger("connector", cfg.process.logfile, cfg.process.loglevel, error);
  if (!log) {
    std::fprintf(stderr, "kiteline: %s\n", error.c_str());
    return 1;
  }
  sigset_t signals = block_signals();
  kiteline::connector::client_options opts;
  // Machine-readable line for scripts and tests: printed on the worker when a kite goes live.
  opts.on_kite_live = [](const std::string& kite, const std::string& relay) {
    std::printf("kiteline connector: kite %s live on relay %s\n", kite.c_str(), relay.c_str());
    std::fflush(stdout);
  };
  // --all gave up: wake the sigwait() below (the signal is blocked in every thread).
  opts.on_fatal = [](const std::string&) { ::kill(::getpid(), SIGTERM); };
  kiteline::connector::client connector(cfg, log, std::move(opts));
  if (!connector.start(error)) {
    std::fprintf(stderr, "kiteline: %s\n", error.c_str());
    log->error("start failed: {}", error);
    return 1;
  }
  connector.start_threads();
  for (;;) {
    int sig = 0;
    sigwait(&signals, &sig);
    if (sig == SIGHUP) {
      log->info("SIGHUP received (nothing to reload)");
      continue;
    }
    log->info("signal {} received, stopping", sig);
    break;
  }
  connector.stop();
  if (const auto why = connector.failure(); !why.empty()) {
    std::fprintf(stderr, "kiteline: %s\n", why.c_str());
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv, argv + argc);
  kiteline::config::environment env;
  if (const char* home = std::getenv("HOME")) {
    env.home = home;
  }
  auto outcome = kiteline::config::parse_command_line(args, env);
  for (const auto& w : outcome.warnings) {
    std::fprintf(stderr, "kiteline: warning: %s\n", w.to_string().c_str());
  }
  if (!outcome.ok()) {
    for (const auto& e : outcome.errors) {
      std::fprintf(stderr, "kiteline: %s\n", e.to_string().c_str());
    }
    std::fprintf(stderr, "kiteline: see 'kiteline --help'\n");
    return 2;
  }
  switch (outcome.what) {
    case action::help:
      std::fputs(outcome.help_text.c_str(), stdout);
      return 0;
    case action::version:
      std::printf("kiteline %s\n", KITELINE_VERSION);
      return 0;
    case action::check_config:
      std::printf("kiteline: configuration OK\n");
      return 0;
    case action::run_relay:
      return run_relay(*outcome.relay);
    case action::run_connector:
      return run_connector(*outcome.connector);
  }
  return 0;
}
