// The proxy keys: an RSA / EC_KEY built from a certificate's public key whose private
// operations are requests to the key process (through the key_client the key refers to).
//
// Why the legacy RSA_METHOD / EC_KEY_METHOD hooks and not an OpenSSL 3 provider: a key with a
// non-default method is "foreign" to OpenSSL 3, so every EVP operation on it (TLS 1.2 and 1.3
// CertificateVerify / ServerKeyExchange, PKCS#1 v1.5 and PSS, ECDSA) takes the legacy path and
// ends in exactly two hooks: RSA private encrypt/decrypt (PSS and DigestInfo encoding are done
// by libcrypto before the hook) and ECDSA sign. A provider needs keymgmt + signature + asym
// cipher implementations that redo that encoding. The hooks are deprecated in 3.0 but
// supported throughout 3.x; the deprecation warnings are silenced in this file only.
#define OPENSSL_SUPPRESS_DEPRECATED 1  // RSA_METHOD / EC_KEY_METHOD, see above

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/rsa.h>

#include <cstring>

#include "keys/key_client.hpp"
#include "tls/openssl_error.hpp"

namespace kiteline::keys {

namespace {

using key_protocol::op;

/// What a proxy key carries (RSA / EC_KEY app data, index 0): the client and the key id.
struct key_ref {
  std::shared_ptr<key_client> client;
  std::uint32_t id = 0;
};

// --- proxy hooks (C callbacks; they run inside libssl on a worker thread) -------------------

key_ref* rsa_ref(const RSA* rsa) { return static_cast<key_ref*>(::RSA_get_ex_data(rsa, 0)); }

int proxy_rsa_op(op what, int flen, const unsigned char* from, unsigned char* to, RSA* rsa,
                 int padding) {
  key_ref* ref = rsa_ref(rsa);
  if (ref == nullptr || flen < 0) {
    return -1;
  }
  std::vector<std::uint8_t> out;
  const outcome<void> called = ref->client->call(what, ref->id, static_cast<std::uint32_t>(padding),
                                                 {from, static_cast<std::size_t>(flen)}, out);
  if (!called || out.size() > static_cast<std::size_t>(::RSA_size(rsa))) {
    const std::string error = called ? std::string() : called.error().message();
    ERR_raise_data(ERR_LIB_RSA, ERR_R_INTERNAL_ERROR, "key process: %s", error.c_str());
    return -1;
  }
  std::memcpy(to, out.data(), out.size());
  return static_cast<int>(out.size());
}

int proxy_rsa_priv_enc(int flen, const unsigned char* from, unsigned char* to, RSA* rsa,
                       int padding) {
  return proxy_rsa_op(op::rsa_private_encrypt, flen, from, to, rsa, padding);
}

int proxy_rsa_priv_dec(int flen, const unsigned char* from, unsigned char* to, RSA* rsa,
                       int padding) {
  return proxy_rsa_op(op::rsa_private_decrypt, flen, from, to, rsa, padding);
}

int proxy_rsa_finish(RSA* rsa) {
  auto finish = ::RSA_meth_get_finish(::RSA_PKCS1_OpenSSL());
  const int r = finish != nullptr ? finish(rsa) : 1;
  if (key_ref* ref = rsa_ref(rsa)) {
    ::RSA_set_ex_data(rsa, 0, nullptr);
    ref->client->forget(ref->id);
    delete ref;
  }
  return r;
}

key_ref* ec_ref(const EC_KEY* ec) { return static_cast<key_ref*>(::EC_KEY_get_ex_data(ec, 0)); }

bool proxy_ecdsa(const unsigned char* dgst, int dlen, EC_KEY* ec, std::vector<std::uint8_t>& out) {
  key_ref* ref = ec_ref(ec);
  if (ref == nullptr || dlen < 0) {
    return false;
  }
  const outcome<void> called =
      ref->client->call(op::ecdsa_sign, ref->id, 0, {dgst, static_cast<std::size_t>(dlen)}, out);
  if (!called) {
    ERR_raise_data(ERR_LIB_EC, ERR_R_INTERNAL_ERROR, "key process: %s",
                   called.error().message().c_str());
    return false;
  }
  return true;
}

int proxy_ec_sign(int /*type*/, const unsigned char* dgst, int dlen, unsigned char* sig,
                  unsigned int* siglen, const BIGNUM* /*kinv*/, const BIGNUM* /*r*/, EC_KEY* ec) {
  std::vector<std::uint8_t> out;
  if (!proxy_ecdsa(dgst, dlen, ec, out) ||
      out.size() > static_cast<std::size_t>(::ECDSA_size(ec))) {
    return 0;
  }
  std::memcpy(sig, out.data(), out.size());
  *siglen = static_cast<unsigned int>(out.size());
  return 1;
}

ECDSA_SIG* proxy_ec_sign_sig(const unsigned char* dgst, int dlen, const BIGNUM* /*kinv*/,
                             const BIGNUM* /*r*/, EC_KEY* ec) {
  std::vector<std::uint8_t> out;
  if (!proxy_ecdsa(dgst, dlen, ec, out)) {
    return nullptr;
  }
  const unsigned char* p = out.data();
  return ::d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(out.size()));
}

void proxy_ec_finish(EC_KEY* ec) {
  void (*finish)(EC_KEY*) = nullptr;
  ::EC_KEY_METHOD_get_init(::EC_KEY_OpenSSL(), nullptr, &finish, nullptr, nullptr, nullptr,
                           nullptr);
  if (finish != nullptr) {
    finish(ec);
  }
  if (key_ref* ref = ec_ref(ec)) {
    ::EC_KEY_set_ex_data(ec, 0, nullptr);
    ref->client->forget(ref->id);
    delete ref;
  }
}

}  // namespace

