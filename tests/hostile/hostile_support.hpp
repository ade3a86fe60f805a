// The hostile suite's tools: the real kiteline binary as a child process (a relay or a
// connector, measured from /proc), loopback origins that misbehave, raw tunnels that send what
// no honest connector would and never read, and a probe that keeps visiting a healthy kite.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "support/key_material.hpp"
#include "support/test_env.hpp"
#include "wire/handshake.hpp"

namespace kiteline::hostile {

using test::milliseconds;
using namespace std::chrono_literals;

/// The kiteline binary under attack: $KITELINE_HOSTILE_BINARY if set (to measure another
/// build with the same attacks), else the one CMake built.
[[nodiscard]] std::string kiteline_binary();

/// Prints one measured figure as "[hostile] <row>: <what> = <value>" (the closing note's "now"
/// column is collected from these lines).
void report(std::string_view row, std::string_view what, const std::string& value);

/// One kiteline process. stdout and stderr go to a log file in its own temp dir. The
/// destructor sends SIGINT (stop at once, no drain), then SIGKILL after 5 s, and reaps it.
class process {
 public:
  /// Starts `kiteline_binary() args...` (with --clean prepended so ~/.pagekite.rc is ignored).
  explicit process(std::vector<std::string> args);
  ~process();
  process(const process&) = delete;
  process& operator=(const process&) = delete;

  [[nodiscard]] pid_t pid() const noexcept { return pid_; }
  [[nodiscard]] bool alive() const;
  /// Everything it printed so far.
  [[nodiscard]] std::string output() const;
  /// Number of output lines containing `needle`.
  [[nodiscard]] std::size_t count(std::string_view needle) const;
  /// Waits until some output line contains every part; the failure shows the output's tail.
  [[nodiscard]] testing::AssertionResult wait_output(std::initializer_list<std::string_view> parts,
                                                     milliseconds timeout = test::test_timeout());
  /// The rest of the first output line that starts with `prefix` (after it), if any.
  [[nodiscard]] std::optional<std::string> line_after(std::string_view prefix) const;
  /// VmRSS / VmHWM (peak RSS) in KiB from /proc/PID/status; 0 if unreadable.
  [[nodiscard]] std::uint64_t rss_kib() const;
  [[nodiscard]] std::uint64_t peak_rss_kib() const;
  /// Open file descriptors (entries of /proc/PID/fd).
  [[nodiscard]] std::size_t fd_count() const;
  /// The last `n` output lines (for failure messages).
  [[nodiscard]] std::string tail(std::size_t n = 30) const;
  /// Waits up to `timeout` for the process to exit and reaps it: its wait status, or nullopt
  /// if it is still running (it is left running).
  [[nodiscard]] std::optional<int> wait_exit(milliseconds timeout);

 private:
  test::temp_dir dir_;
  std::string log_;
  pid_t pid_ = -1;
};

/// Options of a relay process. Always: --host=127.0.0.1 --ports=0 --protos=http,https,raw
/// --rawports=virtual --domain=http,https,raw:*.test:s3cret --logfile=stdio.
struct relay_setup {
  std::vector<std::string> extra;  ///< more options, e.g. "--buffers=4096"
  std::string host = "127.0.0.1";  ///< --host (e.g. "::1" for a second relay on the same port)
  std::uint16_t port = 0;          ///< --ports (0: the kernel picks)
};

/// A kiteline relay; port() is read from its "kiteline relay ready ports=N" line.
class relay_process {
 public:
  explicit relay_process(const relay_setup& setup = {});
  [[nodiscard]] bool ok() const noexcept { return port_ != 0; }
  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
  [[nodiscard]] process& proc() noexcept { return proc_; }

 private:
  process proc_;
  std::uint16_t port_ = 0;
};

/// A kiteline connector serving `kite` (http) from 127.0.0.1:`origin_port` through the relay on
/// `relay_port` (plain tunnel), secret s3cret. ok() once it printed "kite ... live".
class connector_process {
 public:
  connector_process(std::uint16_t relay_port, const std::string& kite, std::uint16_t origin_port,
                    std::vector<std::string> extra = {});
  [[nodiscard]] bool ok() const noexcept { return live_; }
  [[nodiscard]] process& proc() noexcept { return proc_; }

