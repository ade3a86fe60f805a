#include "relay/access_control.hpp"

#include "net/spawn.hpp"
#include "relay/errc.hpp"
#include "relay/server_impl.hpp"

#include <chrono>
#include <fstream>
#include <sstream>
#include <sys/stat.h>

namespace kiteline::relay {
namespace {

/// The whole file, or nullopt when it cannot be opened (bounded: 4 MiB).
std::optional<std::string> read_small_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return std::nullopt;
  }
  std::string out(4 * 1024 * 1024, '\0');
  in.read(out.data(), static_cast<std::streamsize>(out.size()));
  out.resize(static_cast<std::size_t>(in.gcount()));
  return out;
}

std::uint64_t monotonic_seconds() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count());
}

}  // namespace

struct access_control::file_state {
  std::string path;
  bool known = false;  ///< stat fields below describe `rules`
  dev_t dev = 0;
  ino_t ino = 0;
  off_t size = 0;
  timespec mtime{};
  std::shared_ptr<const acl_file> rules;
  std::string error;  ///< why the file cannot be used now ("" = usable)
};

access_control::access_control(server::impl& srv) : srv_(srv) {}
access_control::~access_control() = default;

outcome<void> access_control::start() {
  const auto& a = srv_.cfg().access;
  for (const auto* list : {&a.client_acl, &a.tunnel_acl}) {
    for (const auto& r : *list) {
      std::string why;
      auto rule = make_acl_rule(r.allow, r.pattern, why);
      if (!rule) {
        return failure(errc::bad_access_rules, r.origin + ": " + r.pattern + ": " + why);
      }
      (list == &a.client_acl ? client_rules_ : tunnel_rules_).push_back(std::move(*rule));
    }
  }
  for (const auto& r : a.ratelimit_ips) {
    limit_rules_.push_back(ip_limit_rule{r.kite, ip_limit{r.n, r.seconds}});
  }
  limits_active_ = !limit_rules_.empty();
  if (!a.accept_acl_file.empty()) {
    file_ = std::make_unique<file_state>();
    file_->path = a.accept_acl_file;
    std::string why;
    if (!current_file(why)) {
      return failure(errc::bad_access_rules, "--accept_acl_file: " + why);
    }
    srv_.log().info("accept ACL file {}: {} rule(s)", a.accept_acl_file,
                    file_->rules->rules.size());
  }
  load_by_worker_ = std::make_unique<std::atomic<std::uint64_t>[]>(srv_.pool.size());
  if (a.overload != 0 || !a.overload_file.empty()) {
    level_ = std::make_unique<overload_level>(
        overload_settings{a.overload, a.overload_cpu, a.overload_mem});
    current_level_ = level_->current();
    update_level();
    for (std::size_t w = 0; w < srv_.pool.size(); ++w) {
      asio::co_spawn(srv_.pool.context(w), watch_load(w),
                     net::log_failure(srv_.log_ptr(), "overload watch failed"));
    }
  }
  return {};
}

std::shared_ptr<const acl_file> access_control::current_file(std::string& why) {
  std::lock_guard lock(file_mu_);
  file_state& f = *file_;
  struct stat st {};
  if (::stat(f.path.c_str(), &st) != 0) {
    why = f.path + ": " + std::error_code(errno, std::generic_category()).message();
    f.known = false;  // read it again once it is back, whatever its times
  } else if (f.known && st.st_dev == f.dev && st.st_ino == f.ino && st.st_size == f.size &&
             st.st_mtim.tv_sec == f.mtime.tv_sec && st.st_mtim.tv_nsec == f.mtime.tv_nsec) {
    if (f.rules) {
      return f.rules;
    }
    why = f.error;
  } else if (const auto text = read_small_file(f.path); !text) {
    why = f.path + ": cannot be read";
  } else {
    f.known = true;
    f.dev = st.st_dev;
    f.ino = st.st_ino;
    f.size = st.st_size;
    f.mtime = st.st_mtim;
    acl_file_error err;
    if (auto parsed = parse_acl_file(*text, err)) {
      f.rules = std::make_shared<const acl_file>(std::move(*parsed));
      if (!f.error.empty()) {
        srv_.log().warn("accept ACL file {} is usable again: {} rule(s)", f.path,
                        f.rules->rules.size());
      }
      f.error.clear();
      return f.rules;
    }
    f.rules.reset();
    why = f.path + ":" + std::to_string(err.line) + ": " + err.why;
  }
  if (why != f.error) {
    srv_.log().warn("accept ACL file unusable, refusing every connection: {}", why);
    f.error = why;
  }
  return nullptr;
}

