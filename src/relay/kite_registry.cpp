#include "relay/kite_registry.hpp"

#include <algorithm>
#include <array>

namespace kiteline::relay {

namespace {
std::string_view domain_of(std::string_view key) {
  const auto colon = key.find(':');
  return colon == std::string_view::npos ? key : key.substr(colon + 1);
}
}  // namespace

void kite_registry::add(const std::string& key, const tunnel_ref& ref) {
  std::unique_lock lock(mu_);
  map_[key].push_back(ref);
  auto& keys = keys_of_[ref.id];
  const bool first = std::none_of(keys.begin(), keys.end(), [&](const std::string& k) {
    return domain_of(k) == domain_of(key);
  });
  keys.push_back(key);
  if (first && observer_) {
    observer_(domain_of(key), true);
  }
}

void kite_registry::remove_tunnel(std::uint64_t id) {
  std::unique_lock lock(mu_);
  const auto keys = keys_of_.find(id);
  if (keys == keys_of_.end()) {
    return;
  }
  for (const auto& key : keys->second) {
    const auto it = map_.find(key);
    if (it == map_.end()) {
      continue;  // the tunnel added this key twice
    }
    std::erase_if(it->second, [id](const tunnel_ref& r) { return r.id == id; });
    if (it->second.empty()) {
      map_.erase(it);
    }
  }
  if (observer_) {
    std::vector<std::string_view> told;
    for (const auto& key : keys->second) {
      const auto d = domain_of(key);
      if (std::find(told.begin(), told.end(), d) == told.end()) {
        told.push_back(d);
        observer_(d, false);
      }
    }
  }
  keys_of_.erase(keys);
}

std::size_t kite_registry::key_count() const {
  std::shared_lock lock(mu_);
  return map_.size();
}

bool kite_registry::live_pick(const std::vector<tunnel_ref>& refs, std::size_t pick,
                              tunnel_ref& out) {
  const std::size_t n = refs.size();
  for (std::size_t i = 0; i < n; ++i) {
    const auto& r = refs[(pick + i) % n];
    if (!r.target.expired()) {
      out = r;
      return true;
    }
  }
  return false;
}

namespace {
bool served_by_other(const kite_registry::key_map& m, const std::string& key,
                     std::uint64_t except, std::string_view bsalt) {
  auto it = m.find(key);
  if (it == m.end()) {
    return false;
  }
  return std::any_of(it->second.begin(), it->second.end(), [&](const tunnel_ref& r) {
    return r.id != except && r.bsalt == bsalt && !r.target.expired();
  });
}
}  // namespace

bool kite_registry::is_served(std::string_view key, std::uint64_t except_id,
                              std::string_view bsalt) const {
  std::shared_lock lock(mu_);
  const key_map* m = &map_;
  std::string k(key);
  if (served_by_other(*m, k, except_id, bsalt)) {
    return true;
  }
  // A registered wildcard covering the domain also counts (spec §11.4 item 8).
  auto colon = k.find(':');
  if (colon == std::string::npos) {
    return false;
  }
  std::string prefix = k.substr(0, colon + 1);
  std::string_view domain = std::string_view(k).substr(colon + 1);
  while (true) {
    auto dot = domain.find('.');
    if (dot == std::string_view::npos) {
      break;
    }
    domain = domain.substr(dot + 1);
    if (domain.find('.') == std::string_view::npos) {
      break;  // never "*.com"
    }
    if (served_by_other(*m, prefix + "*." + std::string(domain), except_id, bsalt)) {
      return true;
    }
  }
  return false;
}

bool kite_registry::find(std::string_view proto, std::string_view domain, std::uint32_t port,
                         route& out, bool exact_only, std::size_t pick) const {
  std::shared_lock lock(mu_);
  const key_map* m = &map_;
  std::vector<std::string_view> candidates;
  if (proto == "http") {
    candidates = {"http", "http2", "http3"};
  } else if (proto == "websocket") {
    candidates = {"websocket", "http", "http2", "http3"};
  } else {
    candidates = {proto};
  }
  const std::string port_s = std::to_string(port);
  auto try_key = [&](const std::string& key, std::string_view c, std::string_view kite) {
    auto it = m->find(key);
    if (it != m->end() && live_pick(it->second, pick, out.ref)) {
      out.proto = std::string(c);
      out.kite = std::string(kite);
      return true;
    }
    return false;
  };
  auto try_domain = [&](std::string_view c, std::string_view d) {
    const std::string with_port = std::string(c) + "-" + port_s + ":";
    const std::string without = std::string(c) + ":";
    for (const auto& pfx : {with_port, without}) {
      if (try_key(pfx + std::string(d), c, d)) {
        return true;
      }
      if (exact_only) {
        continue;
      }
      std::string_view parent = d;
      while (true) {
        auto dot = parent.find('.');
        if (dot == std::string_view::npos) {
          break;
        }
        parent = parent.substr(dot + 1);
        if (parent.find('.') == std::string_view::npos) {
          break;
        }
        std::string wild = "*." + std::string(parent);
        if (try_key(pfx + wild, c, wild)) {
          return true;
        }
      }
    }
    return false;
  };
  for (auto c : candidates) {
    if (try_domain(c, domain)) {
      return true;
    }
  }
  return try_key(std::string(proto) + ":unknown", proto, "unknown");
}

}  // namespace kiteline::relay
