#include "fleet/desired_state.hpp"

#include <algorithm>
#include <iterator>

#include "fleet/names.hpp"

namespace kiteline::fleet {

bool desired_state::kite_up(std::string_view kite) {
  auto it = kites_.find(kite);
  if (it == kites_.end()) {
    kites_.emplace(std::string(kite), 1);
    return true;
  }
  ++it->second;
  return false;
}

bool desired_state::kite_down(std::string_view kite) {
  auto it = kites_.find(kite);
  if (it == kites_.end()) {
    return false;
  }
  if (--it->second == 0) {
    kites_.erase(it);
    return true;
  }
  return false;
}

std::size_t desired_state::tunnels_of(std::string_view kite) const {
  auto it = kites_.find(kite);
  return it == kites_.end() ? 0 : it->second;
}

std::set<address_record> desired_state::records(std::string_view zone,
                                                const std::vector<std::string>& addresses) const {
  std::set<address_record> out;
  for (const auto& addr : addresses) {
    for (const auto& [kite, n] : kites_) {
      out.insert(address_record{record_name(kite, zone), addr});
    }
    if (pool_) {
      out.insert(address_record{pool_name(zone), addr});
    }
  }
  return out;
}

record_diff diff(const std::set<address_record>& desired,
                 const std::set<address_record>& published) {
  record_diff d;
  std::set_difference(desired.begin(), desired.end(), published.begin(), published.end(),
                      std::back_inserter(d.adds));
  std::set_difference(published.begin(), published.end(), desired.begin(), desired.end(),
                      std::back_inserter(d.deletes));
  return d;
}

std::set<address_record> own_records(const std::vector<address_record>& zone_records,
                                     const std::vector<std::string>& addresses) {
  std::set<address_record> out;
  for (const auto& r : zone_records) {
    if (std::find(addresses.begin(), addresses.end(), r.address) != addresses.end()) {
      out.insert(r);
    }
  }
  return out;
}

std::map<std::string, std::vector<address_record>> peer_records(
    const std::vector<address_record>& zone_records, const std::vector<std::string>& addresses,
    const std::set<std::string>& ignore_names) {
  std::map<std::string, std::vector<address_record>> out;
  for (const auto& r : zone_records) {
    if (ignore_names.count(r.name) != 0 ||
        std::find(addresses.begin(), addresses.end(), r.address) != addresses.end()) {
      continue;
    }
    out[r.address].push_back(r);
  }
  return out;
}

}  // namespace kiteline::fleet
