#include "support/tls_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <memory>

namespace kiteline::test {
namespace {

std::string openssl_errors() {
  std::string out;
  unsigned long e = 0;
  while ((e = ERR_get_error()) != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    out += (out.empty() ? "" : "; ") + std::string(buf);
  }
  return out;
}

/// "0x" + upper-case hex of the peer certificate's serial ("" without one).
std::string peer_serial(SSL* ssl) {
  X509* peer = SSL_get1_peer_certificate(ssl);
  if (peer == nullptr) {
    return {};
  }
  BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(peer), nullptr);
  char* hex = bn != nullptr ? BN_bn2hex(bn) : nullptr;
  std::string out = std::string("0x") + (hex != nullptr ? hex : "?");
  OPENSSL_free(hex);
  BN_free(bn);
  X509_free(peer);
  return out;
}

/// The server's signature type in TLS terms.
std::string peer_sigalg(SSL* ssl) {
  int nid = 0;
  const char* name = SSL_get_peer_signature_type_nid(ssl, &nid) == 1 ? OBJ_nid2sn(nid) : nullptr;
  const std::string sn = name != nullptr ? name : "?";
  if (sn == "rsaEncryption") {
    return "RSA";
  }
  if (sn == "id-ecPublicKey") {
    return "ECDSA";
  }
  if (sn == "RSASSA-PSS") {
    return "RSA-PSS";
  }
  return sn;
}

}  // namespace

tls_handshake_result tls_handshake(std::uint16_t port, const tls_client_options& opts) {
  // OpenSSL writes with write(2): a peer that already hung up (a refused name, a close_notify
  // after the server closed) must give an error value, not kill the test process (seen once
  // as LocalBackend.HttpsLocalKiteIsRoutedBySni dying of SIGPIPE on a loaded machine).
  std::signal(SIGPIPE, SIG_IGN);
  tls_handshake_result r;
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_client_method()),
                                                        SSL_CTX_free);
  if (opts.min_version != 0) {
    SSL_CTX_set_min_proto_version(ctx.get(), opts.min_version);
  }
  if (opts.max_version != 0) {
    SSL_CTX_set_max_proto_version(ctx.get(), opts.max_version);
  }
  if (!opts.ciphers.empty() && SSL_CTX_set_cipher_list(ctx.get(), opts.ciphers.c_str()) != 1) {
    r.error = "bad test cipher list: " + openssl_errors();
    return r;
  }
  if (!opts.sigalgs.empty() && SSL_CTX_set1_sigalgs_list(ctx.get(), opts.sigalgs.c_str()) != 1) {
    r.error = "bad test signature algorithms: " + openssl_errors();
    return r;
  }
  if (!opts.client_pem.empty() &&
      (SSL_CTX_use_certificate_chain_file(ctx.get(), opts.client_pem.c_str()) != 1 ||
       SSL_CTX_use_PrivateKey_file(ctx.get(), opts.client_pem.c_str(), SSL_FILETYPE_PEM) != 1)) {
    r.error = "cannot load the test client certificate: " + openssl_errors();
    return r;
  }
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  const auto limit = test_timeout();
  timeval tv{static_cast<time_t>(limit.count() / 1000), 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    r.error = "connect failed";
    return r;
  }
  std::unique_ptr<SSL, decltype(&SSL_free)> ssl(SSL_new(ctx.get()), SSL_free);
  SSL_set_fd(ssl.get(), fd);
  if (!opts.sni.empty()) {
    SSL_ctrl(ssl.get(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
             const_cast<char*>(opts.sni.c_str()));  // SSL_set_tlsext_host_name, minus its C cast
  }
  if (SSL_connect(ssl.get()) == 1) {
    r.ok = true;
    r.version = SSL_version(ssl.get());
    r.serial = peer_serial(ssl.get());
    r.sigalg = peer_sigalg(ssl.get());
    // TLS 1.3: the server's verdict on a client certificate arrives after the client's
    // Finished; one read shows it (an alert) or times out harmlessly on a healthy session.
    if (!opts.client_pem.empty() && r.version == TLS1_3_VERSION) {
      timeval shortwait{2, 0};
      ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &shortwait, sizeof shortwait);
      char byte = 0;
      if (SSL_read(ssl.get(), &byte, 1) <= 0 &&
          SSL_get_error(ssl.get(), 0) == SSL_ERROR_SSL) {
        r.ok = false;
        r.error = openssl_errors();
      }
    }
    SSL_shutdown(ssl.get());
  } else {
    r.error = openssl_errors();
    if (r.error.empty()) {
      r.error = "handshake failed (connection closed)";
    }
  }
  ERR_clear_error();
  ::close(fd);
  return r;
}

}  // namespace kiteline::test
