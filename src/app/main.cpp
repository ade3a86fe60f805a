// kiteline entry point: parses the pagekite.py-compatible command line and runs the relay or
// the connector until SIGINT/SIGTERM. The only code tests do not link (style §2).
#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <optional>
#include <iostream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <malloc.h>
#include <netdb.h>
#include <pthread.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "config/parse.hpp"
#include "connector/client.hpp"
#include "console/role.hpp"
#include "app/access_log.hpp"
#include "app/drain.hpp"
#include "app/local_backends.hpp"
#include "app/log.hpp"
#include "app/privileges.hpp"
#include "app/service.hpp"
#include "relay/server.hpp"
#include "keys/key_store.hpp"
#include "tls/client_auth.hpp"
#include "tls/client_context.hpp"
#include "tls/policy.hpp"
#include "tls/server_context.hpp"

namespace {

using kiteline::config::action;

/// Blocks the stop/reload/dump signals in every thread (workers inherit the mask) so that main can
/// sigwait() for them: no signal handler, no global state.
sigset_t block_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  sigaddset(&set, SIGUSR1);  // state dump (console/role.hpp)
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  return set;
}

/// Raises the soft open-file limit to the hard one (Debian's soft default, 1024, is below what a
/// relay with thousands of visitors or a connector at --max_conns needs); logs when even the
/// hard limit is below `want` descriptors.
void raise_fd_limit(std::size_t want, spdlog::logger& log) {
  rlimit r{};
  if (::getrlimit(RLIMIT_NOFILE, &r) != 0) {
    return;
  }
  if (r.rlim_cur < r.rlim_max) {
    r.rlim_cur = r.rlim_max;
    (void)::setrlimit(RLIMIT_NOFILE, &r);
    (void)::getrlimit(RLIMIT_NOFILE, &r);
  }
  if (r.rlim_cur != RLIM_INFINITY && r.rlim_cur < want) {
    log.warn("open-file limit is {} (ulimit -n), below the {} this configuration may need; "
             "connections beyond it are refused",
             static_cast<unsigned long long>(r.rlim_cur), want);
  }
}

/// --chroot / --runas once ports are bound and files are open; logs the outcome. False: the
/// caller must exit (the error is printed and logged).
bool drop_privileges(const kiteline::config::process_config& p, spdlog::logger& log) {
  if (p.runas.empty() && p.chroot.empty()) {
    return true;
  }
  const auto summary = kiteline::app::drop_privileges(p.runas, p.chroot);
  if (!summary) {
    const std::string error = summary.error().message();
    std::fprintf(stderr, "kiteline: %s\n", error.c_str());
    log.error("refusing to run: {}", error);
    return false;
  }
  log.info("privileges dropped: {}", *summary);
  return true;
}

/// A start-up step failed: printed and logged; returns main's exit code.
int start_failed(spdlog::logger& log, const kiteline::failure& f) {
  const std::string error = f.message();
  std::fprintf(stderr, "kiteline: %s\n", error.c_str());
  log.error("start failed: {}", error);
  return 1;
}

/// --check-config: the effective TLS policy of `role`, as OpenSSL resolves it, on stdout.
/// Builds the contexts for real (relay: every --tls_endpoint PEM and the client CA), so a bad
/// file or cipher list fails here too. Returns the exit code.
int check_tls(const char* role, const std::string& protocols, bool legacy,
              const std::string& ciphers, const std::function<std::string(
                                                  const kiteline::tls::protocol_policy&)>& load) {
  std::vector<std::string> warnings;
  const auto policy = kiteline::tls::make_policy(protocols, legacy, ciphers, warnings);
  if (!policy) {
    std::fprintf(stderr, "kiteline: %s TLS protocol policy: %s\n", role,
                 policy.error().message().c_str());
    return 2;
  }
  asio::ssl::context ctx(role == std::string("relay") ? asio::ssl::context::tls_server
                                                      : asio::ssl::context::tls_client);
  std::string error;
  if (const auto applied = kiteline::tls::apply_policy(ctx.native_handle(), *policy); !applied) {
    error = applied.error().message();
  } else {
    error = load(*policy);
  }
  if (!error.empty()) {
    std::fprintf(stderr, "kiteline: %s TLS: %s\n", role, error.c_str());
    return 2;
  }
  std::printf("kiteline: configuration OK (%s)\n%s", role,
              kiteline::tls::format_report(role, kiteline::tls::describe(ctx.native_handle()))
                  .c_str());
  return 0;
}

