#include "connector/kite_signing.hpp"

#include "core/text.hpp"
#include "wire/head.hpp"
#include "wire/kite_auth.hpp"
#include "wire/sha1.hpp"

namespace kiteline::connector {
std::string make_bsalt(std::string_view process_secret, std::string_view relay,
                       std::string_view kite_secret) {
  std::string material;
  material.reserve(process_secret.size() + relay.size() + kite_secret.size());
  material.append(process_secret).append(relay).append(kite_secret);
  return wire::sha1_hex(material).substr(0, 36);
}

std::string make_salt8(std::uint64_t random) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out(8, '0');
  for (std::size_t i = 0; i < 8; ++i) {
    out[i] = hex[(random >> (4 * (7 - i))) & 15U];
  }
  return out;
}

std::string kite_proto(const config::service& s) {
  std::string p = to_lower(s.proto);
  if (s.public_port) {
    p += '-';
    p += std::to_string(*s.public_port);
  }
  return p;
}

wire::kite_request sign_kite(const config::service& s, std::string_view bsalt,
                             std::string_view fsalt, std::string_view salt8) {
  wire::kite_request k;
  k.proto = kite_proto(s);
  k.domain = to_lower(s.kite_name);
  k.bsalt = std::string(bsalt);
  k.fsalt = std::string(fsalt);
  k.signature =
      wire::make_kite_signature(s.kite_secret.reveal(), k.proto, k.domain, k.bsalt, k.fsalt, salt8);
  return k;
}

wire::handshake_request make_request(std::vector<wire::kite_request> kites, bool nozchunks,
                                     std::string replace) {
  wire::handshake_request r;
  r.add_kites = true;
  r.zchunks = !nozchunks;
  r.versions = {std::string(kiteline_pagekite_version), std::string(kiteline_pagekite_version)};
  r.replace = std::move(replace);
  r.kites = std::move(kites);
  return r;
}

}  // namespace kiteline::connector
