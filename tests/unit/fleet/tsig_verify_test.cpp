// fleet::reply_verifier (issue 24): a reply whose TSIG does not verify is refused, at the
// message level, and an AXFR stream is verified message by message (RFC 8945 §5.3.1).
#include <gtest/gtest.h>

#include "fleet/dns_message.hpp"
#include "unit/fleet/tsig_signer.hpp"

namespace kiteline::fleet {
namespace {

const tsig_key key = test::make_key("fleet", "c2VjcmV0c2VjcmV0c2VjcmV0");
const tsig_key other_secret = test::make_key("fleet", "b3RoZXJvdGhlcm90aGVyb3RoZXI=");
const tsig_key other_name = test::make_key("other", "c2VjcmV0c2VjcmV0c2VjcmV0");

std::vector<std::uint8_t> a_query() {
  std::string error;
  auto q = build_query("web.test.fleet.test", false, key, 7, error);
  EXPECT_FALSE(q.empty()) << error;
  return q;
}

std::vector<std::uint8_t> signed_reply(const std::vector<std::uint8_t>& request, const tsig_key& k) {
  test::signer s(k, request);
  return s.sign(test::make_reply(request, {"web.test.fleet.test. 10 IN A 127.0.0.11"}));
}

TEST(FleetTsigVerify, SignedReplyVerifies) {
  const auto q = a_query();
  const auto r = signed_reply(q, key);
  reply_verifier v(key, q);
  std::string error;
  const auto a = v.next(r.data(), r.size(), error);
  ASSERT_TRUE(a) << error;
  ASSERT_EQ(a->records.size(), 1U);
  EXPECT_EQ(a->records[0].address, "127.0.0.11");
  EXPECT_TRUE(v.complete());
}

TEST(FleetTsigVerify, ReplySignedWithAnotherKeyIsRefused) {
  const auto q = a_query();
  std::string error;
  const auto r1 = signed_reply(q, other_secret);
  EXPECT_FALSE(reply_verifier(key, q).next(r1.data(), r1.size(), error));
  EXPECT_EQ(error, "bad MAC");
  const auto r2 = signed_reply(q, other_name);
  EXPECT_FALSE(reply_verifier(key, q).next(r2.data(), r2.size(), error));
  EXPECT_EQ(error, "signed with another key");
}

TEST(FleetTsigVerify, UnsignedReplyIsRefused) {
  const auto q = a_query();
  test::signer none(key, q);
  const auto r = none.plain(test::make_reply(q, {"web.test.fleet.test. 10 IN A 127.0.0.66"}));
  std::string error;
  reply_verifier v(key, q);
  EXPECT_FALSE(v.next(r.data(), r.size(), error));
  EXPECT_NE(error.find("unsigned"), std::string::npos) << error;
  EXPECT_FALSE(v.complete());
  // Without a key (no --fleet_tsig) nothing is checked.
  std::string e2;
  const auto plain_q = build_query("web.test.fleet.test", false, tsig_key{}, 7, e2);
  EXPECT_TRUE(reply_verifier(tsig_key{}, plain_q).next(r.data(), r.size(), e2));
}

TEST(FleetTsigVerify, ReplyToAnotherRequestOrAlteredIsRefused) {
  const auto q = a_query();
  std::string error;
  const auto q2 = build_query("web.test.fleet.test", false, key, 8, error);
  const auto r = signed_reply(q2, key);  // signed over the other request's MAC
  EXPECT_FALSE(reply_verifier(key, q).next(r.data(), r.size(), error));
  const auto good = signed_reply(q, key);
  for (std::size_t i = 0; i < good.size(); ++i) {  // any bit changed anywhere: refused
    auto altered = good;
    altered[i] ^= 0x01;
    EXPECT_FALSE(reply_verifier(key, q).next(altered.data(), altered.size(), error)) << i;
  }
}

TEST(FleetTsigVerify, EveryPrefixOfASignedReplyIsSafe) {
  const auto q = a_query();
  const auto r = signed_reply(q, key);
  for (std::size_t n = 0; n < r.size(); ++n) {
    std::string error;
    reply_verifier v(key, q);
    EXPECT_FALSE(v.next(r.data(), n, error)) << n;  // a prefix never verifies
  }
}

std::vector<std::uint8_t> axfr_query() {
  std::string error;
  auto q = build_axfr_query("fleet.test", key, 9, error);
  EXPECT_FALSE(q.empty()) << error;
  return q;
}

const std::string soa = "fleet.test. 60 IN SOA ns.fleet.test. admin.fleet.test. 1 60 60 60 60";

std::string a_record(int i) {
  return "k" + std::to_string(i) + ".fleet.test. 10 IN A 127.0.0." + std::to_string(i % 200 + 1);
}

// Reads a stream; the number of records read, -1 when a message is refused, -2 when the
// stream does not end on a signed message.
int read_stream(const std::vector<std::uint8_t>& q, const std::vector<std::vector<std::uint8_t>>& msgs) {
  reply_verifier v(key, q);
  int records = 0;
  for (const auto& m : msgs) {
    std::string error;
    const auto a = v.next(m.data(), m.size(), error);
    if (!a) {
      return -1;
    }
    records += static_cast<int>(a->records.size());
  }
  return v.complete() ? records : -2;
}

TEST(FleetTsigVerify, AxfrStreamEveryMessageSigned) {
  const auto q = axfr_query();
  test::signer s(key, q);
  std::vector<std::vector<std::uint8_t>> msgs;
  msgs.push_back(s.sign(test::make_reply(q, {soa, a_record(1)})));
  msgs.push_back(s.sign(test::make_reply(q, {a_record(2)})));
  msgs.push_back(s.sign(test::make_reply(q, {a_record(3), soa})));
  EXPECT_EQ(read_stream(q, msgs), 3);
  // Signed with the request's MAC instead of the running one: refused.
  test::signer restart(key, q);
  auto bad = msgs;
  bad[1] = restart.sign(test::make_reply(q, {a_record(2)}));
  EXPECT_EQ(read_stream(q, bad), -1);
  // Messages swapped: refused.
  bad = msgs;
  std::swap(bad[1], bad[2]);
  EXPECT_EQ(read_stream(q, bad), -1);
}

TEST(FleetTsigVerify, AxfrStreamWithUnsignedMessagesBetween) {
  const auto q = axfr_query();
  test::signer s(key, q);
  std::vector<std::vector<std::uint8_t>> msgs;
  msgs.push_back(s.sign(test::make_reply(q, {soa})));
  for (int i = 1; i <= 5; ++i) {
    msgs.push_back(s.plain(test::make_reply(q, {a_record(i)})));
  }
  msgs.push_back(s.sign(test::make_reply(q, {a_record(6), soa})));
  EXPECT_EQ(read_stream(q, msgs), 6);
  // An unsigned message altered (a forged record): the next signed one does not verify.
  auto forged = msgs;
  forged[3].back() ^= 0x01;
  EXPECT_EQ(read_stream(q, forged), -1);
  // Ending on an unsigned message: not complete.
  auto open_end = msgs;
  open_end.pop_back();
  EXPECT_EQ(read_stream(q, open_end), -2);
  // The first message unsigned: refused.
  test::signer s2(key, q);
  const std::vector<std::vector<std::uint8_t>> unsigned_first{s2.plain(test::make_reply(q, {soa}))};
  EXPECT_EQ(read_stream(q, unsigned_first), -1);
}

TEST(FleetTsigVerify, AxfrStreamOfMoreThan99UnsignedIsRefused) {
  const auto q = axfr_query();
  for (const int run : {99, 100}) {
    test::signer s(key, q);
    std::vector<std::vector<std::uint8_t>> msgs;
    msgs.push_back(s.sign(test::make_reply(q, {soa})));
    for (int i = 1; i <= run; ++i) {
      msgs.push_back(s.plain(test::make_reply(q, {a_record(i)})));
    }
    msgs.push_back(s.sign(test::make_reply(q, {soa})));
    EXPECT_EQ(read_stream(q, msgs), run == 99 ? 99 : -1) << run;
  }
}

}  // namespace
}  // namespace kiteline::fleet
