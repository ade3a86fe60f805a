// The relay's kite registry: which live tunnels serve which kites (spec §4.6 step 8, §6.4).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace kiteline::relay {

class tunnel;

/// A registered tunnel: weak (the tunnel owns itself), plus the worker that owns it.
struct tunnel_ref {
  std::weak_ptr<relay::tunnel> target;
  std::size_t worker = 0;
  std::uint64_t id = 0;  ///< unique per relay, for logs and unregistering
  std::string bsalt;     ///< the connector's BSALT for this kite: its identity (see is_served)
};

/// What a lookup found: the tunnel, and the kite protocol that matched (goes into `Proto:`).
struct route {
  tunnel_ref ref;
  std::string proto;    ///< matched protocol without port, e.g. "http2"
  std::string kite;     ///< the registered key's domain (may be a wildcard)
};

/// Read-mostly map from "PROTO[-PORT]:DOMAIN" to the tunnels serving it. Lookups share a
/// reader lock for a few map look-ups; adding and removing a tunnel's keys take it alone for
/// O(log n) per key. (A copy-on-write snapshot per change copied the whole map: O(n) per
/// tunnel, minutes of CPU for 10 000 tunnels registering; docs/benchmarks.md, "10 000
/// tunnels".) Safe to call from any worker thread.
class kite_registry {
 public:
  using key_map = std::map<std::string, std::vector<tunnel_ref>, std::less<>>;

  /// Told when a tunnel starts or stops serving a kite (the domain of its keys; once per
  /// tunnel and domain, whatever the number of protocols): the fleet publisher counts them.
  /// Called under the registry's lock: it must only take locks of its own. Set before start.
  using observer = std::function<void(std::string_view kite, bool up)>;
  void set_observer(observer o) { observer_ = std::move(o); }

  /// Registers `ref` for `key` ("http:foo.test", "raw-22:foo.test", "http:*.foo.test").
  void add(const std::string& key, const tunnel_ref& ref);
  /// Removes every key of tunnel `id`.
  void remove_tunnel(std::uint64_t id);
  /// The Duplicate rule (spec §4.6 step 8, kiteline variant): true when a live tunnel other than
  /// `except_id` serves `key` exactly, or through a registered wildcard covering it, FOR THE SAME
  /// CONNECTOR, i.e. with the same BSALT (pagekite.py's BSALT is stable per process and relay,
  /// so this is a process reconnecting while its old tunnel still looks alive). Different
  /// connectors may serve one kite together: visitors are spread over them and fail over.
  [[nodiscard]] bool is_served(std::string_view key, std::uint64_t except_id,
                               std::string_view bsalt) const;

  /// Routes a visitor (spec §6.4): candidate protocols for `proto` ("http" → http, http2,
  /// http3; "websocket" → websocket, http, http2, http3; others → proto), each tried as
  /// `c-port:domain` then `c:domain`, exact then wildcard parents (never "*.com"), then
  /// `proto:unknown`. Among several live tunnels, the `pick`-th (round robin) is returned.
  /// `exact_only` (raw CONNECT, spec §6.6) disables wildcards.
  [[nodiscard]] bool find(std::string_view proto, std::string_view domain, std::uint32_t port,
                          route& out, bool exact_only = false, std::size_t pick = 0) const;

  [[nodiscard]] std::size_t key_count() const;

 private:
  static bool live_pick(const std::vector<tunnel_ref>& refs, std::size_t pick, tunnel_ref& out);

  observer observer_;
  mutable std::shared_mutex mu_;
  key_map map_;
  std::unordered_map<std::uint64_t, std::vector<std::string>> keys_of_;  // tunnel id -> keys
};

}  // namespace kiteline::relay
