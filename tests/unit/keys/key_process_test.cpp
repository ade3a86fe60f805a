// Unit tests for the key process and its client: this test binary is the key process's
// executable (a static initializer serves `--key-process` like kiteline's main does), so
// keys::start_key_process forks and execs it. A signature made through the proxy key verifies
// with the certificate's public key; the key process is a separate, non-dumpable process.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>
#include <vector>

#include "keys/key_store.hpp"
#include "keys_test_support.hpp"
#include "tls/key_pair.hpp"

namespace kiteline::keys {
namespace {

/// Before gtest's main: when started as `<this binary> --key-process ...` (by
/// start_key_process), run the key process and exit, as kiteline's main does.
const bool key_process_mode = [] {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  const std::string cmd{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  std::vector<std::string> args;
  for (std::size_t at = 0; at < cmd.size();) {
    const auto end = cmd.find('\0', at);
    args.push_back(cmd.substr(at, end - at));
    at = end == std::string::npos ? cmd.size() : end + 1;
  }
  if (args.size() < 2 || args[1] != key_process_flag) {
    return false;
  }
  std::vector<char*> argv;
  for (auto& a : args) {
    argv.push_back(a.data());
  }
  argv.push_back(nullptr);
  std::_Exit(run_key_process(static_cast<int>(args.size()), argv.data()));
}();

using namespace test;

/// Signs `message` with `key` (SHA-256) and verifies it with `pub`.
bool sign_and_verify(EVP_PKEY* key, EVP_PKEY* pub, const std::string& message,
                     std::string& why) {
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  std::vector<unsigned char> sig;
  std::size_t len = 0;
  bool ok = EVP_DigestSignInit(md, nullptr, EVP_sha256(), nullptr, key) == 1 &&
            EVP_DigestSign(md, nullptr, &len,
                           reinterpret_cast<const unsigned char*>(message.data()),
                           message.size()) == 1;
  if (ok) {
    sig.resize(len);
    ok = EVP_DigestSign(md, sig.data(), &len,
                        reinterpret_cast<const unsigned char*>(message.data()),
                        message.size()) == 1;
    sig.resize(len);
  }
  EVP_MD_CTX_free(md);
  if (!ok) {
    why = "signing failed";
    return false;
  }
  md = EVP_MD_CTX_new();
  ok = EVP_DigestVerifyInit(md, nullptr, EVP_sha256(), nullptr, pub) == 1 &&
       EVP_DigestVerify(md, sig.data(), sig.size(),
                        reinterpret_cast<const unsigned char*>(message.data()),
                        message.size()) == 1;
  EVP_MD_CTX_free(md);
  if (!ok) {
    why = "the signature does not verify";
  }
  return ok;
}

class key_process : public testing::Test {
 protected:
  void SetUp() override { ASSERT_FALSE(key_process_mode); }

  outcome<std::shared_ptr<key_store>> start(std::vector<std::string> files) {
    key_process_options o;
    o.pem_files = std::move(files);
    o.channels = 2;
    o.log = log_.log;
    return start_key_process(o);
  }

  temp_dir dir_{"keyproc"};
  text_log log_;
};

TEST_F(key_process, signs_with_rsa_and_ecdsa_keys_it_alone_holds) {
  const test_key rsa("rsa2048");
  const test_key ec("p256");
  const std::string rsa_pem = dir_.write("rsa.pem", pair_pem(rsa, 0x10));
  const std::string ec_pem = dir_.write("ec.pem", pair_pem(ec, 0x20));
  auto started = start({rsa_pem, ec_pem});
  ASSERT_TRUE(started) << started.error().message();
  const std::shared_ptr<key_store> store = *started;
  EXPECT_TRUE(store->isolated());
  const std::string status = store->status_for_test();
  EXPECT_EQ(status.rfind("pid=", 0), 0u) << status;
  EXPECT_EQ(status.find("pid=" + std::to_string(::getpid()) + " "), std::string::npos)
      << "another process: " << status;
  EXPECT_NE(status.find(" dumpable=0"), std::string::npos) << status;
  EXPECT_NE(log_.take().find("info key process started pid="), std::string::npos);

  for (const auto& [file, key, serial] :
       {std::tuple{rsa_pem, &rsa, "0x10"}, std::tuple{ec_pem, &ec, "0x20"}}) {
    SCOPED_TRACE(file);
    auto pair = store->load(file);
    ASSERT_TRUE(pair) << pair.error().message();
    EXPECT_EQ(tls::serial_hex(pair->leaf()), serial);
    // The proxy is not the private key, but has its public half.
    EXPECT_EQ(EVP_PKEY_eq(pair->key.get(), key->get()), 1);
    std::string why;
    EXPECT_TRUE(sign_and_verify(pair->key.get(), X509_get0_pubkey(pair->leaf()),
                                "kiteline key isolation", why))
        << why;
  }
}

TEST_F(key_process, refuses_files_it_was_not_given) {
  const test_key ec("p256");
  const std::string given = dir_.write("given.pem", pair_pem(ec, 1));
  const std::string other = dir_.write("other.pem", pair_pem(ec, 2));
  auto started = start({given});
  ASSERT_TRUE(started) << started.error().message();
  auto loaded = (*started)->load(other);
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().message(), other + " is not one of the key process's files");
  EXPECT_EQ(loaded.error().code(), std::error_code(errc::not_allowed));
}

TEST_F(key_process, reports_the_load_error_of_the_key_process) {
  const test_key mine("p256");
  const test_key theirs("p256");
  const std::string mixed = dir_.write(
      "mixed.pem",
      key_pem(mine) + cert_pem(theirs, 3, std::chrono::hours(-1), std::chrono::hours(24)));
  auto started = start({mixed});
  ASSERT_TRUE(started) << started.error().message();
  auto loaded = (*started)->load(mixed);
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().message(), "certificate does not match private key");
  // The key process's own text, passed on as its refusal.
  EXPECT_EQ(loaded.error().code(), std::error_code(errc::refused));
}

TEST_F(key_process, refuses_a_bad_channel_count) {
  key_process_options o;
  o.channels = 0;
  auto started = start_key_process(o);
  ASSERT_FALSE(started);
  EXPECT_EQ(started.error().message(), "key process channels must be 1-64");
  EXPECT_EQ(started.error().code(), std::error_code(errc::cannot_start));
}

}  // namespace
}  // namespace kiteline::keys
