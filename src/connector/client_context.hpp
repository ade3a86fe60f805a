// connector client_context: the immutable settings and shared counters every tunnel_client of
// one connector reads (owned by connector::client; no globals).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <spdlog/logger.h>

#include "accesslog/sink.hpp"
#include "config/connector_config.hpp"
#include "connector/backoff.hpp"
#include "core/result.hpp"
#include "net/asio.hpp"
#include "tls/client_context.hpp"

namespace kiteline::keys {
class key_store;
}  // namespace kiteline::keys

namespace kiteline::connector {

/// kiteline-only knobs of the connector (timeouts, test hooks). Defaults are for production.
struct client_options {
  backoff::settings retry{};                           ///< after a failed attempt / a lost tunnel
  std::chrono::milliseconds rejected_retry{30000};     ///< after a round with zero OK (§4.5)
  std::chrono::milliseconds ping_timeout{3000};        ///< relay ping (§3)
  std::chrono::milliseconds connect_timeout{10000};    ///< TCP connect + TLS handshake
  std::chrono::milliseconds handshake_timeout{30000};  ///< reading the relay's reply (§5.8)
  std::chrono::milliseconds origin_timeout{2000};      ///< connecting an origin (§7.1)
  std::chrono::milliseconds stable_after{5000};        ///< tunnel up this long: backoff reset
  /// A relay that could not be reached (its ping failed) is probed with a relay ping every
  /// probe_interval (jittered +-25 %) while a reconnection delay longer than probe_after runs;
  /// when it answers, the delay ends at once. So a restarted relay is used again within about
  /// probe_interval of its return, whatever the backoff reached. A relay that answered but
  /// failed later (TLS, handshake, refused kites) is not probed: its backoff runs in full.
  std::chrono::milliseconds probe_after{2000};
  std::chrono::milliseconds probe_interval{500};
  std::chrono::milliseconds probe_timeout{1000};       ///< one probe's relay ping
  std::chrono::milliseconds pool_interval{15 * 60 * 1000};  ///< --frontends re-evaluation (§9.2)
  /// A pool relay no longer chosen is closed once it carries no stream and its replacement is
  /// live, or after this grace at the latest (pagekite.py: 10 min, only when idle).
  std::chrono::milliseconds retire_grace{10 * 60 * 1000};
  /// A relay already in use keeps its place unless a candidate's ping beats it by this much
  /// (hysteresis against flapping between relays that are equally near).
  std::chrono::milliseconds pool_stickiness{25};
  /// --all: start-up fails when, after every relay's first attempt (or this long), some kite is
  /// live on no relay (pagekite.py's 120 s overall connection deadline).
  std::chrono::milliseconds require_all_timeout{120000};
  /// Called once (on a worker) when the connector gives up for good (--all); `why` says why.
  std::function<void(const std::string& why)> on_fatal;
  /// zlib level of our ZChunks. pagekite.py's connector uses 9; 6 (zlib's default) gives nearly
  /// the same ratio for far less CPU on bulk transfers.
  int compression_level = 6;
  /// Local reads pause while the tunnel's outbox holds this many bytes (kiteline::tunnel::link_options'
  /// default; tests make it small).
  std::size_t outbox_high_water = 1024 * 1024;
  bool force_flow_a_for_test = false;  ///< never use the in-tunnel round (Flow B)
  /// Called on the tunnel's worker when a kite is accepted: ("http:foo.test", "127.0.0.1:443").
  std::function<void(const std::string& kite, const std::string& relay)> on_kite_live;
  /// Local resolver table for relay-pool names (--frontends, --defaults, --whitelabel): when
  /// set, discovery asks it instead of DNS, on the worker; it must not block. Returns the
  /// endpoints for (name, pool port), empty = unknown. Tests map `fe4_152.DOMAIN` to loopback.
  std::function<std::vector<net::tcp::endpoint>(const std::string& name, std::uint16_t port)>
      resolver;
  /// Where the --tls_client_cert private key lives: a key process (main starts one unless
  /// --tls_keys_inprocess) or, when null, this process (SSL_CTX_use_PrivateKey_file).
  std::shared_ptr<kiteline::keys::key_store> keys;
  /// Where access-log lines go (--accesslog): one per stream served; null = none.
  std::shared_ptr<accesslog::sink> access_log;
  /// Set: every tunnel is this socket (connected, on the executor given) instead of a relay
  /// found by name, pinged and dialed: a relay's own back-ends, whose relay is the same process
  /// (config/local_backends.hpp). Called on the tunnel's worker.
  std::function<result<net::tcp::socket>(const asio::any_io_executor& ex)> tunnel_dialer;
  /// --dyndns: the back-off after the n-th failed round in a row is dyndns_backoff ×
  /// 2^min(5, n) (pagekite.py: 56 s; main lets tests shorten it, docs/operations.md).
  std::chrono::milliseconds dyndns_backoff{56000};
  /// --dyndns: one update's whole exchange (resolve, connect, TLS, request, reply).
  std::chrono::milliseconds dyndns_timeout{10000};
};

/// Connector-wide counters (atomics: tests read them from any thread).
struct client_counters {
  std::atomic<std::uint64_t> attempts{0};          ///< connection attempts to relays
  std::atomic<std::uint64_t> tunnels_up{0};        ///< tunnels with at least one live kite
  std::atomic<std::uint64_t> tunnels_lost{0};
  std::atomic<std::uint64_t> tls_failures{0};      ///< TLS handshake or certificate refused
  std::atomic<std::uint64_t> kites_rejected{0};    ///< Invalid / Duplicate results
  std::atomic<std::uint64_t> streams_opened{0};    ///< new SIDs from relays
  std::atomic<std::uint64_t> streams_refused{0};   ///< no service, +ip refusal, origin down
  std::atomic<std::uint64_t> origin_connects{0};   ///< successful origin connections
  std::atomic<std::uint64_t> origin_failures{0};
  std::atomic<std::uint64_t> nocertcheck_warnings{0};
  /// Streams the relays opened that are still in a link's table (dialing or connected).
  std::atomic<std::uint64_t> origin_streams{0};
  std::atomic<std::uint64_t> streams_over_max{0};  ///< refused by --max_conns
  std::atomic<std::uint64_t> pool_passes{0};       ///< --frontends pool (re-)evaluations done
  std::atomic<std::uint64_t> reconnects{0};        ///< retries after a failed or lost tunnel
};

/// How the tunnel's bytes are carried (spec §2.1).
enum class tunnel_security {
  plain,     ///< no --fe_certname, no --ca_certs
  preamble,  ///< pagekite.py: clear CONNECT <name>:443, then TLS without SNI, verified
  direct,    ///< --tls_direct: TLS at once with SNI = first cert name, verified
  nocheck,   ///< --fe_nocertcheck: TLS at once, no SNI, NOT verified (warned on every connect)
};

/// Everything shared by the tunnel clients of one connector. Immutable once the tunnels run,
/// except the counters.
struct client_context {
  config::connector_config cfg;
  client_options opts;
  std::shared_ptr<spdlog::logger> log;
  std::string process_secret;  ///< random, per process: BSALT material
  tunnel_security security = tunnel_security::plain;
  tls::client_settings tls_settings;
  std::shared_ptr<asio::ssl::context> tls;     ///< null for plain tunnels
  std::map<std::string, std::uint16_t> folder_ports;  ///< service id -> static_site port
  client_counters counters;
  /// connector::client::drain ran: origin_dialer refuses new streams (as for an origin that is
  /// down); those in flight run on.
  std::atomic<bool> draining{false};
  /// A relay sent the drain notice (it is going away within `grace` seconds): called on that
  /// tunnel's worker with its "host:port" label and the uuid of its last ping. Set by
  /// connector::client::start() before any tunnel runs.
  std::function<void(const std::string& label, const std::string& uuid, std::uint32_t grace)>
      relay_going;
  /// Set by connector::client::start() for --dyndns: called on any worker when a tunnel goes
  /// live or is lost, its live kites change, or its relay drains or retires.
  std::function<void()> tunnels_changed;
  void notify_tunnels_changed() const {
    if (tunnels_changed) {
      tunnels_changed();
    }
  }
};

}  // namespace kiteline::connector
