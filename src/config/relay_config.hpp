// config::relay_config: everything `kiteline frontend` (pagekite.py --isfrontend) runs with.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/process_config.hpp"
#include "config/relay_access_config.hpp"
#include "config/relay_fleet_config.hpp"
#include "config/secret.hpp"

namespace kiteline::config {

/// A protocol with an optional public port: "http", "http-8080" (also written "http/8080").
struct proto_port {
  std::string proto;                   ///< lower-case protocol name
  std::optional<std::uint16_t> port;   ///< public port, when the kite is port-specific

  friend bool operator==(const proto_port&, const proto_port&) = default;
};

/// --portalias=A:B: listen on A, report and route as B (§6.1).
struct port_alias {
  std::uint16_t listen_port = 0;
  std::uint16_t reported_port = 0;

  friend bool operator==(const port_alias&, const port_alias&) = default;
};

/// --domain=PROTOS:DOMAIN:SECRET: connectors knowing SECRET may register kites under DOMAIN.
struct domain_rule {
  bool any_proto = false;          ///< PROTOS was `*` or empty: every protocol of --protos
  std::vector<proto_port> protos;  ///< empty when any_proto
  std::string domain;              ///< lower-cased; may be a wildcard `*.example.com`
  secret shared_secret;
  std::string origin;              ///< where it was configured (file:line / argv[N])

  friend bool operator==(const domain_rule&, const domain_rule&) = default;
};

/// --tls_endpoint=NAME:PEMFILE: terminate TLS for NAME (wildcards allowed) with PEMFILE
/// (private key + certificate chain in one file).
struct tls_endpoint {
  std::string name;  ///< lower-cased; may be `*.example.com`
  std::string pem_file;
  std::string origin;

  friend bool operator==(const tls_endpoint&, const tls_endpoint&) = default;
};

/// A --errorurl=DOMAIN:URL entry (both roles; config/error_url.hpp chooses among them).
struct error_url_rule {
  std::string domain;
  std::string url;

  friend bool operator==(const error_url_rule&, const error_url_rule&) = default;
};

/// The protocols a relay accepts by default (§6.1, §10.5).
inline std::vector<std::string> default_relay_protos() {
  return {"http", "http2", "http3", "https", "websocket", "irc", "raw", "minecraft", "xmpp"};
}

/// One --authdomain=[KITEDOMAIN:]SUFFIX (spec 8.2): kites named *.KITEDOMAIN (any kite when
/// KITEDOMAIN is empty) are authenticated by asking DNS about a name under SUFFIX, or, when
/// SUFFIX holds a '/', by the auth app at that absolute path (spec 8.3; relay/auth_app).
struct authdomain_rule {
  std::string kite_domain;  ///< lower case; "" = the default rule
  std::string suffix;       ///< the authority's zone, without a trailing dot; or the app's path

  friend bool operator==(const authdomain_rule&, const authdomain_rule&) = default;
};

/// DNS-delegated authentication of kites (--authdomain, spec 8.2-8.4; relay/authority).
struct relay_auth_config {
  std::vector<authdomain_rule> domains;  ///< --authdomain (accumulates; longest KITEDOMAIN wins)
  std::size_t max_in_flight = 64;        ///< --auththreads: lookups in flight, relay-wide
  bool fail_open = false;                ///< --authfail_open (kiteline; default fail closed)
  std::string dns_server;                ///< --authdns=IP:PORT (kiteline); "" = resolv.conf
  std::chrono::milliseconds timeout{5000};   ///< --authdns_timeout SECONDS (kiteline)
  std::chrono::seconds recheck{900};         ///< --authdomain_recheck_seconds (kiteline)

  friend bool operator==(const relay_auth_config&, const relay_auth_config&) = default;
};

/// The relay's configuration. Plain and immutable once parse_command_line returns it.
struct relay_config {
  std::string host;                                ///< --host/-h; "" = all addresses, dual-stack
  std::vector<std::uint16_t> ports{80};            ///< --ports/-p (last one wins; comma list)
  std::vector<port_alias> port_aliases;            ///< --portalias (accumulates)
  std::vector<std::string> protos = default_relay_protos();  ///< --protos
  std::vector<std::uint16_t> raw_ports;            ///< --rawports numeric entries
  bool raw_virtual = false;                        ///< --rawports contains `virtual`
  std::vector<domain_rule> domains;                ///< --domain (accumulates)
  std::vector<tls_endpoint> tls_endpoints;         ///< --tls_endpoint (accumulates)
  std::string tls_default;                         ///< --tls_default: name when SNI is missing
  bool tls_legacy = false;                         ///< --tls_legacy: allow TLS 1.0/1.1
  bool tls_openssl_records = false;                ///< --tls_openssl_records (docs/tls.md §5)
  std::string tls_ciphers;                         ///< --tls_ciphers; "" = built-in list
  std::string tls_protocols;  ///< --tls_protocols (kiteline; verbatim, see tls::resolve_tls_protocols)
  std::string tls_client_ca;                       ///< --tls_client_ca (kiteline; mutual TLS CA)
  bool tls_keys_inprocess = false;                 ///< --tls_keys_inprocess: no key process
  std::chrono::seconds tls_reload_interval{5};     ///< --tls_reload_seconds; 0 = SIGHUP only
  std::string tls_endpoint_ca;                     ///< --tls_endpoint_ca: reload must verify
  bool tls_client_required = false;                ///< --tls_client_required (kiteline)
  std::string motd_file;                           ///< --motd
  std::chrono::seconds visitor_timeout{10};        ///< --visitor_timeout (kiteline)
  std::chrono::seconds auth_timeout{20};           ///< --auth_timeout: probation life (kiteline)
  std::size_t max_unauth_tunnels = 256;            ///< --max_unauth_tunnels N (kiteline)
  std::size_t max_unauth_per_ip = 16;              ///< --max_unauth_tunnels N/PER_IP
  relay_auth_config auth;                          ///< --authdomain and friends (spec 8.2)
  relay_access_config access;  ///< ACLs, --ratelimit_ips, --overload* (relay_access_config.hpp)
  /// --errorurl=URL: the relay's 503 page ("no tunnel") becomes a frameset loading URL.
  std::string error_url;
  std::vector<error_url_rule> error_urls;          ///< --errorurl=DOMAIN:URL
  /// "proto[-port]:kite" of the kites the relay serves itself (--service_on on a relay, see
  /// config/local_backends.hpp): only its in-process connector registers them.
  std::vector<std::string> local_kites;
  relay_fleet_config fleet;  ///< --fleet_*: publish kites in DNS, forward to peers (issue 24)
  process_config process;

  friend bool operator==(const relay_config&, const relay_config&) = default;
};

}  // namespace kiteline::config
