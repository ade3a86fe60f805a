// Test helper: signs DNS replies with ldns as a server does (RFC 8945 §5.3): the first over the
// request's MAC, the next ones of a stream with the running MAC (unsigned ones in between
// covered by the next signed one).
#pragma once

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include <ldns/ldns.h>

#include "fleet/dns_message.hpp"

namespace kiteline::fleet::test {

inline tsig_key make_key(const std::string& name, const std::string& base64) {
  config::fleet_tsig t;
  t.algorithm = "hmac-sha256";
  t.name = name;
  t.key_base64 = config::secret(base64);
  return make_tsig_key(t);
}

inline std::vector<std::uint8_t> to_wire(const ldns_pkt* pkt) {
  std::uint8_t* wire = nullptr;
  std::size_t size = 0;
  if (ldns_pkt2wire(&wire, pkt, &size) != LDNS_STATUS_OK) {
    return {};
  }
  std::vector<std::uint8_t> out(wire, wire + size);
  std::free(wire);  // NOLINT(cppcoreguidelines-no-malloc)
  return out;
}

/// A reply to `request` (same id and question) with `records` ("NAME. TTL IN TYPE DATA") in its
/// answer section. The caller frees it.
inline ldns_pkt* make_reply(const std::vector<std::uint8_t>& request,
                            const std::vector<std::string>& records) {
  ldns_pkt* q = nullptr;
  if (ldns_wire2pkt(&q, request.data(), request.size()) != LDNS_STATUS_OK) {
    return nullptr;
  }
  ldns_pkt* r = ldns_pkt_new();
  ldns_pkt_set_id(r, ldns_pkt_id(q));
  ldns_pkt_set_qr(r, true);
  ldns_pkt_set_aa(r, true);
  ldns_pkt_set_opcode(r, ldns_pkt_get_opcode(q));
  if (ldns_pkt_qdcount(q) > 0) {
    ldns_pkt_push_rr(r, LDNS_SECTION_QUESTION, ldns_rr_clone(ldns_rr_list_rr(ldns_pkt_question(q), 0)));
  }
  for (const auto& text : records) {
    ldns_rr* rr = nullptr;
    if (ldns_rr_new_frm_str(&rr, text.c_str(), 0, nullptr, nullptr) == LDNS_STATUS_OK) {
      ldns_pkt_push_rr(r, LDNS_SECTION_ANSWER, rr);
    }
  }
  ldns_pkt_free(q);
  return r;
}

/// Signs the replies to one request in order (plain() for the unsigned ones of a stream).
class signer {
 public:
  signer(tsig_key key, const std::vector<std::uint8_t>& request) : key_(std::move(key)) {
    ldns_pkt* q = nullptr;
    if (ldns_wire2pkt(&q, request.data(), request.size()) == LDNS_STATUS_OK &&
        ldns_pkt_tsig(q) != nullptr) {
      mac_ = bytes(ldns_rr_rdf(ldns_pkt_tsig(q), 3));
    }
    ldns_pkt_free(q);
  }
  /// Signs and frees `pkt`.
  std::vector<std::uint8_t> sign(ldns_pkt* pkt) {
    std::vector<std::uint8_t> prior = mac_;
    prior.insert(prior.end(), unsigned_.begin(), unsigned_.end());
    ldns_rdf* prior_rdf = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_INT16_DATA, prior.size(), prior.data());
    const ldns_status st =
        first_ ? ldns_pkt_tsig_sign(pkt, key_.name.c_str(), key_.secret.c_str(), 300,
                                    key_.algorithm.c_str(), prior_rdf)
               : ldns_pkt_tsig_sign_next(pkt, key_.name.c_str(), key_.secret.c_str(), 300,
                                         key_.algorithm.c_str(), prior_rdf, 1);
    ldns_rdf_deep_free(prior_rdf);
    std::vector<std::uint8_t> out;
    if (st == LDNS_STATUS_OK) {
      mac_ = bytes(ldns_rr_rdf(ldns_pkt_tsig(pkt), 3));
      out = to_wire(pkt);
    }
    unsigned_.clear();
    first_ = false;
    ldns_pkt_free(pkt);
    return out;
  }
  /// The wire of `pkt` unsigned (covered by the next sign()); frees it.
  std::vector<std::uint8_t> plain(ldns_pkt* pkt) {
    auto out = to_wire(pkt);
    unsigned_.insert(unsigned_.end(), out.begin(), out.end());
    ldns_pkt_free(pkt);
    return out;
  }

 private:
  static std::vector<std::uint8_t> bytes(const ldns_rdf* rdf) {
    const auto* d = ldns_rdf_data(rdf);
    return {d, d + ldns_rdf_size(rdf)};
  }
  tsig_key key_;
  std::vector<std::uint8_t> mac_;
  std::vector<std::uint8_t> unsigned_;
  bool first_ = true;
};

}  // namespace kiteline::fleet::test
