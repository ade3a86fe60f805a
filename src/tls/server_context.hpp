// TLS server contexts for the relay's --tls_endpoint names (OpenSSL 3 via asio::ssl).
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "net/asio.hpp"
#include "tls/key_pair.hpp"
#include "tls/policy.hpp"

namespace kiteline::tls {

/// One certificate/key pair for a name (exact or "*.suffix"). A certificate reload replaces
/// the context while workers use it, so it is read through context() (any thread); a
/// handshake keeps the shared_ptr it got, existing connections keep their SSL (and its
/// SSL_CTX reference).
class endpoint {
 public:
  endpoint(std::string name, std::shared_ptr<asio::ssl::context> context)
      : name_(std::move(name)), context_(std::move(context)) {}
  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  /// The current context. Any thread.
  [[nodiscard]] std::shared_ptr<asio::ssl::context> context() const {
    std::lock_guard lk(mu_);
    return context_;
  }
  /// Installs a new context for new handshakes. Any thread.
  void replace_context(std::shared_ptr<asio::ssl::context> context) {
    std::lock_guard lk(mu_);
    context_.swap(context);
  }

 private:
  std::string name_;
  mutable std::mutex mu_;
  std::shared_ptr<asio::ssl::context> context_;
};

/// A server context for `pair` (see tls/key_pair.hpp; the key may be a key-process proxy).
/// Fails with apply_policy's errors or errc::cannot_install_pair.
outcome<std::shared_ptr<asio::ssl::context>> make_server_context(const certified_key& pair,
                                                                 const protocol_policy& policy);

/// Loads a PEM file holding the private key and the certificate chain (pagekite.py format)
/// into a server context, with the key in this process. Fails with a message naming the file
/// when the key does not match the certificate or either is missing ("FILE: " + the reason).
outcome<std::shared_ptr<asio::ssl::context>> make_server_context(const std::string& pem_file,
                                                                 const protocol_policy& policy);

/// The relay's TLS endpoints: the set is fixed after start-up; each endpoint's context may be
/// replaced by a certificate reload.
class endpoint_set {
 public:
  endpoint& add(std::string name, std::shared_ptr<asio::ssl::context> context) {
    return *endpoints_.emplace_back(std::make_unique<endpoint>(std::move(name), std::move(context)));
  }
  void set_default(std::string name) { default_name_ = std::move(name); }
  /// Exact name first, then "*." + the name without its first label (names with >= 3 labels,
  /// spec §6.5). An empty name means "no SNI": the --tls_default name is used.
  [[nodiscard]] const endpoint* find(std::string_view name) const;
  [[nodiscard]] bool empty() const noexcept { return endpoints_.empty(); }

 private:
  std::vector<std::unique_ptr<endpoint>> endpoints_;
  std::string default_name_;
};

}  // namespace kiteline::tls