int check_relay(const kiteline::config::relay_config& cfg) {
  return check_tls("relay", cfg.tls_protocols, cfg.tls_legacy, cfg.tls_ciphers,
                   [&](const kiteline::tls::protocol_policy& policy) {
                     for (const auto& e : cfg.tls_endpoints) {
                       const auto fail = [&](const kiteline::failure& f) {
                         return e.origin + ": tls_endpoint " + e.name + ": " + f.message();
                       };
                       auto ctx = kiteline::tls::make_server_context(e.pem_file, policy);
                       if (!ctx) {
                         return fail(ctx.error());
                       }
                       if (!cfg.tls_client_ca.empty()) {
                         if (const auto asked = kiteline::tls::request_client_certificates(
                                 (*ctx)->native_handle(), cfg.tls_client_ca);
                             !asked) {
                           return fail(asked.error());
                         }
                       }
                     }
                     return std::string();
                   });
}

int check_connector(const kiteline::config::connector_config& cfg) {
  return check_tls("connector", cfg.tls_protocols, cfg.tls_legacy, cfg.tls_ciphers,
                   [&](const kiteline::tls::protocol_policy& policy) {
                     kiteline::tls::client_settings st;
                     st.policy = policy;
                     st.no_verify = true;  // the CA file was checked by validate()
                     auto ctx = kiteline::tls::make_client_context(st);
                     if (!ctx) {
                       return ctx.error().message();
                     }
                     if (!cfg.tls_client_cert.empty()) {
                       if (const auto used = kiteline::tls::use_client_certificate(
                               (*ctx)->native_handle(), cfg.tls_client_cert);
                           !used) {
                         return used.error().message();
                       }
                     }
                     return std::string();
                   });
}

/// Inside a chroot, name lookups need the resolver files under DIR; load the NSS modules now
/// (they are dlopen()ed on first use) and warn when DIR lacks etc/resolv.conf or etc/hosts.
void prepare_connector_chroot(const kiteline::config::connector_config& cfg,
                              spdlog::logger& log) {
  if (cfg.process.chroot.empty()) {
    return;
  }
  addrinfo* res = nullptr;
  if (::getaddrinfo("localhost", nullptr, nullptr, &res) == 0) {
    ::freeaddrinfo(res);
  }
  for (const char* f : {"/etc/resolv.conf", "/etc/hosts"}) {
    struct stat st {};
    if (::stat((cfg.process.chroot + f).c_str(), &st) != 0) {
      log.warn("--chroot={}: no {} inside: relay names will not resolve after the chroot "
               "(copy it there, or give relays as addresses)",
               cfg.process.chroot, f);
    }
  }
}

/// SIGHUP: the log files are opened again (after logrotate renamed them); a file that cannot
/// be reopened keeps its old one and says why there.
void reopen_logs(spdlog::logger& log) {
  if (const std::string problems = kiteline::app::reopen_logs(log); !problems.empty()) {
    log.error("SIGHUP: log not reopened, still writing to the old file: {}", problems);
  }
}

