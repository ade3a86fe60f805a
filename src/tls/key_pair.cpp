#include "tls/key_pair.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509_vfy.h>

#include <cstdio>
#include <ctime>

#include "tls/openssl_error.hpp"

namespace kiteline::tls {

namespace {

struct bio_deleter {
  void operator()(BIO* b) const noexcept { ::BIO_free(b); }
};
using bio_ptr = std::unique_ptr<BIO, bio_deleter>;

std::string asn1_time_text(const ASN1_TIME* t) {
  std::tm tm{};
  if (t == nullptr || ::ASN1_TIME_to_tm(t, &tm) != 1) {
    return "?";
  }
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d UTC", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

}  // namespace

std::shared_ptr<X509> share(X509* x) {
  ::X509_up_ref(x);
  return {x, x509_deleter{}};
}

std::shared_ptr<EVP_PKEY> share(EVP_PKEY* k) {
  ::EVP_PKEY_up_ref(k);
  return {k, pkey_deleter{}};
}

outcome<pem_pair> load_pem_pair(const std::string& pem_file) {
  bio_ptr bio(::BIO_new_file(pem_file.c_str(), "r"));
  if (!bio) {
    return failure(errc::cannot_read_file,
                   "cannot read " + pem_file + ": " + drain_openssl_errors());
  }
  // The key and the certificates may come in any order: PEM_read_bio_* skips other blocks.
  pem_pair out;
  out.key.reset(::PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  ::ERR_clear_error();
  if (BIO_reset(bio.get()) < 0) {
    return failure(errc::cannot_read_file, "cannot re-read " + pem_file);
  }
  while (X509* x = ::PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    out.chain.emplace_back(x);
  }
  ::ERR_clear_error();  // the loop ends on "no start line"
  if (!out.key) {
    return failure(errc::no_private_key, "no private key in " + pem_file);
  }
  if (out.chain.empty()) {
    return failure(errc::no_certificate, "no certificate in " + pem_file);
  }
  if (::X509_check_private_key(out.chain[0].get(), out.key.get()) != 1) {
    ::ERR_clear_error();
    return failure(errc::key_mismatch, "certificate does not match private key");
  }
  return out;
}

std::vector<std::vector<std::uint8_t>> chain_der(const std::vector<x509_ptr>& chain) {
  std::vector<std::vector<std::uint8_t>> out;
  for (const auto& x : chain) {
    const int n = ::i2d_X509(x.get(), nullptr);
    if (n <= 0) {
      continue;
    }
    std::vector<std::uint8_t> der(static_cast<std::size_t>(n));
    unsigned char* p = der.data();
    ::i2d_X509(x.get(), &p);
    out.push_back(std::move(der));
  }
  return out;
}

std::string serial_hex(const X509* x) {
  if (x == nullptr) {
    return "?";
  }
  BIGNUM* bn = ::ASN1_INTEGER_to_BN(::X509_get0_serialNumber(x), nullptr);
  if (bn == nullptr) {
    return "?";
  }
  char* hex = ::BN_bn2hex(bn);
  std::string s = std::string("0x") + (hex != nullptr ? hex : "?");
  ::OPENSSL_free(hex);
  ::BN_free(bn);
  return s;
}

std::string not_after_text(const X509* x) {
  return x == nullptr ? "?" : asn1_time_text(::X509_get0_notAfter(x));
}

std::string check_certificate(const certified_key& pair, const std::string& ca_file) {
  X509* leaf = pair.leaf();
  if (leaf == nullptr) {
    return "no certificate";
  }
  if (::X509_cmp_current_time(::X509_get0_notBefore(leaf)) >= 0) {
    return "certificate is not yet valid (notBefore " +
           asn1_time_text(::X509_get0_notBefore(leaf)) + ")";
  }
  if (::X509_cmp_current_time(::X509_get0_notAfter(leaf)) <= 0) {
    return "certificate has expired (notAfter " + asn1_time_text(::X509_get0_notAfter(leaf)) +
           ")";
  }
  if (ca_file.empty()) {
    return {};
  }
  std::unique_ptr<X509_STORE, decltype(&::X509_STORE_free)> store(::X509_STORE_new(),
                                                                  ::X509_STORE_free);
  if (!store || ::X509_STORE_load_file(store.get(), ca_file.c_str()) != 1) {
    return "cannot load CA " + ca_file + ": " + drain_openssl_errors();
  }
  struct stack_deleter {
    void operator()(STACK_OF(X509) * s) const noexcept { sk_X509_free(s); }
  };
  std::unique_ptr<STACK_OF(X509), stack_deleter> untrusted(sk_X509_new_null());
  for (std::size_t i = 1; i < pair.chain.size(); ++i) {
    sk_X509_push(untrusted.get(), pair.chain[i].get());
  }
  std::unique_ptr<X509_STORE_CTX, decltype(&::X509_STORE_CTX_free)> vctx(::X509_STORE_CTX_new(),
                                                                         ::X509_STORE_CTX_free);
  if (!vctx || ::X509_STORE_CTX_init(vctx.get(), store.get(), leaf, untrusted.get()) != 1) {
    return "cannot verify: " + drain_openssl_errors();
  }
  if (::X509_verify_cert(vctx.get()) != 1) {
    const int err = ::X509_STORE_CTX_get_error(vctx.get());
    ::ERR_clear_error();
    return "certificate does not verify against CA " + ca_file + ": " +
           ::X509_verify_cert_error_string(err);
  }
  return {};
}

std::string install_certified_key(SSL_CTX* ctx, const certified_key& pair) {
  if (pair.leaf() == nullptr || !pair.key) {
    return "no certificate or key";
  }
  if (::SSL_CTX_use_certificate(ctx, pair.leaf()) != 1) {
    return "cannot use certificate: " + drain_openssl_errors();
  }
  ::SSL_CTX_clear_chain_certs(ctx);
  for (std::size_t i = 1; i < pair.chain.size(); ++i) {
    if (::SSL_CTX_add1_chain_cert(ctx, pair.chain[i].get()) != 1) {
      return "cannot add chain certificate: " + drain_openssl_errors();
    }
  }
  if (::SSL_CTX_use_PrivateKey(ctx, pair.key.get()) != 1) {
    return "cannot use private key: " + drain_openssl_errors();
  }
  if (::SSL_CTX_check_private_key(ctx) != 1) {
    return "certificate does not match private key: " + drain_openssl_errors();
  }
  return {};
}

outcome<certified_key> load_certified_key(const std::string& pem_file) {
  outcome<pem_pair> pair = load_pem_pair(pem_file);
  if (!pair) {
    return pair.error();
  }
  certified_key out;
  out.key = std::shared_ptr<EVP_PKEY>(pair->key.release(), pkey_deleter{});
  for (auto& x : pair->chain) {
    out.chain.emplace_back(x.release(), x509_deleter{});
  }
  return out;
}

}  // namespace kiteline::tls