 private:
  process proc_;
  bool live_ = false;
};

/// Raises this process's open-file soft limit to its hard limit (children inherit it).
void raise_fd_limit();

/// A TCP connection to 127.0.0.1:port (blocking fd, TCP_NODELAY); -1 on failure.
int connect_loopback(std::uint16_t port, int rcvbuf = 0);
/// Sends all of `data` (blocking); false on error.
bool send_all(int fd, std::string_view data);
/// Reads until the end of an HTTP-style head ("\r\n\r\n"), or timeout/EOF; returns the head
/// and leaves what followed in `rest`.
std::string read_head(int fd, milliseconds timeout, std::string* rest = nullptr);

/// Bytes sent by a flood and whether the peer stopped taking them (the socket stayed blocked
/// for `stall` while there was more to send).
struct flood_result {
  std::uint64_t sent = 0;
  bool stalled = false;
  bool reset = false;  ///< the peer closed the connection (EPIPE/ECONNRESET)
};
/// Sends `unit` over and over on `fd` (made non-blocking) for up to `duration` or `max_bytes`,
/// never reading. Stops early when the socket stayed unwritable for `stall`.
flood_result flood(int fd, std::string_view unit, std::chrono::milliseconds duration,
                   std::uint64_t max_bytes, std::chrono::milliseconds stall = 2000ms);

/// A PageKite chunk: "<hex size>\r\n<payload>".
std::string frame(std::string_view payload);
/// A Z frame whose payload `plain` is deflated with a fresh zlib stream (the R flag set, so
/// the receiver resets its inflater first): "<size>Z<zsize>R\r\n<deflated>".
std::string zframe(std::string_view plain);

/// A tunnel the test drives byte by byte. connect_flow_b(): round one with AddKites and an
/// empty FSALT for `kites` (the relay answers SignThis and keeps the connection on probation);
/// connect_flow_a(): both rounds, signed with `secret` (the tunnel serves the kites).
class raw_tunnel {
 public:
  raw_tunnel() = default;
  ~raw_tunnel();
  raw_tunnel(const raw_tunnel&) = delete;
  raw_tunnel& operator=(const raw_tunnel&) = delete;

  /// Round one only; true when the relay answered 200 with a SignThis.
  bool connect_flow_b(std::uint16_t port, const std::string& domain, bool zchunks = false,
                      const std::string& source_ip = "127.0.0.1");
  /// Both rounds (Flow A: the second on a new connection); true when the kite got OK.
  bool connect_flow_a(std::uint16_t port, const std::string& domain,
                      const std::string& secret = "s3cret", bool zchunks = false,
                      const std::string& version = "1.5.2.201011");
  [[nodiscard]] int fd() const noexcept { return fd_; }
  /// The response head of the last round, and the request that got it.
  [[nodiscard]] const std::string& head() const noexcept { return head_; }
  [[nodiscard]] const std::string& request() const noexcept { return request_; }
  /// Sends `request` verbatim on a new connection (a captured round replayed); true when the
  /// relay answered with a parseable response head.
  bool replay(std::uint16_t port, const std::string& request);
  void close();

 private:
  bool round(std::uint16_t port, const std::vector<wire::kite_request>& kites, bool zchunks,
             const std::string& version, const std::string& source_ip);
  bool send_round(std::uint16_t port, const std::string& request, const std::string& source_ip);
  int fd_ = -1;
  std::string head_;
  std::string request_;
  wire::handshake_response response_;
};

/// A loopback origin that accepts connections and never answers (it reads and drops what
/// arrives, and never closes until destroyed). One thread, poll-based.
class silent_origin {
 public:
  silent_origin();
  ~silent_origin();
  silent_origin(const silent_origin&) = delete;
  silent_origin& operator=(const silent_origin&) = delete;
  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
  /// Connections accepted so far / open now.
  [[nodiscard]] std::size_t accepted() const noexcept { return accepted_.load(); }
  [[nodiscard]] std::size_t open() const noexcept { return open_.load(); }

 private:
  void loop();
  int fd_ = -1;
  int wake_[2] = {-1, -1};
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<std::size_t> accepted_{0};
  std::atomic<std::size_t> open_{0};
  std::thread thread_;
};

/// Visits a healthy kite over and over on its own thread while an attack runs: GET
/// /bytes/`bytes` with Host `host`, each visit bounded by `each` and checked byte-exact
/// (SHA-256 of pattern(7), as test::http_origin serves it).
class prober {
 public:
  prober(std::uint16_t relay_port, std::string host, std::size_t bytes = 64 * 1024,
         milliseconds each = 10000ms);
  ~prober();
  prober(const prober&) = delete;
  prober& operator=(const prober&) = delete;
  /// Stops after the visit in progress and joins.
  void stop();
  [[nodiscard]] std::uint64_t successes() const noexcept { return ok_.load(); }
  [[nodiscard]] std::uint64_t failures() const noexcept { return failed_.load(); }
  /// The longest visit so far, in milliseconds.
  [[nodiscard]] std::uint64_t slowest_ms() const noexcept { return slowest_ms_.load(); }
  /// What the first failed visit saw (status, bytes), for the assertion message.
  [[nodiscard]] std::string first_failure() const;
  /// Waits until `n` more visits succeeded than when called.
  [[nodiscard]] testing::AssertionResult wait_successes(std::uint64_t n,
                                                        milliseconds timeout = test::test_timeout());

 private:
  void loop();
  std::uint16_t port_;
  std::string host_;
  std::size_t bytes_;
  milliseconds each_;
  std::string expect_;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> ok_{0};
  std::atomic<std::uint64_t> failed_{0};
  std::atomic<std::uint64_t> slowest_ms_{0};
  mutable std::mutex mu_;
  std::string first_failure_;
  std::thread thread_;
};

/// MiB with one decimal, for reports.
std::string mib(std::uint64_t kib);

}  // namespace kiteline::hostile
