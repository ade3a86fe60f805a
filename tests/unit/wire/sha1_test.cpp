// SHA-1 against the FIPS 180 test vectors and against OpenSSL on many lengths and splits.
#include <gtest/gtest.h>
#include <openssl/sha.h>

#include <string>

#include "wire/sha1.hpp"

namespace kiteline::wire {
namespace {

TEST(Sha1, FipsVectors) {
  EXPECT_EQ(sha1_hex("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(sha1_hex(""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  EXPECT_EQ(sha1_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
  EXPECT_EQ(sha1_hex(std::string(1000000, 'a')), "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}

TEST(Sha1, MillionAInPieces) {
  sha1 h;
  const std::string piece(997, 'a');  // odd size: crosses block boundaries at every offset
  std::size_t left = 1000000;
  while (left > 0) {
    const std::size_t n = std::min(left, piece.size());
    h.update(std::string_view(piece).substr(0, n));
    left -= n;
  }
  EXPECT_EQ(h.hex_digest(), "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}

std::string openssl_sha1_hex(std::string_view s) {
  unsigned char d[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(s.data()), s.size(), d);
  return to_hex(std::span<const std::uint8_t>(d, sizeof d));
}

TEST(Sha1, MatchesOpenSslAtEveryLengthAndSplit) {
  std::string msg;
  for (std::size_t len = 0; len <= 200; ++len) {
    const std::string expected = openssl_sha1_hex(msg);
    EXPECT_EQ(sha1_hex(msg), expected) << len;
    for (std::size_t split = 0; split <= len; split += 7) {
      sha1 h;
      h.update(std::string_view(msg).substr(0, split));
      h.update(std::as_bytes(std::span<const char>(msg.data() + split, len - split)));
      EXPECT_EQ(h.hex_digest(), expected) << len << "/" << split;
    }
    msg.push_back(static_cast<char>((len * 131 + 7) & 0xff));
  }
}

TEST(Sha1, ResetReuses) {
  sha1 h;
  h.update("garbage");
  h.reset();
  h.update("abc");
  const sha1::digest_type d = h.digest();
  EXPECT_EQ(d[0], 0xa9);
  EXPECT_EQ(d[19], 0x9d);
}

}  // namespace
}  // namespace kiteline::wire
