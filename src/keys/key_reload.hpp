// Certificate reload without restart (sslmate's failsafe): a new pair replaces an endpoint's
// context only if it matches its key, is currently valid and verifies against the CA.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <spdlog/logger.h>

#include "keys/key_store.hpp"
#include "tls/server_context.hpp"

namespace kiteline::keys {

/// What identifies a version of a file: device, inode, size and mtime (ns).
struct file_stamp {
  std::uint64_t dev = 0;
  std::uint64_t ino = 0;
  std::int64_t size = -1;
  std::int64_t mtime_ns = 0;
  friend bool operator==(const file_stamp&, const file_stamp&) = default;
};

/// stat() of `path`; a default stamp (size -1) when it cannot be read. With `dir_fd` >= 0 (an
/// O_PATH descriptor of the file's directory) the file's last path component is looked up
/// there instead, which still works after --chroot.
file_stamp stamp_of(const std::string& path, int dir_fd = -1);

/// Owns the reloadable endpoints of one relay. Not thread-safe: add() on the start-up thread,
/// reload() on one worker afterwards (the relay uses worker 0). The endpoints' contexts are
/// swapped under their own lock, so other workers keep handshaking meanwhile.
class certificate_reloader {
 public:
  /// `ca_file`: a (re)loaded certificate must verify against it ("" = no check);
  /// `client_ca`: every context asks connectors for a client certificate from it (mutual
  /// TLS, "" = off).
  certificate_reloader(std::shared_ptr<key_store> keys, tls::protocol_policy policy,
                       std::string ca_file, std::string client_ca,
                       std::shared_ptr<spdlog::logger> log);
  ~certificate_reloader();
  certificate_reloader(const certificate_reloader&) = delete;
  certificate_reloader& operator=(const certificate_reloader&) = delete;

  /// Start-up: loads `pem_file` through the key store (a key that does not match the
  /// certificate is an error; an invalid or unverifiable certificate only a warning, so a
  /// relay starts as before), adds `name` to `set` and watches the file. The key store's or
  /// the TLS layer's failure otherwise.
  outcome<void> add(tls::endpoint_set& set, const std::string& name, const std::string& pem_file);

  /// Checks every watched file. `forced` (SIGHUP): load every pair again; otherwise only files
  /// whose stamp changed. Each change is logged: installed, unchanged, or refused with the
  /// reason (the old pair then stays). Blocking (file I/O, key process round trips).
  void reload(bool forced);

 private:
  struct slot {
    tls::endpoint* target = nullptr;
    std::string pem_file;
    int dir_fd = -1;  ///< O_PATH fd of the file's directory, opened before --chroot
    file_stamp stamp;
    std::string serial;
    std::vector<std::uint8_t> leaf_der;
  };
  /// Loads + checks into `pair`; returns the context, or why not (strict: a certificate that
  /// is not valid now or does not verify is errc::certificate_refused).
  outcome<std::shared_ptr<asio::ssl::context>> build(const std::string& pem_file,
                                                     tls::certified_key& pair, bool strict);

  std::shared_ptr<key_store> keys_;
  tls::protocol_policy policy_;
  std::string ca_file_;
  std::string client_ca_;
  std::shared_ptr<spdlog::logger> log_;
  std::vector<slot> slots_;
};

}  // namespace kiteline::keys
