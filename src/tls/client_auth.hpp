// tls client_auth: mutual TLS. The relay asks connectors for a certificate from a configured CA
// (--tls_client_ca); the connector presents one (--tls_client_cert); a verified certificate's
// names authenticate kites (docs/tls.md).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/outcome.hpp"
#include "net/asio.hpp"
#include "tls/errc.hpp"

namespace kiteline::tls {

/// Server side: requests a client certificate in every handshake of `ctx` and verifies it
/// against the CAs in `ca_file` (PEM). A client without a certificate still completes the
/// handshake (it may authenticate kites with secrets); one with a certificate that does not
/// verify is refused in the handshake (alert "unknown ca" / "bad certificate"). Calling
/// thread, before the context is used. Fails with errc::ca_file.
outcome<void> request_client_certificates(SSL_CTX* ctx, const std::string& ca_file);

/// Server side, after the handshake: the names of the peer's certificate when it presented one
/// and it verified — its DNS subjectAltNames, or its CN when it has none (lower-cased). Empty
/// otherwise. The connection's executor.
std::vector<std::string> verified_peer_names(SSL* ssl);

/// True when one of `names` covers `domain`: equal (case-insensitive), or `*.suffix` with
/// exactly one label in place of the star (RFC 6125 wildcard rules).
bool names_cover(const std::vector<std::string>& names, std::string_view domain);

/// Client side: loads the private key and certificate chain of `pem_file` (one PEM) into `ctx`
/// and checks that they match. Calling thread, before the context is used. Fails with
/// errc::client_certificate.
outcome<void> use_client_certificate(SSL_CTX* ctx, const std::string& pem_file);

}  // namespace kiteline::tls