bool access_control::accept(const std::string& peer, std::uint16_t peer_port, std::uint16_t port) {
  if (!file_) {
    return true;
  }
  std::string why;
  const auto rules = current_file(why);
  if (!rules) {
    ++srv_.counters().visitors_refused;
    srv_.log().info(
        "connection rejected port={} rip={} rport={} reason=\"accept ACL file "
        "unusable (fail closed)\"",
        port, peer, peer_port);
    srv_.stats.refusals.note("connection", "", peer, "accept ACL file unusable: " + why);
    return false;
  }
  const acl_file_verdict v = check_acl_file(*rules, peer);
  if (v.allowed) {
    return true;
  }
  ++srv_.counters().visitors_refused;
  srv_.log().info("connection rejected port={} rip={} rport={} acl_line={} reason=\"{}\"", port,
                  peer, peer_port, v.line, v.reason);
  srv_.stats.refusals.note("connection", "", peer,
                           "accept ACL file line " + std::to_string(v.line) +
                               (v.reason.empty() ? "" : ": " + std::string(v.reason)));
  return false;
}

namespace {

/// pagekite.py's words: "ADDR rejected by client ACL: deny:PATTERN" / "... by default client ACL".
std::string acl_refusal(const acl_verdict& v, std::string_view which) {
  if (v.rule == nullptr) {
    return "rejected by default " + std::string(which) + " ACL";
  }
  return "rejected by " + std::string(which) + " ACL: " + (v.rule->allow ? "allow:" : "deny:") +
         v.rule->pattern;
}

}  // namespace

bool access_control::client_allowed(const std::string& peer, std::string_view proto,
                                    std::string_view host, std::uint16_t port) {
  const acl_verdict v = check_acl(client_rules_, peer);
  if (v.allowed) {
    return true;
  }
  const std::string why = acl_refusal(v, "client");
  const std::string what = std::string(proto) + ":" + std::string(host) +
                           (port != 0 ? ":" + std::to_string(port) : std::string());
  ++srv_.counters().visitors_refused;
  srv_.log().info("visitor forbidden rip={} kite={} reason=\"{}\"", peer, what, why);
  srv_.stats.refusals.note("visitor", what, peer, why);
  return false;
}

bool access_control::tunnel_allowed(const std::string& peer) {
  const acl_verdict v = check_acl(tunnel_rules_, peer);
  if (v.allowed) {
    return true;
  }
  const std::string why = acl_refusal(v, "tunnel");
  ++srv_.counters().handshakes_refused;
  srv_.log().info("tunnel refused peer={} reason=\"{}\"", peer, why);
  srv_.stats.refusals.note("tunnel", "", peer, why);
  return false;
}

