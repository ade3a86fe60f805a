// The network side of key isolation, inside the keys module: the key_client (a key_store whose
// keys are proxies), one request on a channel, and the proxy keys' OpenSSL methods. Callers
// outside keys/ use key_store.hpp (start_key_process).
#pragma once

#include <openssl/types.h>
#include <openssl/x509.h>

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/outcome.hpp"
#include "keys/errc.hpp"
#include "keys/key_protocol.hpp"
#include "keys/key_store.hpp"

namespace kiteline::keys {

/// A bound on every wait for the key process (one private-key operation takes microseconds).
inline constexpr std::chrono::seconds reply_timeout{5};

/// Reads a native-order u32 from the front of `in`; false in `ok` when it is too short.
inline std::uint32_t get_u32(std::span<const std::uint8_t>& in, bool& ok) {
  std::uint32_t v = 0;
  if (in.size() < sizeof v) {
    ok = false;
    return 0;
  }
  std::memcpy(&v, in.data(), sizeof v);
  in = in.subspan(sizeof v);
  return v;
}

/// Sends one request on `fd` and waits (bounded) for its reply into `buf` (max_message
/// bytes). Fails with errc::key_process_down on I/O failure (the key process is then
/// considered dead); otherwise returns the reply's status, its payload in `out`.
/// (key_channel.cpp)
outcome<std::uint32_t> exchange(int fd, std::uint8_t* buf, const key_protocol::request_head& h,
                                std::span<const std::uint8_t> in, std::vector<std::uint8_t>& out);

/// The RSA and EC_KEY methods of the proxy keys (proxy_key.cpp): private operations become
/// requests through the key_client the key refers to.
class proxy_methods {
 public:
  proxy_methods() = default;
  ~proxy_methods();
  proxy_methods(const proxy_methods&) = delete;
  proxy_methods& operator=(const proxy_methods&) = delete;

  /// Creates both methods; false when OpenSSL cannot.
  bool init();
  RSA_METHOD* rsa() const noexcept { return rsa_; }
  EC_KEY_METHOD* ec() const noexcept { return ec_; }

 private:
  RSA_METHOD* rsa_ = nullptr;
  EC_KEY_METHOD* ec_ = nullptr;
};

class key_client;

/// A key whose private operations go to the key process as key `id` of `client`, built from
/// the public key of `leaf`. errc::unsupported_key for a key type or group it cannot proxy.
/// (proxy_key.cpp)
outcome<tls::pkey_ptr> make_proxy_key(X509* leaf, const proxy_methods& methods,
                                      std::shared_ptr<key_client> client, std::uint32_t id);

/// One loaded key: its file (index into the allowed list) and its leaf certificate (DER), so a
/// restarted key process can be told to load it again and checked to hold the same pair.
struct loaded_key {
  std::uint32_t file = 0;
  std::vector<std::uint8_t> leaf_der;
};

/// The key_store of an isolated relay: starts (and restarts) the key process and hands out
/// proxy keys. Thread-safe.
class key_client final : public key_store, public std::enable_shared_from_this<key_client> {
 public:
  explicit key_client(key_process_options opts) : opts_(std::move(opts)) {}
  ~key_client() override;
  key_client(const key_client&) = delete;
  key_client& operator=(const key_client&) = delete;

  outcome<void> start();
  outcome<tls::certified_key> load(const std::string& pem_file) override;
  [[nodiscard]] bool isolated() const noexcept override { return true; }
  [[nodiscard]] std::string status_for_test() override;

  /// One request/response, restarting the key process once if it died; the reply's payload in
  /// `out`. A reply with an error status fails with errc::refused and its text. Any thread.
  outcome<void> call(key_protocol::op what, std::uint32_t key_id, std::uint32_t param,
                     std::span<const std::uint8_t> in, std::vector<std::uint8_t>& out,
                     bool may_restart = true);
  /// Called from a proxy key's finish hook.
  void forget(std::uint32_t id);

 private:
  // The key process's life (key_process_spawn.cpp); called with mu_ held.
  outcome<void> spawn_locked();
  outcome<void> restart_locked();
  void stop_locked();

  /// A channel's receive buffer: max_message bytes, allocated once and never zeroed, so only
  /// the pages a reply touches become resident (a signature: one page).
  using reply_buffer = std::unique_ptr<std::uint8_t[]>;

  key_process_options opts_;
  int exe_fd_ = -1;
  proxy_methods methods_;

  std::mutex mu_;
  std::condition_variable cv_;
  pid_t pid_ = -1;
  bool alive_ = false;
  std::uint64_t generation_ = 0;
  std::vector<int> idle_;  // channels of the current generation not in use
  struct channel_state {
    int cpu = -1;        // CPU of its last request (a placement hint)
    reply_buffer reply;  // used only by the caller holding the channel
  };
  std::map<int, channel_state> channels_;  // by fd
  std::map<std::uint32_t, loaded_key> loaded_;
  std::uint32_t next_id_ = 1;
  std::chrono::steady_clock::time_point last_spawn_{};
};

}  // namespace kiteline::keys
