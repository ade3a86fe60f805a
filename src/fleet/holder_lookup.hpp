// fleet::holder_lookup: which relays of the fleet hold a kite (issue 24): the A/AAAA records of
// record_name(kite, zone) asked from --fleet_dns with fleet/dns_client (TSIG-signed with
// --fleet_tsig, answers verified: an unverifiable one counts as no answer), on one small thread of its own so that no worker ever blocks on DNS. Answers
// are kept --fleet_cache_seconds; an expired answer is still given at once while a refresh runs
// (so routing from the cache goes on while the DNS server is down). This relay's own
// --fleet_address values are left out. Lookups in flight are bounded and coalesced per name.
#pragma once

#include "config/relay_fleet_config.hpp"
#include "fleet/dns_client.hpp"
#include "net/asio.hpp"

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <spdlog/logger.h>

namespace kiteline::fleet {

class holder_lookup {
 public:
  using done_fn = std::function<void(std::vector<std::string>)>;
  /// Lookups waiting for the DNS server at once; beyond, a name without a cached answer gets
  /// "no holder".
  static constexpr std::size_t max_in_flight = 64;

  holder_lookup(config::relay_fleet_config cfg, std::shared_ptr<spdlog::logger> log);
  ~holder_lookup();
  holder_lookup(const holder_lookup&) = delete;
  holder_lookup& operator=(const holder_lookup&) = delete;

  /// The holders of `kite` (IP addresses as text; empty: none known). `done` is called once,
  /// on this thread (a cached answer) or on the lookup thread.
  void find(std::string_view kite, done_fn done);

  /// find() as an asynchronous operation: the result is posted to the handler's executor
  /// (a coroutine awaits it on its own worker).
  template <typename Token>
  auto async_find(std::string kite, Token&& token) {
    return asio::async_initiate<Token, void(std::vector<std::string>)>(
        [this](auto handler, const std::string& name) {
          auto ex = asio::get_associated_executor(handler);
          auto h = std::make_shared<decltype(handler)>(std::move(handler));
          find(name, [ex, h](std::vector<std::string> v) {
            asio::post(ex, [h, v = std::move(v)]() mutable { (*h)(std::move(v)); });
          });
        },
        token, std::move(kite));
  }

 private:
  struct entry {
    std::vector<std::string> holders;
    std::chrono::steady_clock::time_point fresh_until;
    std::chrono::steady_clock::time_point retry_after;  ///< after a failed refresh
  };
  void loop();
  /// One DNS round (A and AAAA): false when the server gave no usable answer.
  bool query(const std::string& name, std::vector<std::string>& out);
  [[nodiscard]] bool own(const std::string& address) const;

  config::relay_fleet_config cfg_;
  std::shared_ptr<spdlog::logger> log_;
  std::optional<dns_server> server_;
  tsig_key key_;
  std::uint16_t next_id_ = 1;                           ///< lookup thread only
  std::chrono::steady_clock::time_point warned_until_;  ///< lookup thread only
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::map<std::string, entry> cache_;
  std::map<std::string, std::vector<done_fn>> pending_;  ///< name -> waiters (maybe none)
  std::deque<std::string> queue_;
  std::thread thread_;
};

}  // namespace kiteline::fleet
