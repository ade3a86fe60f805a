#include "tls/server_context.hpp"

#include <openssl/ssl.h>

#include <algorithm>

#include "core/text.hpp"
#include "tls/key_pair.hpp"
#include "tls/openssl_error.hpp"
#include "tls/record_protection.hpp"

namespace kiteline::tls {

outcome<std::shared_ptr<asio::ssl::context>> make_server_context(const certified_key& pair,
                                                                 const protocol_policy& policy) {
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
  SSL_CTX* c = ctx->native_handle();
  ::SSL_CTX_set_options(c, SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                               SSL_OP_NO_RENEGOTIATION);
  if (policy.own_records) {
    enable_traffic_secrets(c);  // tls::tls_stream moves TLS 1.3 records itself
  }
  if (outcome<void> applied = apply_policy(c, policy); !applied) {
    return applied.error();
  }
  ::SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_SERVER);
  // libssl's record buffers (about 34 KiB) are given back when empty: after a TLS 1.3 handshake
  // tls_stream moves the records itself, and an idle tunnel or visitor needs none of them.
  ::SSL_CTX_set_mode(c, SSL_MODE_RELEASE_BUFFERS);
  if (auto problem = install_certified_key(c, pair); !problem.empty()) {
    return failure(errc::cannot_install_pair, problem);
  }
  return ctx;
}

outcome<std::shared_ptr<asio::ssl::context>> make_server_context(const std::string& pem_file,
                                                                 const protocol_policy& policy) {
  auto pair = load_certified_key(pem_file);
  if (!pair) {
    return pair.error().prefixed(pem_file + ": ");
  }
  return make_server_context(*pair, policy);
}

const endpoint* endpoint_set::find(std::string_view name) const {
  if (name.empty()) {
    if (default_name_.empty()) {
      return nullptr;
    }
    name = default_name_;
  }
  for (const auto& e : endpoints_) {
    if (ascii_iequals(e->name(), name)) {
      return e.get();
    }
  }
  // "*." + everything after the first label, for names with at least three labels.
  if (std::count(name.begin(), name.end(), '.') >= 2) {
    std::string wild = "*" + std::string(name.substr(name.find('.')));
    for (const auto& e : endpoints_) {
      if (ascii_iequals(e->name(), wild)) {
        return e.get();
      }
    }
  }
  return nullptr;
}

}  // namespace kiteline::tls
