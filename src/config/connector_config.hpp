// config::connector_config: everything `kiteline backend` (pagekite.py's default role) runs with.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/dyndns_provider.hpp"
#include "config/process_config.hpp"
#include "config/relay_config.hpp"
#include "config/secret.hpp"

namespace kiteline::config {

/// --frontend=HOST:PORT: one relay to connect to (default port 443).
struct frontend_address {
  std::string host;  ///< name or address literal, without brackets
  std::uint16_t port = 443;
  std::string origin;

  friend bool operator==(const frontend_address&, const frontend_address&) = default;
};

/// --frontends=N:NAME:PORT (or N:@FILE:PORT): a pool of relays, keep the N best (§9.1).
struct frontend_pool {
  unsigned count = 1;
  std::string dns_name;   ///< resolve all A/AAAA records of this name ("" when from_file)
  std::string file;       ///< N:@FILE:PORT form: addresses listed in this file
  std::uint16_t port = 443;

  friend bool operator==(const frontend_pool&, const frontend_pool&) = default;
};

/// --fe_certname=NAME or NAME/SHA1HEX: an acceptable relay certificate name, optionally pinned
/// to the SHA-1 of the DER certificate (§2.3).
struct cert_name {
  std::string name;                 ///< lower-cased
  std::optional<std::string> sha1;  ///< 40 lower-case hex digits when pinned

  friend bool operator==(const cert_name&, const cert_name&) = default;
};

/// Visitor HTTP Basic credentials of a kite (+password/USER=PASS).
struct basic_credential {
  std::string user;
  secret password;

  friend bool operator==(const basic_credential&, const basic_credential&) = default;
};

/// Directory listings of the built-in web server (+indexes, +indexes=all).
enum class index_mode { off, on, all };

/// Per-kite flags (§10.4 +flags and --service_cfg keys) that act on the connector.
struct service_flags {
  /// +rewritehost: "" = rewrite Host to the origin's own host name, NAME = rewrite to NAME;
  /// nullopt = leave Host alone.
  std::optional<std::string> rewrite_host;
  bool rawheaders = false;               ///< +rawheaders: add/rename no HTTP headers
  bool proxyproto = false;               ///< +proxyproto: send a PROXY v1 line to the origin
  bool insecure = false;                 ///< +insecure: no request firewall for this kite
  std::vector<std::string> ip_allow;     ///< +ip/1.2.3.4, +ip/1.2.3 (/24 prefix)
  std::vector<basic_credential> passwords;  ///< +password/USER=PASS
  index_mode indexes = index_mode::off;  ///< +indexes[=all] (built-in server only)
  bool hide = false;                     ///< +hide (built-in server only)

  friend bool operator==(const service_flags&, const service_flags&) = default;
};

/// Where the connector sends a kite's streams.
enum class origin_kind {
  tcp,      ///< origin_host:origin_port
  builtin,  ///< the built-in web server (PORT `builtin`)
  folder,   ///< the built-in web server serving `folder` read-only (short form /path NAME)
};

/// One kite served by the connector: (proto, public port, kite name) -> origin.
/// `--service_on=http,https:...` yields one service per protocol (pagekite.py does the same).
struct service {
  std::string proto;                          ///< http, http2, http3, https, websocket, raw, ...
  std::optional<std::uint16_t> public_port;   ///< PROTO-PORT / PROTO/PORT; `ssh` gives raw + 22
  std::string kite_name;                      ///< lower-cased, may be `*.example.com`
  origin_kind kind = origin_kind::tcp;
  std::string origin_host = "localhost";      ///< lower-cased, no brackets
  std::uint16_t origin_port = 0;              ///< meaningful when kind == tcp
  std::string folder;                         ///< meaningful when kind == folder
  secret kite_secret;
  bool enabled = true;                        ///< false for --service_off / --define_backend
  service_flags flags;
  std::string origin;                         ///< where it was configured

  /// "proto[-port]:kite", pagekite.py's backend id; unique among services.
  [[nodiscard]] std::string id() const {
    std::string out = proto;
    if (public_port) {
      out += '-';
      out += std::to_string(*public_port);
    }
    out += ':';
    out += kite_name;
    return out;
  }

  friend bool operator==(const service&, const service&) = default;
};

/// The connector's configuration. Plain and immutable once parse_command_line returns it.
struct connector_config {
  std::vector<frontend_address> frontends;     ///< --frontend (accumulates)
  std::optional<frontend_pool> pool;           ///< --frontends / --defaults / --whitelabel(s)
  std::vector<cert_name> fe_certnames;         ///< --fe_certname (accumulates; "" clears)
  std::string ca_certs;                        ///< --ca_certs: file, or auto/curl; "" = system
  bool fe_nocertcheck = false;                 ///< --fe_nocertcheck: TLS without verification
  bool tls_direct = false;  ///< --tls_direct (kiteline): TLS at once with SNI, no CONNECT preamble
  bool tls_legacy = false;                     ///< --tls_legacy: allow TLS 1.0/1.1
  bool tls_openssl_records = false;            ///< --tls_openssl_records (docs/tls.md §5)
  std::string tls_ciphers;                     ///< --tls_ciphers; "" = built-in list
  std::string tls_protocols;                   ///< --tls_protocols (kiteline; verbatim)
  std::string tls_client_cert;                 ///< --tls_client_cert: key + chain PEM (kiteline)
  bool tls_keys_inprocess = false;             ///< --tls_keys_inprocess: no key process
  std::vector<service> services;               ///< --service_on/--service_off + short form
  std::string kitename;                        ///< --kitename (or the first service's name)
  secret kitesecret;                           ///< --kitesecret (or the first service's secret)
  std::optional<std::chrono::seconds> keepalive;  ///< --keepalive=N (>= 20); nullopt = auto
  std::size_t max_conns = 4096;  ///< --max_conns: streams open to origins, all relays (kiteline)
  /// --origin_idle_timeout: a stream with nothing moving this long is closed (0 = never).
  std::chrono::seconds origin_idle_timeout{3600};
  bool insecure = false;                       ///< --insecure: no request firewall at all
  bool noprobes = false;                       ///< --noprobes: answer probes with "down"
  bool require_all = false;                    ///< --all/-a: fail unless every kite registers
  bool new_only = false;                       ///< --new/-N (kiteline never uses kite DNS)
  std::string error_url;                       ///< --errorurl=URL / -E
  std::vector<error_url_rule> error_urls;      ///< --errorurl=DOMAIN:URL
  /// --dyndns / -D (also set by --defaults, --whitelabel(s)); nullopt = no updates (§9.6).
  std::optional<dyndns_setting> dyndns;
  process_config process;

  friend bool operator==(const connector_config&, const connector_config&) = default;
};

}  // namespace kiteline::config
