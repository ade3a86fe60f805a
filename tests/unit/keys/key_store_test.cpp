// Unit tests for keys::make_inprocess_key_store: a PEM pair (key + chain in one file, any
// order) from a temp dir, and the exact refusals of a missing file, a file without a key or a
// certificate, and a certificate of another key.
#include "keys/key_store.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <string>
#include <system_error>
#include <tuple>

#include "keys_test_support.hpp"
#include "tls/errc.hpp"
#include "tls/key_pair.hpp"

namespace kiteline::keys {
namespace {

using namespace test;

TEST(inprocess_key_store, is_not_isolated) {
  auto store = make_inprocess_key_store();
  EXPECT_FALSE(store->isolated());
  EXPECT_EQ(store->status_for_test(), "");
}

TEST(inprocess_key_store, loads_a_pem_pair) {
  temp_dir dir("keys");
  const test_key key("p256");
  const std::string pem = dir.write("fe.pem", pair_pem(key, 0x1234));
  auto pair = make_inprocess_key_store()->load(pem);
  ASSERT_TRUE(pair) << pair.error().message();
  ASSERT_EQ(pair->chain.size(), 1u);
  EXPECT_EQ(tls::serial_hex(pair->leaf()), "0x1234");
  // The key held is the real one: the same public key as the file's.
  EXPECT_EQ(EVP_PKEY_eq(pair->key.get(), key.get()), 1);
  EXPECT_EQ(X509_check_private_key(pair->leaf(), pair->key.get()), 1);
}

TEST(inprocess_key_store, certificate_first_and_a_chain) {
  temp_dir dir("keys");
  const test_key ca("p256");
  const test_key leaf("rsa2048");
  const std::string chain =
      cert_pem(leaf, 7, std::chrono::hours(-1), std::chrono::hours(24), "fe.test", &ca) +
      cert_pem(ca, 1, std::chrono::hours(-1), std::chrono::hours(24), "kiteline test CA");
  const std::string pem = dir.write("chain.pem", chain + key_pem(leaf));
  auto pair = make_inprocess_key_store()->load(pem);
  ASSERT_TRUE(pair) << pair.error().message();
  ASSERT_EQ(pair->chain.size(), 2u) << "leaf first, then the CA";
  EXPECT_EQ(tls::serial_hex(pair->chain[0].get()), "0x07");
  EXPECT_EQ(tls::serial_hex(pair->chain[1].get()), "0x01");
  EXPECT_EQ(EVP_PKEY_is_a(pair->key.get(), "RSA"), 1);
}

TEST(inprocess_key_store, missing_file) {
  temp_dir dir("keys");
  const std::string path = dir.file("absent.pem");
  auto pair = make_inprocess_key_store()->load(path);
  ASSERT_FALSE(pair);
  const std::string error = pair.error().message();
  EXPECT_EQ(error.rfind("cannot read " + path + ": ", 0), 0u) << error;
  EXPECT_EQ(pair.error().code(), std::error_code(tls::errc::cannot_read_file));
}

TEST(inprocess_key_store, no_key_and_no_certificate) {
  temp_dir dir("keys");
  const test_key key("p256");
  const std::string cert_only =
      dir.write("cert.pem", cert_pem(key, 1, std::chrono::hours(-1), std::chrono::hours(24)));
  const std::string key_only = dir.write("key.pem", key_pem(key));
  const std::string garbage = dir.write("garbage.pem", "-----BEGIN GARBAGE-----\nxx\n");
  auto store = make_inprocess_key_store();
  for (const auto& [file, text, code] :
       {std::tuple{cert_only, "no private key in " + cert_only, tls::errc::no_private_key},
        std::tuple{key_only, "no certificate in " + key_only, tls::errc::no_certificate},
        std::tuple{garbage, "no private key in " + garbage, tls::errc::no_private_key}}) {
    SCOPED_TRACE(file);
    auto pair = store->load(file);
    ASSERT_FALSE(pair);
    EXPECT_EQ(pair.error().message(), text);
    EXPECT_EQ(pair.error().code(), std::error_code(code));
  }
}

TEST(inprocess_key_store, certificate_of_another_key) {
  temp_dir dir("keys");
  const test_key mine("p256");
  const test_key other("p256");
  const std::string pem = dir.write(
      "mixed.pem",
      key_pem(mine) + cert_pem(other, 1, std::chrono::hours(-1), std::chrono::hours(24)));
  auto pair = make_inprocess_key_store()->load(pem);
  ASSERT_FALSE(pair);
  EXPECT_EQ(pair.error().message(), "certificate does not match private key");
  EXPECT_EQ(pair.error().code(), std::error_code(tls::errc::key_mismatch));
}

}  // namespace
}  // namespace kiteline::keys
