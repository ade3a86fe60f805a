#include "support/certificates.hpp"

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <sstream>

namespace kiteline::test {

namespace {

constexpr const char* test_ca_name = "kiteline test CA";

std::vector<std::uint8_t> bn_bytes(const BIGNUM* bn) {
  std::vector<std::uint8_t> out(static_cast<std::size_t>(BN_num_bytes(bn)));
  BN_bn2bin(bn, out.data());
  return out;
}

std::string bio_text(BIO* mem) {
  char* data = nullptr;
  const long len = BIO_get_mem_data(mem, &data);
  return {data, static_cast<std::size_t>(len)};
}

X509* make_cert(const test_key& key, long serial, std::chrono::seconds not_before,
                std::chrono::seconds not_after, const std::vector<std::string>& names,
                const test_key* issuer) {
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
  X509_gmtime_adj(X509_getm_notBefore(x), static_cast<long>(not_before.count()));
  X509_gmtime_adj(X509_getm_notAfter(x), static_cast<long>(not_after.count()));
  X509_set_pubkey(x, key.get());
  X509_NAME* subject = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(names.at(0).c_str()), -1, -1,
                             0);
  if (issuer != nullptr) {
    X509_NAME* in = X509_NAME_new();
    X509_NAME_add_entry_by_txt(in, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>(test_ca_name), -1, -1, 0);
    X509_set_issuer_name(x, in);
    X509_NAME_free(in);
  } else {
    X509_set_issuer_name(x, subject);
  }
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, x, x, nullptr, nullptr, 0);
  std::string san;
  for (const auto& n : names) {
    san += (san.empty() ? "DNS:" : ",DNS:") + n;
  }
  for (auto [nid, value] :
       {std::pair<int, std::string>{NID_subject_alt_name, san},
        {NID_basic_constraints, issuer != nullptr ? "critical,CA:FALSE" : "critical,CA:TRUE"}}) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &v3, nid, value.c_str());
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
  }
  X509_sign(x, (issuer != nullptr ? issuer : &key)->get(), EVP_sha256());
  return x;
}

}  // namespace

test_key::test_key(const std::string& type) {
  if (type == "rsa2048") {
    key_ = EVP_RSA_gen(2048);
  } else if (type == "p256") {
    key_ = EVP_EC_gen("P-256");
  } else if (type == "p384") {
    key_ = EVP_EC_gen("P-384");
  }
}

test_key::~test_key() { EVP_PKEY_free(key_); }

std::vector<std::vector<std::uint8_t>> test_key::needles() const {
  std::vector<std::vector<std::uint8_t>> out;
  // PKCS#8 DER.
  unsigned char* der = nullptr;
  const int n = i2d_PrivateKey(key_, &der);
  if (n > 0) {
    out.emplace_back(der, der + n);
    OPENSSL_free(der);
  }
  // The PEM body, line by line.
  std::istringstream lines(key_pem(*this));
  for (std::string line; std::getline(lines, line);) {
    if (line.size() >= 40 && line.find("-----") == std::string::npos) {
      out.emplace_back(line.begin(), line.end());
    }
  }
  // The private numbers, as stored big-endian and as BIGNUM limbs (little-endian on x86-64).
  std::vector<const char*> params;
  if (EVP_PKEY_is_a(key_, "RSA") == 1) {
    params = {OSSL_PKEY_PARAM_RSA_D, OSSL_PKEY_PARAM_RSA_FACTOR1, OSSL_PKEY_PARAM_RSA_FACTOR2};
  } else {
    params = {OSSL_PKEY_PARAM_PRIV_KEY};
  }
  for (const char* p : params) {
    BIGNUM* bn = nullptr;
    if (EVP_PKEY_get_bn_param(key_, p, &bn) == 1) {
      auto be = bn_bytes(bn);
      std::vector<std::uint8_t> le(be.rbegin(), be.rend());
      // 24 bytes of a 256-bit (or larger) secret cannot occur by chance.
      be.resize(std::min<std::size_t>(be.size(), 24));
      le.resize(std::min<std::size_t>(le.size(), 24));
      out.push_back(std::move(be));
      out.push_back(std::move(le));
      BN_clear_free(bn);
    }
  }
  return out;
}

std::string cert_pem(const test_key& key, long serial, std::chrono::seconds not_before,
                     std::chrono::seconds not_after, const std::vector<std::string>& names,
                     const test_key* issuer) {
  X509* x = make_cert(key, serial, not_before, not_after, names, issuer);
  BIO* mem = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(mem, x);
  std::string out = bio_text(mem);
  BIO_free(mem);
  X509_free(x);
  return out;
}

std::string cert_pem(const test_key& key, long serial, std::chrono::seconds not_before,
                     std::chrono::seconds not_after, const std::string& name,
                     const test_key* issuer) {
  return cert_pem(key, serial, not_before, not_after, std::vector<std::string>{name}, issuer);
}

std::string key_pem(const test_key& key) {
  BIO* mem = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(mem, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  std::string out = bio_text(mem);
  BIO_free(mem);
  return out;
}

test_cert::test_cert(const std::vector<std::string>& names) {
  if (!dir_.ok()) {
    return;
  }
  const test_key key("p256");
  const std::string crt =
      cert_pem(key, 1, std::chrono::hours(-1), std::chrono::hours(7 * 24), names);
  pem_ = dir_.write("endpoint.pem", key_pem(key) + crt);
  crt_ = dir_.write("endpoint.crt", crt);
}

}  // namespace kiteline::test