proxy_methods::~proxy_methods() {
  ::RSA_meth_free(rsa_);
  if (ec_ != nullptr) {  // OpenSSL 3.0's EC_KEY_METHOD_free does not accept nullptr
    ::EC_KEY_METHOD_free(ec_);
  }
}

bool proxy_methods::init() {
  rsa_ = ::RSA_meth_dup(::RSA_PKCS1_OpenSSL());
  ec_ = ::EC_KEY_METHOD_new(::EC_KEY_OpenSSL());
  if (rsa_ == nullptr || ec_ == nullptr) {
    return false;
  }
  ::RSA_meth_set1_name(rsa_, "kiteline key process");
  ::RSA_meth_set_flags(rsa_, ::RSA_meth_get_flags(rsa_) | RSA_FLAG_EXT_PKEY);
  ::RSA_meth_set_priv_enc(rsa_, proxy_rsa_priv_enc);
  ::RSA_meth_set_priv_dec(rsa_, proxy_rsa_priv_dec);
  ::RSA_meth_set_finish(rsa_, proxy_rsa_finish);
  int (*sign_setup)(EC_KEY*, BN_CTX*, BIGNUM**, BIGNUM**) = nullptr;
  ::EC_KEY_METHOD_get_sign(::EC_KEY_OpenSSL(), nullptr, &sign_setup, nullptr);
  ::EC_KEY_METHOD_set_sign(ec_, proxy_ec_sign, sign_setup, proxy_ec_sign_sig);
  int (*ec_init)(EC_KEY*) = nullptr;
  int (*copy)(EC_KEY*, const EC_KEY*) = nullptr;
  int (*set_group)(EC_KEY*, const EC_GROUP*) = nullptr;
  int (*set_private)(EC_KEY*, const BIGNUM*) = nullptr;
  int (*set_public)(EC_KEY*, const EC_POINT*) = nullptr;
  ::EC_KEY_METHOD_get_init(::EC_KEY_OpenSSL(), &ec_init, nullptr, &copy, &set_group, &set_private,
                           &set_public);
  ::EC_KEY_METHOD_set_init(ec_, ec_init, proxy_ec_finish, copy, set_group, set_private,
                           set_public);
  return true;
}

outcome<tls::pkey_ptr> make_proxy_key(X509* leaf, const proxy_methods& methods,
                                      std::shared_ptr<key_client> client, std::uint32_t id) {
  EVP_PKEY* pub = ::X509_get0_pubkey(leaf);
  if (pub == nullptr) {
    return failure(errc::unsupported_key, "certificate without a public key");
  }
  tls::pkey_ptr proxy(::EVP_PKEY_new());
  if (::EVP_PKEY_is_a(pub, "RSA") == 1) {
    BIGNUM* n = nullptr;
    BIGNUM* e = nullptr;
    if (::EVP_PKEY_get_bn_param(pub, OSSL_PKEY_PARAM_RSA_N, &n) != 1 ||
        ::EVP_PKEY_get_bn_param(pub, OSSL_PKEY_PARAM_RSA_E, &e) != 1) {
      ::BN_free(n);
      ::BN_free(e);
      return failure(errc::unsupported_key,
                     "cannot read the RSA public key: " + tls::drain_openssl_errors());
    }
    RSA* rsa = ::RSA_new();
    ::RSA_set0_key(rsa, n, e, nullptr);
    ::RSA_set_method(rsa, methods.rsa());
    ::RSA_set_ex_data(rsa, 0, new key_ref{std::move(client), id});
    ::EVP_PKEY_assign_RSA(proxy.get(), rsa);
    return proxy;
  }
  if (::EVP_PKEY_is_a(pub, "EC") == 1) {
    char group[64] = {};
    unsigned char point[256];
    std::size_t point_len = 0;
    if (::EVP_PKEY_get_utf8_string_param(pub, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                         nullptr) != 1 ||
        ::EVP_PKEY_get_octet_string_param(pub, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point,
                                          &point_len) != 1) {
      return failure(errc::unsupported_key,
                     "cannot read the EC public key: " + tls::drain_openssl_errors());
    }
    const int nid = ::OBJ_txt2nid(group);
    EC_KEY* ec = ::EC_KEY_new_by_curve_name(nid);
    if (ec == nullptr || ::EC_KEY_oct2key(ec, point, point_len, nullptr) != 1) {
      ::EC_KEY_free(ec);
      return failure(errc::unsupported_key, std::string("unsupported EC group ") + group);
    }
    ::EC_KEY_set_method(ec, methods.ec());
    ::EC_KEY_set_ex_data(ec, 0, new key_ref{std::move(client), id});
    ::EVP_PKEY_assign_EC_KEY(proxy.get(), ec);
    return proxy;
  }
  return failure(errc::unsupported_key, "unsupported key type (RSA and ECDSA keys only)");
}

}  // namespace kiteline::keys