int run_relay(const kiteline::config::relay_config& cfg,
              const std::optional<kiteline::config::connector_config>& local_cfg) {
  auto made = kiteline::app::make_logger("relay", cfg.process.logfile, cfg.process.loglevel);
  if (!made) {
    std::fprintf(stderr, "kiteline: %s\n", made.error().message().c_str());
    return 1;
  }
  const std::shared_ptr<spdlog::logger> log = *made;
  kiteline::app::service svc(cfg.process, log);
  if (const auto detached = svc.detach(); !detached) {  // --daemonize: before any thread
    return start_failed(*log, detached.error());
  }
  sigset_t signals = block_signals();
  raise_fd_limit(4096, *log);
  kiteline::relay::server relay(cfg, log);
  if (!cfg.tls_endpoints.empty() && !cfg.tls_keys_inprocess) {
    // Before any worker thread exists: the key process is this binary, exec'ed (fresh address
    // space and RNG; restartable at any time since exec needs no fork-safe state).
    kiteline::keys::key_process_options kp;
    for (const auto& e : cfg.tls_endpoints) {
      kp.pem_files.push_back(e.pem_file);
    }
    // One channel per worker: handshakes on different workers never wait for each other.
    const unsigned workers =
        cfg.process.threads != 0 ? cfg.process.threads : std::thread::hardware_concurrency();
    kp.channels = std::clamp(workers, 2U, 64U);
    kp.log = log;
    auto keys = kiteline::keys::start_key_process(std::move(kp));
    if (!keys) {
      return start_failed(*log, keys.error());
    }
    relay.set_key_store(std::move(*keys));
  }
  // After block_signals() (its writer thread must not take them) and the key process.
  const auto access_log = kiteline::app::open_access_log(cfg.process);
  if (!access_log) {
    return 1;
  }
  relay.set_access_log(*access_log);
  if (const auto started = relay.start(); !started) {
    return start_failed(*log, started.error());
  }
  auto local = kiteline::app::start_local_backends(relay, local_cfg, log);  // --service_on
  if (!local) {
    return start_failed(*log, local.error());
  }
  if (const auto written = svc.write_pidfile(); !written) {
    return start_failed(*log, written.error());
  }
  auto console =
      kiteline::console::start_relay_console(relay, cfg.process.console, KITELINE_VERSION, log);
  if (!console) {
    return start_failed(*log, console.error());
  }
  // Ports are bound, certificates and the log file are open: now --chroot and --runas.
  if (!drop_privileges(cfg.process, *log)) {
    return 1;
  }
  std::string ports;
  for (auto p : relay.bound_ports()) {
    ports += (ports.empty() ? "" : ",") + std::to_string(p);
  }
  // Machine-readable line for scripts and tests binding port 0 (style §9); the console's URL
  // comes last, and only with --httpd, so parsers of "ports=N" keep working.
  const std::string console_url = *console ? " console=" + (*console)->url() : std::string();
  std::printf("kiteline relay ready ports=%s%s\n", ports.c_str(), console_url.c_str());
  std::fflush(stdout);
  svc.ready("relay ready ports=" + ports);
  relay.start_threads();
  if (*local) {
    (*local)->start_threads();
  }
  kiteline::app::drain_control drain(cfg.process.grace_seconds, *log);
  for (;;) {
    int sig = 0;
    sigwait(&signals, &sig);
    if (sig == SIGHUP) {
      reopen_logs(*log);
      log->info("SIGHUP received: reloading certificates");
      relay.reload_certificates();
      kiteline::app::reopen_access_log(*access_log, *log);
      continue;
    }
    if (sig == SIGUSR1) {
      kiteline::console::log_state_dump(relay, *log);
      continue;
    }
    if (drain.begin(sig)) {
      svc.stopping("draining (signal " + std::to_string(sig) + ")");
      relay.drain(drain.grace(), [&drain](const auto&) { drain.finished(); });
      continue;
    }
    svc.stopping("stopping (signal " + std::to_string(sig) + ")");
    break;
  }
  console->reset();  // its pages read the relay
  if (*local) {
    (*local)->stop();
  }
  relay.stop();
  return 0;
}

