// TLS server contexts for the relay's --tls_endpoint names (OpenSSL 3 via asio::ssl).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "net/asio.hpp"
#include "tls/policy.hpp"

namespace kiteline::tls {

/// One certificate/key pair for a name (exact or "*.suffix").
struct endpoint {
  std::string name;
  std::shared_ptr<asio::ssl::context> context;
};

/// Loads a PEM file holding the private key and the certificate chain (pagekite.py format)
/// into a server context. Fails with a message naming the file when the key does not match
/// the certificate or either is missing.
std::shared_ptr<asio::ssl::context> make_server_context(const std::string& pem_file,
                                                        const protocol_policy& policy,
                                                        std::string& error);

/// The relay's TLS endpoints; immutable after start-up (reload swaps the whole set).
class endpoint_set {
 public:
  void add(endpoint e) { endpoints_.push_back(std::move(e)); }
  void set_default(std::string name) { default_name_ = std::move(name); }
  /// Exact name first, then "*." + the name without its first label (names with >= 3 labels,
  /// spec §6.5). An empty name means "no SNI": the --tls_default name is used.
  [[nodiscard]] const endpoint* find(std::string_view name) const;
  [[nodiscard]] bool empty() const noexcept { return endpoints_.empty(); }

 private:
  std::vector<endpoint> endpoints_;
  std::string default_name_;
};

}  // namespace kiteline::tls
