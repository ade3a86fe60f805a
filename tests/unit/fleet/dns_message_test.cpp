#include "fleet/dns_message.hpp"

#include <gtest/gtest.h>

#include <ldns/ldns.h>

#include "fleet/dns_client.hpp"

namespace kiteline::fleet {
namespace {

tsig_key test_key() {
  config::fleet_tsig t;
  t.algorithm = "hmac-sha256";
  t.name = "fleet";
  t.key_base64 = config::secret("c2VjcmV0c2VjcmV0c2VjcmV0");
  return make_tsig_key(t);
}

struct parsed {
  ldns_pkt* pkt = nullptr;
  ~parsed() { ldns_pkt_free(pkt); }
};

TEST(FleetDnsMessage, TsigKeyNames) {
  const auto k = test_key();
  EXPECT_EQ(k.name, "fleet.");
  EXPECT_EQ(k.algorithm, "hmac-sha256.");
  config::fleet_tsig md5;
  md5.algorithm = "hmac-md5";
  md5.name = "k";
  EXPECT_EQ(make_tsig_key(md5).algorithm, "hmac-md5.sig-alg.reg.int.");
  EXPECT_TRUE(make_tsig_key(config::fleet_tsig{}).name.empty());
}

TEST(FleetDnsMessage, UpdateReadsBackWithAddsDeletesAndTsig) {
  std::string error;
  const auto wire = build_update("kite.test", {{"foo.kite.test", "127.0.0.11"}, {"fe.kite.test", "::1"}},
                                 {{"bar.kite.test", "127.0.0.11"}}, 7, test_key(), 4242, error);
  ASSERT_FALSE(wire.empty()) << error;
  parsed p;
  ASSERT_EQ(ldns_wire2pkt(&p.pkt, wire.data(), wire.size()), LDNS_STATUS_OK);
  EXPECT_EQ(ldns_pkt_get_opcode(p.pkt), LDNS_PACKET_UPDATE);
  EXPECT_EQ(ldns_pkt_id(p.pkt), 4242);
  // Update packets reuse the sections: zone = question, update = authority.
  ASSERT_EQ(ldns_rr_list_rr_count(ldns_pkt_question(p.pkt)), 1U);
  const ldns_rr_list* up = ldns_pkt_authority(p.pkt);
  ASSERT_EQ(ldns_rr_list_rr_count(up), 3U);
  EXPECT_EQ(ldns_rr_get_type(ldns_rr_list_rr(up, 0)), LDNS_RR_TYPE_A);
  EXPECT_EQ(ldns_rr_get_class(ldns_rr_list_rr(up, 0)), LDNS_RR_CLASS_IN);
  EXPECT_EQ(ldns_rr_ttl(ldns_rr_list_rr(up, 0)), 7U);
  EXPECT_EQ(ldns_rr_get_type(ldns_rr_list_rr(up, 1)), LDNS_RR_TYPE_AAAA);
  EXPECT_EQ(ldns_rr_get_class(ldns_rr_list_rr(up, 2)), LDNS_RR_CLASS_NONE);
  EXPECT_EQ(ldns_rr_ttl(ldns_rr_list_rr(up, 2)), 0U);
  ASSERT_NE(ldns_pkt_tsig(p.pkt), nullptr);
  // The signature verifies with the same key.
  EXPECT_TRUE(ldns_pkt_tsig_verify(p.pkt, wire.data(), wire.size(), "fleet.",
                                   "c2VjcmV0c2VjcmV0c2VjcmV0", nullptr));
}

TEST(FleetDnsMessage, BadAddressIsRefusedBeforeSending) {
  std::string error;
  EXPECT_TRUE(build_update("kite.test", {{"foo.kite.test", "not-an-ip"}}, {}, 7, {}, 1, error)
                  .empty());
  EXPECT_FALSE(error.empty());
}

TEST(FleetDnsMessage, AxfrQueryIsSigned) {
  std::string error;
  const auto q = build_axfr_query("kite.test", test_key(), 7, error);
  ASSERT_FALSE(q.empty()) << error;
  parsed p;
  ASSERT_EQ(ldns_wire2pkt(&p.pkt, q.data(), q.size()), LDNS_STATUS_OK);
  EXPECT_EQ(ldns_rr_get_type(ldns_rr_list_rr(ldns_pkt_question(p.pkt), 0)), LDNS_RR_TYPE_AXFR);
  EXPECT_NE(ldns_pkt_tsig(p.pkt), nullptr);
}

// An AXFR-like answer built with ldns: SOA, NS, A, AAAA, TXT, SOA.
std::vector<std::uint8_t> zone_answer() {
  ldns_pkt* pkt = ldns_pkt_new();
  ldns_pkt_set_id(pkt, 99);
  ldns_pkt_set_qr(pkt, true);
  for (const char* text : {"kite.test. 10 IN SOA ns.kite.test. a.kite.test. 1 60 60 600 10",
                           "kite.test. 10 IN NS ns.kite.test.", "NS.kite.test. 10 IN A 10.0.0.1",
                           "Foo.Kite.Test. 10 IN A 127.0.0.11", "fe.kite.test. 10 IN AAAA ::11",
                           "t.kite.test. 10 IN TXT \"x\"",
                           "kite.test. 10 IN SOA ns.kite.test. a.kite.test. 1 60 60 600 10"}) {
    ldns_rr* rr = nullptr;
    EXPECT_EQ(ldns_rr_new_frm_str(&rr, text, 0, nullptr, nullptr), LDNS_STATUS_OK);
    ldns_pkt_push_rr(pkt, LDNS_SECTION_ANSWER, rr);
  }
  std::uint8_t* wire = nullptr;
  std::size_t size = 0;
  EXPECT_EQ(ldns_pkt2wire(&wire, pkt, &size), LDNS_STATUS_OK);
  std::vector<std::uint8_t> out(wire, wire + size);
  std::free(wire);  // NOLINT(cppcoreguidelines-no-malloc)
  ldns_pkt_free(pkt);
  return out;
}

TEST(FleetDnsMessage, ReadAnswerExtractsAddressRecords) {
  const auto wire = zone_answer();
  const auto a = read_answer(wire.data(), wire.size());
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->id, 99);
  EXPECT_EQ(a->rcode, 0);
  EXPECT_EQ(a->soa_count, 2);
  ASSERT_EQ(a->ns_names, std::vector<std::string>{"ns.kite.test"});
  const std::vector<address_record> want{
      {"ns.kite.test", "10.0.0.1"}, {"foo.kite.test", "127.0.0.11"}, {"fe.kite.test", "::11"}};
  EXPECT_EQ(a->records, want);
  EXPECT_FALSE(is_refusal(*a));
  EXPECT_EQ(describe(*a), "NOERROR");
}

TEST(FleetDnsMessage, ReadAnswerAtEverySplitPointIsSafe) {
  const auto wire = zone_answer();
  for (std::size_t n = 0; n < wire.size(); ++n) {
    const auto a = read_answer(wire.data(), n);  // a prefix: rejected or partial, never a crash
    if (a) {
      EXPECT_LE(a->records.size(), 3U);
    }
  }
}

TEST(FleetDnsMessage, RefusalsAreRecognised) {
  dns_answer a;
  a.rcode = LDNS_RCODE_NOTAUTH;
  a.tsig_error = 16;
  EXPECT_TRUE(is_refusal(a));
  EXPECT_EQ(describe(a), "NOTAUTH/BADSIG");
  a = {};
  a.rcode = LDNS_RCODE_REFUSED;
  EXPECT_TRUE(is_refusal(a));
  a.rcode = LDNS_RCODE_SERVFAIL;
  EXPECT_FALSE(is_refusal(a));
}

// A header with `ar` additional records, then those records: each a root name, TYPE, class
// ANY/IN, TTL 0, no data.
std::vector<std::uint8_t> message_with(std::initializer_list<std::uint16_t> types) {
  std::vector<std::uint8_t> m{0x12, 0x34, 0x80, 0, 0, 0, 0, 0, 0, 0, 0,
                              static_cast<std::uint8_t>(types.size())};
  for (const std::uint16_t t : types) {
    const std::uint8_t rr[] = {0, static_cast<std::uint8_t>(t >> 8), static_cast<std::uint8_t>(t),
                               0, 255, 0, 0, 0, 0, 0, 0};
    m.insert(m.end(), std::begin(rr), std::end(rr));
  }
  return m;
}

TEST(FleetDnsMessage, TsigOnlyAsTheLastRecord) {
  for (const auto& m : {message_with({}), message_with({1}), message_with({250}),
                        message_with({1, 250})}) {
    EXPECT_TRUE(tsig_placement_ok(m.data(), m.size()));
  }
  // Two TSIGs (ldns_wire2pkt leaks the first: the fuzz finding), or one before another record.
  for (const auto& m : {message_with({250, 250}), message_with({250, 1}),
                        message_with({1, 250, 250})}) {
    EXPECT_FALSE(tsig_placement_ok(m.data(), m.size()));
    EXPECT_FALSE(read_answer(m.data(), m.size()).has_value());
  }
  // Every prefix is either fine to hand to ldns (which refuses it) or refused here.
  const auto two = message_with({250, 250});
  for (std::size_t cut = 0; cut < two.size(); ++cut) {
    (void)tsig_placement_ok(two.data(), cut);
  }
}

TEST(FleetDnsClient, ParsesServerAddresses) {
  auto s = parse_dns_server("127.0.0.10:5353");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->address, "127.0.0.10");
  EXPECT_EQ(s->port, 5353);
  EXPECT_EQ(parse_dns_server("127.0.0.10")->port, 53);
  EXPECT_EQ(parse_dns_server("[::1]:54")->port, 54);
  EXPECT_EQ(parse_dns_server("::1")->address, "::1");
  EXPECT_FALSE(parse_dns_server("host.example:53"));
  EXPECT_FALSE(parse_dns_server("127.0.0.1:0"));
  EXPECT_FALSE(parse_dns_server("127.0.0.1:99999"));
}

}  // namespace
}  // namespace kiteline::fleet
