// fleet::desired_state: what a relay wants in DNS (issue 24): the kites it holds, counted by
// tunnel (a kite with two tunnels stays published until both go), and whether it is in the
// pool fe.ZONE. Plain data: fleet::publisher guards it with its mutex.
#pragma once

#include <cstddef>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "fleet/dns_message.hpp"

namespace kiteline::fleet {

class desired_state {
 public:
  /// A tunnel for `kite` registered; true when it is the kite's first.
  bool kite_up(std::string_view kite);
  /// A tunnel for `kite` went; true when it was the kite's last. Unknown kites are ignored.
  bool kite_down(std::string_view kite);
  void set_pool(bool in) noexcept { pool_ = in; }
  [[nodiscard]] bool in_pool() const noexcept { return pool_; }
  [[nodiscard]] std::size_t tunnels_of(std::string_view kite) const;
  [[nodiscard]] std::size_t kite_count() const noexcept { return kites_.size(); }

  /// The records these kites and the pool make: record_name(kite, zone) and fe.ZONE, one per
  /// address of this relay.
  [[nodiscard]] std::set<address_record> records(std::string_view zone,
                                                 const std::vector<std::string>& addresses) const;

 private:
  std::map<std::string, std::size_t, std::less<>> kites_;  // kite -> tunnels
  bool pool_ = false;
};

/// What an UPDATE must change to go from `published` to `desired`.
struct record_diff {
  std::vector<address_record> adds;
  std::vector<address_record> deletes;
  [[nodiscard]] bool empty() const noexcept { return adds.empty() && deletes.empty(); }
};
[[nodiscard]] record_diff diff(const std::set<address_record>& desired,
                               const std::set<address_record>& published);

/// The records among `zone_records` that carry one of `addresses` (this relay's own).
[[nodiscard]] std::set<address_record> own_records(const std::vector<address_record>& zone_records,
                                                   const std::vector<std::string>& addresses);

/// The other relays' addresses found in `zone_records` (any A/AAAA under the zone whose
/// address is not one of `addresses`), except those of `ignore_names` (e.g. the zone's own
/// name servers): address -> its records.
[[nodiscard]] std::map<std::string, std::vector<address_record>> peer_records(
    const std::vector<address_record>& zone_records, const std::vector<std::string>& addresses,
    const std::set<std::string>& ignore_names);

}  // namespace kiteline::fleet