int run_connector(const kiteline::config::connector_config& cfg) {
  auto made =
      kiteline::app::make_logger("connector", cfg.process.logfile, cfg.process.loglevel);
  if (!made) {
    std::fprintf(stderr, "kiteline: %s\n", made.error().message().c_str());
    return 1;
  }
  const std::shared_ptr<spdlog::logger> log = *made;
  kiteline::app::service svc(cfg.process, log);
  if (const auto detached = svc.detach(); !detached) {  // --daemonize: before any thread
    return start_failed(*log, detached.error());
  }
  sigset_t signals = block_signals();
  raise_fd_limit(cfg.max_conns + 64, *log);
  kiteline::connector::client_options opts;
  // Machine-readable line for scripts and tests: printed on the worker when a kite goes live.
  // Then, once per kite, a line for people: the URL visitors use.
  auto urls = std::make_shared<kiteline::app::kite_url_printer>();
  opts.on_kite_live = [urls](const std::string& kite, const std::string& relay) {
    std::printf("kiteline connector: kite %s live on relay %s\n", kite.c_str(), relay.c_str());
    std::fflush(stdout);
    urls->kite_live(kite, relay);
  };
  // --all gave up: wake the sigwait() below (the signal is blocked in every thread). SIGINT:
  // stop at once (SIGTERM would drain).
  opts.on_fatal = [](const std::string&) { ::kill(::getpid(), SIGINT); };
  if (!cfg.tls_client_cert.empty() && !cfg.tls_keys_inprocess) {
    // As for the relay: the client certificate's private key lives in a key process started
    // before any worker thread exists; the network process only asks it for signatures.
    kiteline::keys::key_process_options kp;
    kp.pem_files.push_back(cfg.tls_client_cert);
    kp.channels = 2;
    kp.log = log;
    auto keys = kiteline::keys::start_key_process(std::move(kp));
    if (!keys) {
      return start_failed(*log, keys.error());
    }
    opts.keys = std::move(*keys);
  }
  const auto access_log = kiteline::app::open_access_log(cfg.process);
  if (!access_log) {
    return 1;
  }
  opts.access_log = *access_log;
  // Tests only (tests/interop/dyndns_test.sh, docs/operations.md): the --dyndns back-off unit
  // in milliseconds instead of pagekite.py's 56 s, so a retry is seen within a test's time.
  if (const char* ms = std::getenv("KITELINE_TEST_DYNDNS_BACKOFF_MS")) {
    const long v = std::strtol(ms, nullptr, 10);
    if (v > 0) {
      opts.dyndns_backoff = std::chrono::milliseconds(v);
      log->warn("KITELINE_TEST_DYNDNS_BACKOFF_MS: --dyndns back-off unit {} ms (a test knob)", v);
    }
  }
  kiteline::connector::client connector(cfg, log, std::move(opts));
  if (const auto started = connector.start(); !started) {
    return start_failed(*log, started.error());
  }
  if (const auto written = svc.write_pidfile(); !written) {
    return start_failed(*log, written.error());
  }
  auto console = kiteline::console::start_connector_console(connector, cfg.process.console,
                                                           KITELINE_VERSION, log);
  if (!console) {
    return start_failed(*log, console.error());
  }
  if (*console) {
    std::printf("kiteline connector console=%s\n", (*console)->url().c_str());
    std::fflush(stdout);
  }
  prepare_connector_chroot(cfg, *log);
  if (!drop_privileges(cfg.process, *log)) {
    return 1;
  }
  svc.ready("connector running");
  connector.start_threads();
  kiteline::app::drain_control drain(cfg.process.grace_seconds, *log);
  for (;;) {
    int sig = 0;
    sigwait(&signals, &sig);
    if (sig == SIGHUP) {
      reopen_logs(*log);
      log->info("SIGHUP received: log reopened");
      kiteline::app::reopen_access_log(*access_log, *log);
      continue;
    }
    if (sig == SIGUSR1) {
      kiteline::console::log_state_dump(connector, *log);
      continue;
    }
    if (drain.begin(sig)) {
      svc.stopping("draining (signal " + std::to_string(sig) + ")");
      connector.drain(drain.grace(), [&drain](const auto&) { drain.finished(); });
      continue;
    }
    svc.stopping("stopping (signal " + std::to_string(sig) + ")");
    break;
  }
  console->reset();  // its pages read the connector
  connector.stop();
  if (const auto why = connector.failure(); !why.empty()) {
    std::fprintf(stderr, "kiteline: %s\n", why.c_str());
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Process-wide allocator policy (the binary's choice, not the library's): blocks of 128 KiB
  // and more (the bulk buffers of a busy tunnel, 256 to 512 KiB each) are mapped on their own and
  // given back to the system when freed. glibc's default raises this threshold after the
  // first such free, so later bulk buffers come from the heap and, once freed, may stay
  // resident there.
  (void)::mallopt(M_MMAP_THRESHOLD, 128 * 1024);
  if (argc >= 2 && std::string_view(argv[1]) == kiteline::keys::key_process_flag) {
    return kiteline::keys::run_key_process(argc, argv);
  }
  std::vector<std::string> args(argv, argv + argc);
  kiteline::config::environment env;
  if (const char* home = std::getenv("HOME")) {
    env.home = home;
  }
  env.tls = kiteline::tls::linked_support();
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
      return outcome.relay ? check_relay(*outcome.relay) : check_connector(*outcome.connector);
    case action::run_relay:
      return run_relay(*outcome.relay, outcome.local_backends);
    case action::run_connector:
      return run_connector(*outcome.connector);
  }
  return 0;
}
