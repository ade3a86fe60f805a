// TLS client context for the connector: relay verification by CA + name, or SHA-1 pins.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "net/asio.hpp"
#include "tls/policy.hpp"

namespace kiteline::tls {

/// An acceptable relay certificate name (--fe_certname), optionally pinned to the SHA-1 of
/// the DER certificate (NAME/DIGEST form, lower-case hex).
struct cert_name {
  std::string name;
  std::optional<std::string> sha1_pin;
};

struct client_settings {
  std::vector<cert_name> names;  ///< empty + !no_verify = verify chain only against the CA
  std::string ca_file;           ///< "" = system store
  bool no_verify = false;        ///< --fe_nocertcheck
  protocol_policy policy;
};

/// Builds the client context (verification per settings). Fails with apply_policy's errors or
/// errc::ca_file.
outcome<std::shared_ptr<asio::ssl::context>> make_client_context(const client_settings& s);

/// After a completed handshake: checks the chain verdict, then that the leaf certificate's
/// CN or a DNS SAN matches one of the names (exact or wildcard), or that a pin matches.
/// Returns "" when acceptable, else the reason ("certificate verify failed: ...",
/// "certificate name mismatch: ...", "certificate pin mismatch: got ...").
std::string check_peer(SSL* ssl, const client_settings& s);

/// Lower-case hex SHA-1 of the peer's DER certificate ("" if none).
std::string peer_sha1(SSL* ssl);

}  // namespace kiteline::tls
