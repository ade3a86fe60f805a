#include "fleet/dns_message.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <memory>

#include <ldns/ldns.h>

namespace kiteline::fleet {
namespace {

struct pkt_free {
  void operator()(ldns_pkt* p) const noexcept { ldns_pkt_free(p); }
};
struct rr_list_free {
  void operator()(ldns_rr_list* l) const noexcept { ldns_rr_list_deep_free(l); }
};
using pkt_ptr = std::unique_ptr<ldns_pkt, pkt_free>;
using rr_list_ptr = std::unique_ptr<ldns_rr_list, rr_list_free>;

std::string absolute(std::string_view name) {
  std::string out(name);
  if (out.empty() || out.back() != '.') {
    out += '.';
  }
  return out;
}

std::string lower_relative(const ldns_rdf* rdf) {
  char* text = ldns_rdf2str(rdf);
  if (text == nullptr) {
    return {};
  }
  std::string out(text);
  std::free(text);  // NOLINT(cppcoreguidelines-no-malloc): ldns allocates with malloc
  if (!out.empty() && out.back() == '.') {
    out.pop_back();
  }
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// "NAME. TTL CLASS TYPE ADDRESS" through ldns's own parser (checks the name and the address).
ldns_rr* make_rr(const address_record& r, std::uint32_t ttl, bool remove, std::string& error) {
  const std::string text = absolute(r.name) + " " + std::to_string(remove ? 0 : ttl) + " IN " +
                           (r.is_v6() ? "AAAA " : "A ") + r.address;
  ldns_rr* rr = nullptr;
  if (ldns_rr_new_frm_str(&rr, text.c_str(), 0, nullptr, nullptr) != LDNS_STATUS_OK ||
      rr == nullptr) {
    error = "bad record: " + text;
    return nullptr;
  }
  if (remove) {
    ldns_rr_set_class(rr, LDNS_RR_CLASS_NONE);  // RFC 2136 §2.5.4: delete this RR only
  }
  return rr;
}

std::vector<std::uint8_t> sign_and_wire(ldns_pkt* pkt, const tsig_key& key, std::uint16_t id,
                                        std::string& error) {
  ldns_pkt_set_id(pkt, id);
  if (!key.name.empty()) {
    const ldns_status st = ldns_pkt_tsig_sign(pkt, key.name.c_str(), key.secret.c_str(), 300,
                                              key.algorithm.c_str(), nullptr);
    if (st != LDNS_STATUS_OK) {
      error = std::string("TSIG signing failed: ") + ldns_get_errorstr_by_id(st);
      return {};
    }
  }
  std::uint8_t* wire = nullptr;
  std::size_t size = 0;
  if (ldns_pkt2wire(&wire, pkt, &size) != LDNS_STATUS_OK || wire == nullptr) {
    error = "cannot encode the DNS message";
    return {};
  }
  std::vector<std::uint8_t> out(wire, wire + size);
  std::free(wire);  // NOLINT(cppcoreguidelines-no-malloc)
  return out;
}

}  // namespace

tsig_key make_tsig_key(const config::fleet_tsig& t) {
  tsig_key k;
  if (t.name.empty()) {
    return k;
  }
  k.name = absolute(t.name);
  k.algorithm = t.algorithm == "hmac-md5" ? "hmac-md5.sig-alg.reg.int." : absolute(t.algorithm);
  k.secret = t.key_base64.reveal();
  return k;
}

std::vector<std::uint8_t> build_update(std::string_view zone,
                                       const std::vector<address_record>& adds,
                                       const std::vector<address_record>& deletes,
                                       std::uint32_t ttl, const tsig_key& key, std::uint16_t id,
                                       std::string& error) {
  rr_list_ptr up(ldns_rr_list_new());
  for (const auto& r : adds) {
    ldns_rr* rr = make_rr(r, ttl, false, error);
    if (rr == nullptr) {
      return {};
    }
    ldns_rr_list_push_rr(up.get(), rr);
  }
  for (const auto& r : deletes) {
    ldns_rr* rr = make_rr(r, ttl, true, error);
    if (rr == nullptr) {
      return {};
    }
    ldns_rr_list_push_rr(up.get(), rr);
  }
  ldns_rdf* zone_rdf = ldns_dname_new_frm_str(absolute(zone).c_str());
  if (zone_rdf == nullptr) {
    error = "bad zone name";
    return {};
  }
  // ldns_update_pkt_new takes the zone name and copies the lists' records.
  pkt_ptr pkt(ldns_update_pkt_new(zone_rdf, LDNS_RR_CLASS_IN, nullptr, up.get(), nullptr));
  if (!pkt) {
    error = "cannot build the UPDATE";
    return {};
  }
  return sign_and_wire(pkt.get(), key, id, error);
}

std::vector<std::uint8_t> build_axfr_query(std::string_view zone, const tsig_key& key,
                                           std::uint16_t id, std::string& error) {
  ldns_rdf* zone_rdf = ldns_dname_new_frm_str(absolute(zone).c_str());
  if (zone_rdf == nullptr) {
    error = "bad zone name";
    return {};
  }
  pkt_ptr pkt(ldns_pkt_query_new(zone_rdf, LDNS_RR_TYPE_AXFR, LDNS_RR_CLASS_IN, 0));
  if (!pkt) {
    error = "cannot build the AXFR query";
    return {};
  }
  return sign_and_wire(pkt.get(), key, id, error);
}

bool tsig_placement_ok(const std::uint8_t* data, std::size_t size) noexcept {
  constexpr std::uint16_t tsig_type = 250;
  if (size < 12) {
    return true;  // ldns refuses it
  }
  auto u16 = [&](std::size_t at) { return static_cast<std::uint16_t>((data[at] << 8) | data[at + 1]); };
  const std::size_t qd = u16(4);
  const std::size_t rrs = std::size_t{u16(6)} + u16(8) + u16(10);
  std::size_t pos = 12;
  // Skips a name (labels, ending in a root label or a compression pointer); false past the end.
  auto skip_name = [&]() -> bool {
    for (int labels = 0; labels < 128; ++labels) {
      if (pos >= size) {
        return false;
      }
      const std::uint8_t len = data[pos];
      if ((len & 0xC0) == 0xC0) {
        pos += 2;
        return pos <= size;
      }
      if ((len & 0xC0) != 0) {
        return false;
      }
      pos += 1 + len;
      if (len == 0) {
        return pos <= size;
      }
    }
    return false;
  };
  for (std::size_t i = 0; i < qd; ++i) {
    if (!skip_name() || (pos += 4) > size) {
      return true;  // truncated: ldns refuses it
    }
  }
  for (std::size_t i = 0; i < rrs; ++i) {
    if (!skip_name() || pos + 10 > size) {
      return true;
    }
    const std::uint16_t type = u16(pos);
    pos += 10 + std::size_t{u16(pos + 8)};
    if (type == tsig_type && i + 1 != rrs) {
      return false;  // a TSIG that is not the very last record
    }
  }
  return true;
}

namespace {

pkt_ptr parse(const std::uint8_t* data, std::size_t size) {
  ldns_pkt* raw = nullptr;
  if (!tsig_placement_ok(data, size) ||
      ldns_wire2pkt(&raw, data, size) != LDNS_STATUS_OK || raw == nullptr) {
    return nullptr;
  }
  return pkt_ptr(raw);
}

// The wire form of an rdf (an INT16_DATA rdf such as a TSIG MAC keeps its length first).
std::vector<std::uint8_t> rdf_bytes(const ldns_rdf* rdf) {
  const auto* d = ldns_rdf_data(rdf);
  return {d, d + ldns_rdf_size(rdf)};
}

bool same_name(const ldns_rdf* rdf, const std::string& absolute_name) {
  return rdf != nullptr && lower_relative(rdf) + "." == [&] {
    std::string s = absolute_name;
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
  }();
}

dns_answer answer_of(const ldns_pkt* pkt);

}  // namespace

std::vector<std::uint8_t> build_query(std::string_view name, bool v6, const tsig_key& key,
                                      std::uint16_t id, std::string& error) {
  ldns_rdf* qname = ldns_dname_new_frm_str(absolute(name).c_str());
  if (qname == nullptr) {
    error = "bad name";
    return {};
  }
  pkt_ptr pkt(ldns_pkt_query_new(qname, v6 ? LDNS_RR_TYPE_AAAA : LDNS_RR_TYPE_A,
                                 LDNS_RR_CLASS_IN, 0));
  if (!pkt) {
    error = "cannot build the query";
    return {};
  }
  return sign_and_wire(pkt.get(), key, id, error);
}

std::optional<dns_answer> read_answer(const std::uint8_t* data, std::size_t size) {
  pkt_ptr pkt = parse(data, size);
  if (!pkt) {
    return std::nullopt;
  }
  return answer_of(pkt.get());
}

reply_verifier::reply_verifier(tsig_key key, const std::vector<std::uint8_t>& request)
    : key_(std::move(key)) {
  if (key_.name.empty()) {
    return;
  }
  if (pkt_ptr pkt = parse(request.data(), request.size())) {
    if (const ldns_rr* tsig = ldns_pkt_tsig(pkt.get());
        tsig != nullptr && ldns_rr_rd_count(tsig) > 3 && ldns_rr_rdf(tsig, 3) != nullptr) {
      mac_ = rdf_bytes(ldns_rr_rdf(tsig, 3));
    }
  }
}

std::optional<dns_answer> reply_verifier::next(const std::uint8_t* data, std::size_t size,
                                               std::string& error) {
  pkt_ptr pkt = parse(data, size);
  if (!pkt) {
    error = "unreadable message";
    return std::nullopt;
  }
  dns_answer answer = answer_of(pkt.get());
  if (key_.name.empty()) {
    return answer;
  }
  const ldns_rr* tsig = ldns_pkt_tsig(pkt.get());
  if (tsig == nullptr) {
    if (first_) {
      error = "unsigned " + describe(answer) + " reply";
      if (is_refusal(answer)) {
        error += ": check --fleet_tsig: the server refused the key, or its ACL";
      }
      return std::nullopt;
    }
    if (unsigned_run_ >= max_unsigned_run) {
      error = "more than 99 unsigned messages in a row";
      return std::nullopt;
    }
    ++unsigned_run_;
    unsigned_.insert(unsigned_.end(), data, data + size);
    last_signed_ = false;
    return answer;
  }
  if (ldns_rr_rd_count(tsig) < 5 || !same_name(ldns_rr_owner(tsig), key_.name) ||
      !same_name(ldns_rr_rdf(tsig, 0), key_.algorithm) || mac_.empty()) {
    error = "signed with another key";
    return std::nullopt;
  }
  // Not covered by the MAC as ldns computes it: checked here (RFC 8945 §4.2: class ANY, TTL 0;
  // the original id is the request's).
  const ldns_rdf* original_id = ldns_rr_rdf(tsig, 4);
  if (ldns_rr_get_class(tsig) != LDNS_RR_CLASS_ANY || ldns_rr_ttl(tsig) != 0 ||
      original_id == nullptr || ldns_rdf_size(original_id) != 2 ||
      ldns_rdf2native_int16(original_id) != answer.id) {
    error = "malformed TSIG record";
    return std::nullopt;
  }
  // RFC 8945 §5.3.1: the digest covers the prior MAC, then the unsigned messages since, then
  // this message: ldns puts the "prior MAC" bytes first, so they carry the unsigned ones too.
  std::vector<std::uint8_t> prior = mac_;
  prior.insert(prior.end(), unsigned_.begin(), unsigned_.end());
  ldns_rdf* prior_rdf =
      ldns_rdf_new_frm_data(LDNS_RDF_TYPE_INT16_DATA, prior.size(), prior.data());
  if (prior_rdf == nullptr) {
    error = "out of memory";
    return std::nullopt;
  }
  const bool ok =
      first_ ? ldns_pkt_tsig_verify(pkt.get(), data, size, key_.name.c_str(), key_.secret.c_str(),
                                    prior_rdf)
             : ldns_pkt_tsig_verify_next(pkt.get(), data, size, key_.name.c_str(),
                                         key_.secret.c_str(), prior_rdf, 1);
  ldns_rdf_deep_free(prior_rdf);
  if (!ok) {
    // RFC 8945 §5.3.2: a server that cannot verify our request (BADSIG, BADKEY) answers with
    // an empty MAC: unsigned, so not to be trusted, but the likely cause is our key.
    const ldns_rdf* mac = ldns_rr_rdf(tsig, 3);
    error = mac == nullptr || ldns_rdf_size(mac) <= 2 ? "unsigned " + describe(answer) + " reply"
                                                      : "bad MAC";
    if (is_refusal(answer)) {
      error += ": check --fleet_tsig: the server refused the key, or its ACL";
    }
    return std::nullopt;
  }
  mac_ = rdf_bytes(ldns_rr_rdf(ldns_pkt_tsig(pkt.get()), 3));
  unsigned_.clear();
  unsigned_run_ = 0;
  first_ = false;
  last_signed_ = true;
  return answer;
}

namespace {

dns_answer answer_of(const ldns_pkt* pkt) {
  dns_answer out;
  out.id = ldns_pkt_id(pkt);
  out.rcode = static_cast<int>(ldns_pkt_get_rcode(pkt));
  out.truncated = ldns_pkt_tc(pkt);
  if (const ldns_rr* tsig = ldns_pkt_tsig(pkt);
      tsig != nullptr && ldns_rr_rd_count(tsig) > 5 && ldns_rr_rdf(tsig, 5) != nullptr &&
      ldns_rdf_get_type(ldns_rr_rdf(tsig, 5)) == LDNS_RDF_TYPE_INT16) {
    out.tsig_error = ldns_rdf2native_int16(ldns_rr_rdf(tsig, 5));
  }
  const ldns_rr_list* answer = ldns_pkt_answer(pkt);
  const std::size_t n = answer == nullptr ? 0 : ldns_rr_list_rr_count(answer);
  for (std::size_t i = 0; i < n; ++i) {
    const ldns_rr* rr = ldns_rr_list_rr(answer, i);
    const ldns_rr_type type = ldns_rr_get_type(rr);
    if (type == LDNS_RR_TYPE_SOA) {
      ++out.soa_count;
      continue;
    }
    if (type == LDNS_RR_TYPE_NS && ldns_rr_rd_count(rr) == 1 && ldns_rr_rdf(rr, 0) != nullptr &&
        ldns_rdf_get_type(ldns_rr_rdf(rr, 0)) == LDNS_RDF_TYPE_DNAME) {
      out.ns_names.push_back(lower_relative(ldns_rr_rdf(rr, 0)));
      continue;
    }
    if ((type != LDNS_RR_TYPE_A && type != LDNS_RR_TYPE_AAAA) ||
        ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN || ldns_rr_rd_count(rr) != 1) {
      continue;
    }
    const ldns_rdf* addr = ldns_rr_rdf(rr, 0);
    const ldns_rdf_type want = type == LDNS_RR_TYPE_A ? LDNS_RDF_TYPE_A : LDNS_RDF_TYPE_AAAA;
    if (addr == nullptr || ldns_rdf_get_type(addr) != want || ldns_rr_owner(rr) == nullptr) {
      continue;
    }
    address_record rec{lower_relative(ldns_rr_owner(rr)), lower_relative(addr)};
    if (!rec.name.empty() && !rec.address.empty()) {
      out.records.push_back(std::move(rec));
    }
  }
  return out;
}

}  // namespace

bool is_refusal(const dns_answer& a) noexcept {
  return a.rcode == LDNS_RCODE_NOTAUTH || a.rcode == LDNS_RCODE_REFUSED || a.tsig_error != 0;
}

std::string describe(const dns_answer& a) {
  std::string out;
  const ldns_lookup_table* lt = ldns_lookup_by_id(ldns_rcodes, a.rcode);
  out = lt != nullptr ? lt->name : "RCODE" + std::to_string(a.rcode);
  switch (a.tsig_error) {
    case 0: break;
    case 16: out += "/BADSIG"; break;
    case 17: out += "/BADKEY"; break;
    case 18: out += "/BADTIME"; break;
    default: out += "/TSIG" + std::to_string(a.tsig_error); break;
  }
  return out;
}

}  // namespace kiteline::fleet
