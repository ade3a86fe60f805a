// kiteline entry point: parses the pagekite.py-compatible command line and runs the relay or
// the connector until SIGINT/SIGTERM. The only code tests do not link (style §2).
#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <pthread.h>

#include "config/parse.hpp"
#include "connector/client.hpp"
#include "net/log.hpp"
#include "relay/server.hpp"
#include "tls/key_store.hpp"

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
  if (!cfg.tls_endpoints.empty() && !cfg.tls_keys_inprocess) {
    // Before any worker thread exists: the key process is this binary, exec'ed (fresh address
    // space and RNG; restartable at any time since exec needs no fork-safe state).
    kiteline::tls::key_process_options kp;
    for (const auto& e : cfg.tls_endpoints) {
      kp.pem_files.push_back(e.pem_file);
    }
    // One channel per worker: handshakes on different workers never wait for each other.
    const unsigned workers =
        cfg.process.threads != 0 ? cfg.process.threads : std::thread::hardware_concurrency();
    kp.channels = std::clamp(workers, 2U, 64U);
    kp.log = log;
    auto keys = kiteline::tls::start_key_process(std::move(kp), error);
    if (!keys) {
      std::fprintf(stderr, "kiteline: %s\n", error.c_str());
      log->error("start failed: {}", error);
      return 1;
    }
    relay.set_key_store(std::move(keys));
  }
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
      log->info("SIGHUP received: reloading certificates");
      relay.reload_certificates();
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
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && std::string_view(argv[1]) == kiteline::tls::key_process_flag) {
    return kiteline::tls::run_key_process(argc, argv);
  }
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
