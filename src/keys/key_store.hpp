// Where private keys live: in this process, or in a separate key process (titus-style key
// isolation). Both hand out tls::certified_key pairs that install into any SSL_CTX.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <spdlog/logger.h>

#include "core/outcome.hpp"
#include "keys/errc.hpp"
#include "tls/key_pair.hpp"

namespace kiteline::keys {

/// Loads certificate/key pairs from pagekite.py PEM files (key + chain in one file).
/// Implementations are thread-safe: load() may run on any thread, and the keys they return
/// may be used by TLS handshakes on every worker at once.
class key_store {
 public:
  virtual ~key_store() = default;
  /// Reads `pem_file` (which must be one of the files the store was created with) and returns
  /// its chain and key, or a failure (tls::errc from the file, keys::errc from the key
  /// process). The certificate is checked against the key where the key is ("certificate does
  /// not match private key"). Blocking (file I/O and, when isolated, one round trip to the key
  /// process); any thread.
  virtual outcome<tls::certified_key> load(const std::string& pem_file) = 0;
  /// True when private keys live in a separate process.
  [[nodiscard]] virtual bool isolated() const noexcept = 0;
  /// The key process's own view of itself, "pid=N dumpable=D" ("" when not isolated).
  /// Blocking; any thread.
  [[nodiscard]] virtual std::string status_for_test() { return {}; }
};

/// Keys parsed and held in this process (--tls_keys_inprocess; embedding; tests).
std::shared_ptr<key_store> make_inprocess_key_store();

/// How to start the key process.
struct key_process_options {
  /// The kiteline executable, opened now (fexecve later, so a restart works after the binary
  /// is replaced on disk or after --chroot). "" = /proc/self/exe.
  std::string executable;
  /// The PEM files the key process may read; load() accepts only these.
  std::vector<std::string> pem_files;
  /// Channels (socketpairs) to the key process: that many handshakes can sign at once.
  unsigned channels = 2;
  std::shared_ptr<spdlog::logger> log;
};

/// Starts the key process (fork + exec of `kiteline --key-process`) and returns a store whose
/// keys are proxies: each private-key operation is one request over a socketpair. Fails with
/// errc::cannot_start when the process cannot be started. Call from the main thread at
/// start-up; the store is then thread-safe.
outcome<std::shared_ptr<key_store>> start_key_process(key_process_options opts);

/// The hidden `kiteline --key-process CHANNELS FILE...` mode: serves the channel sockets on fds
/// 3..3+CHANNELS-1 until they all close. Returns the process exit code. Runs on the key
/// process's main thread (one helper thread per channel).
int run_key_process(int argc, char** argv);

/// The argv[1] that selects run_key_process (checked by main before anything else).
inline constexpr const char* key_process_flag = "--key-process";

/// Reseeds OpenSSL's generator from fresh OS entropy. Call in a child right after fork(),
/// before any other use of RAND (OpenSSL 3 detects forks itself; kiteline does it anyway).
/// Returns false if the OS gave no entropy.
bool reseed_rng_after_fork();

}  // namespace kiteline::keys