bool access_control::admit_visitor(const route& r, const std::string& peer, std::string_view host,
                                   std::string_view head) {
  if (!limits_active_.load(std::memory_order_relaxed)) {
    return true;
  }
  std::optional<ip_limit> limit = limit_for_kite(limit_rules_, r.kite);
  const visitor_key key = make_visitor_key(peer, head);
  bool ok = true;
  ip_limit applied;
  {
    std::lock_guard lock(limits_mu_);
    if (auto it = authority_.find(r.ref.id); it != authority_.end()) {
      limit = strictest(limit, it->second);
    }
    if (!limit) {
      return true;
    }
    auto [it, fresh] = windows_.try_emplace({r.ref.id, r.kite}, *limit);
    if (!fresh) {
      it->second.set_limit(*limit);
    }
    ok = it->second.admit(key, monotonic_seconds());
    applied = *limit;
  }
  if (ok) {
    return true;
  }
  ++srv_.counters().visitors_refused;
  srv_.log().info(
      "visitor rate-limited rip={} kite={} tunnel={} client={} ips_per_sec={}/{}s "
      "reason=\"too many distinct visitors (--ratelimit_ips)\"",
      peer, host, r.ref.id, to_hex(std::span<const std::uint8_t>(key.data(), 6)), applied.n,
      applied.seconds);
  srv_.stats.refusals.note("visitor", r.proto + ":" + std::string(host), peer,
                           "rate limit: more than " + std::to_string(applied.n) + " visitors in " +
                               std::to_string(applied.seconds) + " s");
  return false;
}

void access_control::set_authority_limit(std::uint64_t tunnel_id, ip_limit limit) {
  std::lock_guard lock(limits_mu_);
  authority_[tunnel_id] = limit;
  limits_active_ = true;
}

void access_control::forget_tunnel(std::uint64_t tunnel_id) {
  if (!limits_active_.load(std::memory_order_relaxed)) {
    return;
  }
  std::lock_guard lock(limits_mu_);
  authority_.erase(tunnel_id);
  windows_.erase(windows_.lower_bound({tunnel_id, std::string()}),
                 windows_.lower_bound({tunnel_id + 1, std::string()}));
}

std::uint64_t access_control::load() const noexcept {
  std::uint64_t sum = 0;
  for (std::size_t w = 0; w < srv_.pool.size(); ++w) {
    sum += load_by_worker_[w].load(std::memory_order_relaxed);
  }
  return sum;
}

bool access_control::overloaded() const noexcept {
  const std::uint64_t level = current_level_.load(std::memory_order_relaxed);
  return level != 0 && std::max<std::uint64_t>(load(), 1) >= level;
}

void access_control::update_level() {
  const auto& a = srv_.cfg().access;
  overload_sample s;
  s.load = std::max<std::uint64_t>(load(), 1);
  if (!a.overload_file.empty()) {
    if (const auto text = read_small_file(a.overload_file)) {
      s.file_value = parse_overload_file(*text);
    }
  }
  if (!s.file_value) {
    if (const auto text = read_small_file("/proc/loadavg")) {
      s.loadavg = parse_loadavg(*text);
    }
    if (const auto text = read_small_file("/proc/meminfo")) {
      s.mem = parse_meminfo(*text);
    }
  }
  if (level_->update(s)) {
    current_level_ = level_->current();
    if (s.file_value) {
      srv_.log().info("overload level is now {} (from {})", level_->current(), a.overload_file);
    } else {
      srv_.log().info("overload level is now {} (--overload={}, load {})", level_->current(),
                      a.overload, s.load);
    }
  }
}

net::awaitable<void> access_control::watch_load(std::size_t worker) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (unsigned tick = 0; !srv_.stopping; ++tick) {
    // The load figure: live tunnels plus their visitor streams (pagekite.py counts its live
    // back-ends plus its open connections).
    std::uint64_t n = 0;
    for (const auto& [id, t] : srv_.tunnels[worker]) {
      n += 1 + (t->link ? t->link->stream_count() : 0);
    }
    load_by_worker_[worker].store(n, std::memory_order_relaxed);
    if (worker == 0 && tick % 5 == 4) {
      update_level();
    }
    timer.expires_after(std::chrono::seconds(1));
    auto [ec] = co_await timer.async_wait(net::use_tuple);
    if (ec) {
      break;
    }
  }
}

}  // namespace kiteline::relay
