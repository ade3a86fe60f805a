// Unit tests for keys::stamp_of and keys::certificate_reloader: a pair replaces an endpoint's
// context only if it loads, matches its key and is valid; every outcome is logged with its
// exact text and a refused file keeps the old serial.
#include "keys/key_reload.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <system_error>

#include "keys_test_support.hpp"
#include "tls/errc.hpp"

namespace kiteline::keys {
namespace {

using namespace test;
using kiteline::test::write_file_atomically;

TEST(stamp_of, missing_file_is_the_default_stamp) {
  temp_dir dir("reload");
  const file_stamp s = stamp_of(dir.file("absent.pem"));
  EXPECT_EQ(s, file_stamp{});
  EXPECT_EQ(s.size, -1);
}

TEST(stamp_of, changes_when_the_file_is_replaced) {
  temp_dir dir("reload");
  const std::string path = dir.write("a.pem", "first");
  const file_stamp one = stamp_of(path);
  EXPECT_EQ(one.size, 5);
  EXPECT_EQ(stamp_of(path), one) << "the same file, the same stamp";
  write_file_atomically(path, "second!");  // a new inode, as certificate tools do
  const file_stamp two = stamp_of(path);
  EXPECT_EQ(two.size, 7);
  EXPECT_NE(two, one);
}

TEST(stamp_of, through_a_directory_descriptor) {
  temp_dir dir("reload");
  const std::string path = dir.write("b.pem", "abc");
  const int fd = ::open(dir.path().c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  // Only the last path component is looked up in the directory: the rest may be anything
  // (after --chroot the old path no longer exists).
  EXPECT_EQ(stamp_of("/no/such/dir/b.pem", fd), stamp_of(path));
  EXPECT_EQ(stamp_of("/no/such/dir/b.pem", fd).size, 3);
  EXPECT_EQ(stamp_of("/no/such/dir/b.pem").size, -1);
  ::close(fd);
}

class reloader : public testing::Test {
 protected:
  temp_dir dir_{"reload"};
  text_log log_;
  test_key key_{"p256"};
  std::string pem_ = dir_.write("fe.pem", pair_pem(key_, 1));
  tls::endpoint_set set_;
  certificate_reloader reloader_{make_inprocess_key_store(), tls::protocol_policy{}, "", "",
                                 log_.log};

  std::shared_ptr<asio::ssl::context> current() const { return set_.find("fe.test")->context(); }
};

TEST_F(reloader, add_installs_and_logs_the_serial) {
  const outcome<void> added = reloader_.add(set_, "fe.test", pem_);
  ASSERT_TRUE(added) << added.error().message();
  ASSERT_NE(set_.find("fe.test"), nullptr);
  EXPECT_NE(current(), nullptr);
  const std::string logged = log_.take();
  EXPECT_NE(logged.find("info tls endpoint fe.test: serial 0x01 valid until "), std::string::npos)
      << logged;
  EXPECT_NE(logged.find(" (key in-process)"), std::string::npos) << logged;
}

TEST_F(reloader, add_refuses_a_mismatched_pair) {
  const test_key other("p256");
  const std::string bad = dir_.write(
      "bad.pem", key_pem(key_) + cert_pem(other, 9, std::chrono::hours(-1), std::chrono::hours(1)));
  const outcome<void> added = reloader_.add(set_, "bad.test", bad);
  ASSERT_FALSE(added);
  EXPECT_EQ(added.error().message(), "certificate does not match private key");
  EXPECT_EQ(added.error().code(), std::error_code(tls::errc::key_mismatch));
  EXPECT_EQ(set_.find("bad.test"), nullptr);
}

TEST_F(reloader, an_unchanged_file_is_not_reloaded_unless_forced) {
  const outcome<void> added = reloader_.add(set_, "fe.test", pem_);
  ASSERT_TRUE(added) << added.error().message();
  const auto before = current();
  log_.take();
  reloader_.reload(false);
  EXPECT_EQ(log_.take(), "");
  reloader_.reload(true);  // SIGHUP
  EXPECT_EQ(log_.take(), "info certificate reload for fe.test: unchanged (serial 0x01)\n");
  EXPECT_EQ(current(), before);
}

TEST_F(reloader, a_new_pair_is_installed) {
  const outcome<void> added = reloader_.add(set_, "fe.test", pem_);
  ASSERT_TRUE(added) << added.error().message();
  const auto before = current();
  log_.take();
  const test_key next("rsa2048");
  write_file_atomically(pem_, pair_pem(next, 2));
  reloader_.reload(false);
  const std::string logged = log_.take();
  EXPECT_EQ(logged.rfind("info certificate reload for fe.test: serial 0x02 installed (was 0x01), "
                         "valid until ",
                         0),
            0u)
      << logged;
  EXPECT_NE(current(), before);
}

TEST_F(reloader, a_mismatched_key_is_refused_and_the_old_pair_stays) {
  const outcome<void> added = reloader_.add(set_, "fe.test", pem_);
  ASSERT_TRUE(added) << added.error().message();
  const auto before = current();
  log_.take();
  const test_key other("p256");
  write_file_atomically(
      pem_, key_pem(key_) + cert_pem(other, 3, std::chrono::hours(-1), std::chrono::hours(24)));
  reloader_.reload(false);
  EXPECT_EQ(log_.take(),
            "warning certificate reload for fe.test refused: certificate does not match private "
            "key (kept serial 0x01)\n");
  EXPECT_EQ(current(), before);
}

TEST_F(reloader, a_garbled_file_is_refused) {
  const outcome<void> added = reloader_.add(set_, "fe.test", pem_);
  ASSERT_TRUE(added) << added.error().message();
  const auto before = current();
  log_.take();
  const std::string whole = pair_pem(key_, 4);
  write_file_atomically(pem_, whole.substr(0, whole.size() / 3));  // half-written: no cert
  reloader_.reload(false);
  EXPECT_EQ(log_.take(), "warning certificate reload for fe.test refused: no certificate in " +
                             pem_ + " (kept serial 0x01)\n");
  EXPECT_EQ(current(), before);
  // Unchanged since the refusal: not tried again until it changes (or SIGHUP).
  reloader_.reload(false);
  EXPECT_EQ(log_.take(), "");
  // The finished file is taken.
  write_file_atomically(pem_, whole);
  reloader_.reload(false);
  EXPECT_EQ(log_.take().rfind("info certificate reload for fe.test: serial 0x04 installed", 0), 0u);
  EXPECT_NE(current(), before);
}

TEST_F(reloader, an_expired_certificate_is_refused_on_reload_but_accepted_at_start) {
  const test_key old("p256");
  const std::string expired = dir_.write(
      "old.pem", key_pem(old) + cert_pem(old, 5, std::chrono::hours(-48), std::chrono::hours(-24)));
  const outcome<void> added = reloader_.add(set_, "old.test", expired);
  ASSERT_TRUE(added) << added.error().message();
  const std::string at_start = log_.take();
  EXPECT_NE(at_start.find("warning certificate " + expired +
                          " (serial 0x05): certificate has expired (notAfter "),
            std::string::npos)
      << at_start;
  reloader_.reload(true);
  const std::string on_reload = log_.take();
  EXPECT_EQ(on_reload.rfind("warning certificate reload for old.test refused: certificate has "
                            "expired (notAfter ",
                            0),
            0u)
      << on_reload;
  EXPECT_NE(on_reload.find("(kept serial 0x05)\n"), std::string::npos) << on_reload;
}

}  // namespace
}  // namespace kiteline::keys
