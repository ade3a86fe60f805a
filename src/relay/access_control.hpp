// relay::access_control: the relay's gatekeeping on top of the pure rules (relay/acl,
// relay/visitor_limit, relay/overload): the --accept_acl_file cache, the --client_acl /
// --tunnel_acl verdicts, the --ratelimit_ips windows of each tunnel's kites, and the overload
// level behind X-PageKite-Overloaded. Each refusal is logged here (one line) and noted in the
// console's recent refusals; the caller sends the reply.
#pragma once

#include "core/outcome.hpp"
#include "net/asio.hpp"
#include "relay/acl.hpp"
#include "relay/kite_registry.hpp"
#include "relay/overload.hpp"
#include "relay/server.hpp"
#include "relay/visitor_limit.hpp"

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <utility>
#include <vector>

namespace kiteline::relay {

/// One per relay, owned by server::impl. Every public member may be called from any worker.
class access_control {
 public:
  explicit access_control(server::impl& srv);
  ~access_control();
  access_control(const access_control&) = delete;
  access_control& operator=(const access_control&) = delete;

  /// Compiles the rules, reads --accept_acl_file (a missing or bad file fails the start) and
  /// --overload_file, and starts the overload timers on every worker (only with --overload or
  /// --overload_file). Call once from server::start, before the listeners accept.
  outcome<void> start();

  /// --accept_acl_file for a new connection on listening `port`: false = close it at once (the
  /// file refused the address, or it cannot be read or parsed now: fail closed). Logs refusals.
  bool accept(const std::string& peer, std::uint16_t peer_port, std::uint16_t port);
  /// --client_acl for a visitor asking for `proto`:`host` (and `port` for a CONNECT, else 0).
  /// Costs nothing without rules.
  bool client_allowed(const std::string& peer, std::string_view proto, std::string_view host,
                      std::uint16_t port = 0);
  /// --tunnel_acl for a tunnel request.
  bool tunnel_allowed(const std::string& peer);

  /// --ratelimit_ips (and an authority's limit, set_authority_limit): true when the visitor
  /// `peer` with request head `head` ("" for non-HTTP) may use the route `r` for `host`.
  bool admit_visitor(const route& r, const std::string& peer, std::string_view host,
                     std::string_view head);
  /// The hook for an authority-imposed IPsPerSec (spec §8.2, --authdomain): tunnel `tunnel_id`
  /// gets at most `limit` too; the stricter of it and the --ratelimit_ips rule of each kite
  /// applies. A later call replaces the earlier authority limit.
  void set_authority_limit(std::uint64_t tunnel_id, ip_limit limit);
  /// Drops the windows and the authority limit of a closed tunnel.
  void forget_tunnel(std::uint64_t tunnel_id);

  /// True while the relay's load reaches the overload level (X-PageKite-Overloaded: Sorry).
  [[nodiscard]] bool overloaded() const noexcept;

 private:
  struct file_state;
  /// The parsed --accept_acl_file for now (re-read when its inode, size or mtime changed);
  /// null with `why` when it cannot be read or parsed.
  std::shared_ptr<const acl_file> current_file(std::string& why);
  /// Every second on each worker: that worker's load figure; on worker 0 every 5 s also the
  /// overload level (the file, or the CPU and memory formula).
  net::awaitable<void> watch_load(std::size_t worker);
  void update_level();
  [[nodiscard]] std::uint64_t load() const noexcept;

  server::impl& srv_;
  std::vector<acl_rule> client_rules_;
  std::vector<acl_rule> tunnel_rules_;
  std::vector<ip_limit_rule> limit_rules_;

  std::mutex file_mu_;
  std::unique_ptr<file_state> file_;

  std::mutex limits_mu_;
  std::map<std::uint64_t, ip_limit> authority_;
  std::map<std::pair<std::uint64_t, std::string>, visitor_window, std::less<>> windows_;
  std::atomic<bool> limits_active_{false};

  std::unique_ptr<overload_level> level_;  ///< worker 0 only
  std::atomic<std::uint64_t> current_level_{0};
  std::unique_ptr<std::atomic<std::uint64_t>[]> load_by_worker_;
};

}  // namespace kiteline::relay
