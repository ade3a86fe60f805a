// An in-process relay::server on 127.0.0.1 with an ephemeral port, a capturing logger and an
// optional self-signed TLS endpoint: the fixture of the relay integration tests.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <spdlog/logger.h>
#include <spdlog/sinks/base_sink.h>

#include "config/relay_config.hpp"
#include "relay/server.hpp"
#include "keys/key_store.hpp"
#include "support/certificates.hpp"
#include "support/test_env.hpp"

namespace kiteline::test {

/// An spdlog sink keeping every formatted line in memory (thread-safe), so tests can assert
/// log lines. Attach it to a per-test logger (never the global registry).
class capture_sink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  /// Copy of every line logged so far. Any thread.
  [[nodiscard]] std::vector<std::string> lines();
  /// True if some line contains every one of `parts`. Any thread.
  [[nodiscard]] bool contains(std::initializer_list<std::string_view> parts);
  /// Number of lines containing `part`. Any thread.
  [[nodiscard]] std::size_t count(std::string_view part);

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override;
  void flush_() override {}

 private:
  std::vector<std::string> lines_;  // guarded by base_sink::mutex_
};

/// A private logger "name" at debug level writing to `sink` (and nothing else).
std::shared_ptr<spdlog::logger> make_capture_logger(const std::string& name,
                                                    const std::shared_ptr<capture_sink>& sink);

/// The shared secret and domain rule of the default relay: `--domain=http,https,raw:*.test:s3cret`.
inline constexpr std::string_view default_secret = "s3cret";

/// How to build the relay. Defaults match the captured vectors' front-end: --protos=http,https,
/// raw, --rawports=virtual, --domain=http,https,raw:*.test:s3cret, one worker.
struct relay_options {
  unsigned threads = 1;
  std::size_t buffers_kib = 0;      ///< --buffers; 0 = the relay's default
  std::optional<unsigned> evict_after_s;  ///< --evict_after; none = the relay's default
  std::chrono::seconds visitor_timeout{10};
  std::vector<std::string> protos{"http", "https", "raw"};
  /// Extra --domain rules "PROTOS:DOMAIN:SECRET" (the default *.test rule is always there).
  std::vector<std::string> extra_domains;
  /// TLS endpoint names (one self-signed cert covering all of them); empty = no TLS.
  std::vector<std::string> tls_names;
  std::string tls_default;
  bool nozchunks = false;
  /// Use this key + chain PEM for the tls_names instead of a generated certificate.
  std::string tls_pem_file;
  /// Where the endpoint keys live (e.g. keys::start_key_process); null = in this process.
  std::shared_ptr<keys::key_store> key_store;
  /// More command-line arguments (e.g. "--tls_reload_seconds=1").
  /// More command-line words, appended last (e.g. "--tls_legacy", "--tls_client_ca=FILE").
  std::vector<std::string> extra_args;
};

/// A running relay. Construct, check `ok()`, use `port()`; the destructor stops it.
class loopback_relay {
 public:
  explicit loopback_relay(relay_options opts = {});
  ~loopback_relay();
  loopback_relay(const loopback_relay&) = delete;
  loopback_relay& operator=(const loopback_relay&) = delete;

  [[nodiscard]] bool ok() const noexcept { return error_.empty(); }
  [[nodiscard]] const std::string& error() const noexcept { return error_; }
  [[nodiscard]] std::uint16_t port() const { return server_->bound_ports().at(0); }
  [[nodiscard]] relay::server& server() noexcept { return *server_; }
  [[nodiscard]] capture_sink& log() noexcept { return *sink_; }
  [[nodiscard]] const config::relay_config& config() const noexcept { return cfg_; }
  /// The CA file that verifies the relay's TLS endpoints ("" without TLS).
  [[nodiscard]] std::string ca_file() const { return cert_ ? cert_->cert_file() : std::string(); }
  /// Waits until a log line contains every part.
  [[nodiscard]] testing::AssertionResult wait_for_log(std::initializer_list<std::string_view> parts,
                                                      milliseconds timeout = test_timeout());
  /// Waits until the registry routes (proto, domain, port) (found = true) or no longer does.
  [[nodiscard]] testing::AssertionResult wait_for_route(std::string_view proto,
                                                        std::string_view domain, bool found);
  /// Dumps the captured log (for failure diagnostics).
  [[nodiscard]] std::string log_dump();

 private:
  config::relay_config cfg_;
  std::unique_ptr<test_cert> cert_;
  std::shared_ptr<capture_sink> sink_;
  std::unique_ptr<relay::server> server_;
  std::string error_;
};

}  // namespace kiteline::test
