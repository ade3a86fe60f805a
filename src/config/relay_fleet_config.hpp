// config::relay_fleet_config: a relay's place in a fleet whose routing lives in DNS (issue 24):
// where it publishes the kites it holds (RFC 2136 + TSIG), the address it publishes, and the
// peer port other relays forward visitors to (PROXY v2 + HMAC). Plain struct; fleet/ runs it.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "config/secret.hpp"

namespace kiteline::config {

/// --fleet_tsig=ALG:NAME:BASE64SECRET (the key Knot/BIND/PowerDNS know under NAME).
struct fleet_tsig {
  std::string algorithm;  ///< lower case, e.g. "hmac-sha256" (hmac-sha1/224/256/384/512, hmac-md5)
  std::string name;       ///< the key's name, lower case, without a trailing dot
  secret key_base64;      ///< the key as given (base64); decodes to at least one byte

  friend bool operator==(const fleet_tsig&, const fleet_tsig&) = default;
};

struct relay_fleet_config {
  /// --fleet_dns=IP[:PORT]: the authoritative server taking UPDATEs for the zone (port 53 by
  /// default). Empty = no fleet: the relay neither publishes nor forwards.
  std::string dns_server;
  std::string zone;       ///< --fleet_zone=ZONE, lower case, no trailing dot
  fleet_tsig tsig;        ///< --fleet_tsig
  /// --fleet_address=IP (repeatable: one IPv4 and/or one IPv6): what visitors reach this relay
  /// on; published as KITE.ZONE A/AAAA and fe.ZONE. Required with --fleet_dns.
  std::vector<std::string> addresses;
  /// --fleet_port=PORT: the peer port (PROXY v2 + HMAC only), on every --fleet_address; every
  /// relay of a fleet uses the same number. 0 = no peer port (the relay publishes, and forwards
  /// nothing).
  std::uint16_t port = 0;
  secret peer_secret;     ///< --fleet_secret: the HMAC key shared by the fleet's relays
  std::chrono::seconds ttl{10};             ///< --fleet_ttl: TTL of published records
  std::chrono::seconds cache{5};            ///< --fleet_cache_seconds: peer lookups kept
  std::chrono::seconds peer_timeout{30};    ///< --fleet_peer_timeout: a silent peer is dead
  std::chrono::seconds peer_interval{5};    ///< --fleet_ping_seconds: peers pinged this often

  [[nodiscard]] bool enabled() const noexcept { return !dns_server.empty(); }

  friend bool operator==(const relay_fleet_config&, const relay_fleet_config&) = default;
};

}  // namespace kiteline::config
