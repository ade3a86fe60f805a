// Key-isolation and certificate-reload test helpers (keys and certificates are in
// support/certificates.hpp): a TLS handshake probe reporting the served serial, a kiteline relay run
// as a child process, and a scan of another process's readable memory.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "support/certificates.hpp"
#include "support/temp_dir.hpp"
#include "support/test_env.hpp"

namespace kiteline::test {

/// The kiteline executable under test (KITELINE_BINARY, set by CMake).
[[nodiscard]] std::string kiteline_binary();

/// What one TLS handshake against the relay showed.
struct probe_result {
  bool ok = false;
  std::string serial;   ///< "0x.." of the certificate served
  std::string sigalg;   ///< the peer's signature type ("RSA-PSS", "RSA", "ECDSA")
  std::string version;  ///< "TLSv1.3" / "TLSv1.2"
  std::string error;
};

/// One TLS handshake (no verification) to 127.0.0.1:port with SNI `sni`; `tls_version` is
/// 0 (best) or TLS1_2_VERSION / TLS1_3_VERSION; `sigalgs` restricts the client's list ("" =
/// default). A wrapper of tls_handshake() (support/tls_client.hpp), bounded by test_timeout().
/// Any thread.
probe_result tls_probe(std::uint16_t port, const std::string& sni, int tls_version = 0,
                       const std::string& sigalgs = "");

/// `kiteline ROLE ...` as a child process (under a bounded lifetime), logging to a file: waits
/// until its standard output shows a line containing `ready`. The destructor stops it (SIGTERM,
/// then SIGKILL) and reaps it.
class child_kiteline {
 public:
  child_kiteline(std::string role, std::vector<std::string> args, const std::string& ready);
  ~child_kiteline();
  child_kiteline(const child_kiteline&) = delete;
  child_kiteline& operator=(const child_kiteline&) = delete;
  /// The `timeout` process; kiteline itself is its child (child_pids(pid(), role)).
  [[nodiscard]] pid_t pid() const noexcept { return pid_; }
  /// Standard output up to and including the ready line ("" if it never came).
  [[nodiscard]] const std::string& ready_line() const noexcept { return ready_line_; }
  [[nodiscard]] std::string log() const;
  /// Waits until the log contains `text`.
  [[nodiscard]] testing::AssertionResult wait_for_log(const std::string& text,
                                                      milliseconds timeout = test_timeout());
  /// Waits until the log contains `text` at least `n` times.
  [[nodiscard]] testing::AssertionResult wait_for_log_count(const std::string& text,
                                                            std::size_t n);

 private:
  temp_dir dir_{"child"};
  std::string role_;
  std::string logfile_;
  std::string ready_line_;
  pid_t pid_ = -1;
};

/// `kiteline frontend --ports=0 --domain=http,https,raw:*.test:s3cret ...` as a child process.
class child_relay : public child_kiteline {
 public:
  explicit child_relay(std::vector<std::string> args);
  [[nodiscard]] bool ok() const noexcept { return port_ != 0; }
  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }

 private:
  std::uint16_t port_ = 0;
};

/// `kiteline backend ...` as a child process; ok() once a kite went live on a relay.
class child_connector : public child_kiteline {
 public:
  explicit child_connector(std::vector<std::string> args);
  [[nodiscard]] bool ok() const noexcept { return !ready_line().empty(); }
};

/// Pids of the direct children of `parent` whose command line contains `needle`.
[[nodiscard]] std::vector<pid_t> child_pids(pid_t parent, const std::string& needle);

/// Scans every readable mapping of `pid` up to 1 GiB each (larger ones are sanitizer shadow
/// memory) through /proc/PID/maps + /proc/PID/mem for each needle.
/// Returns how many needles were found at least once; `where` names the first hit.
std::size_t scan_memory(pid_t pid, const std::vector<std::vector<std::uint8_t>>& needles,
                        std::string& where, std::uint64_t& bytes_scanned);

}  // namespace kiteline::test
