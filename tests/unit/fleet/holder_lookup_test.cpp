#include "fleet/holder_lookup.hpp"

#include <arpa/inet.h>
#include <atomic>
#include <chrono>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <netinet/in.h>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>

#include "unit/fleet/tsig_signer.hpp"

namespace kiteline::fleet {
namespace {

/// A UDP DNS responder on 127.0.0.1 answering A queries from a fixed table (AAAA: no data),
/// counting the queries it saw, signing its answers with `the_key` over the query's MAC (as Knot
/// does), or not after sign_with(nullopt) / with another key. Stops answering on pause().
using dns_table = std::map<std::string, std::vector<std::string>>;

const tsig_key the_key = test::make_key("fleet", "c2VjcmV0c2VjcmV0c2VjcmV0");

class fake_dns {
 public:
  explicit fake_dns(std::map<std::string, std::vector<std::string>> table)
      : table_(std::move(table)) {
    fd_ = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    timeval tv{0, 50'000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    thread_ = std::thread([this] { serve(); });
  }
  ~fake_dns() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  [[nodiscard]] std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  [[nodiscard]] int queries() const { return queries_; }
  void pause() { paused_ = true; }
  void set_table(dns_table t) {
    std::lock_guard lock(mu_);
    table_ = std::move(t);
  }
  void sign_with(std::optional<tsig_key> k) {
    std::lock_guard lock(mu_);
    key_ = std::move(k);
  }

 private:
  void serve() {
    std::vector<std::uint8_t> q(512);
    while (!stop_) {
      sockaddr_in from{};
      socklen_t len = sizeof from;
      const auto n =
          ::recvfrom(fd_, q.data(), q.size(), 0, reinterpret_cast<sockaddr*>(&from), &len);
      if (n < 17 || paused_) {
        continue;
      }
      ++queries_;
      std::string name;
      std::size_t p = 12;
      while (p < static_cast<std::size_t>(n) && q[p] != 0) {
        if (!name.empty()) {
          name += '.';
        }
        name.append(reinterpret_cast<const char*>(&q[p + 1]), q[p]);
        p += std::size_t{q[p]} + 1;
      }
      const std::size_t qend = p + 5;
      const std::uint16_t type = static_cast<std::uint16_t>((q[p + 1] << 8) | q[p + 2]);
      std::vector<std::uint8_t> r(q.begin(), q.begin() + static_cast<std::ptrdiff_t>(qend));
      r[2] = 0x84;  // QR, AA
      r[3] = 0x00;
      std::vector<std::string> ips;
      if (std::lock_guard lock(mu_); type == 1 && table_.count(name) != 0) {
        ips = table_.at(name);
      }
      r[6] = 0;
      r[7] = static_cast<std::uint8_t>(ips.size());
      r[8] = r[9] = r[10] = r[11] = 0;
      for (const auto& ip : ips) {
        in_addr a{};
        ::inet_pton(AF_INET, ip.c_str(), &a);
        const auto* b = reinterpret_cast<const std::uint8_t*>(&a);
        r.insert(r.end(), {0xC0, 0x0C, 0, 1, 0, 1, 0, 0, 0, 10, 0, 4, b[0], b[1], b[2], b[3]});
      }
      if (std::lock_guard lock(mu_); key_) {
        const std::vector<std::uint8_t> query(q.begin(), q.begin() + n);
        ldns_pkt* pkt = nullptr;
        if (ldns_wire2pkt(&pkt, r.data(), r.size()) == LDNS_STATUS_OK) {
          r = test::signer(*key_, query).sign(pkt);
        }
      }
      ::sendto(fd_, r.data(), r.size(), 0, reinterpret_cast<sockaddr*>(&from), len);
    }
  }

  std::map<std::string, std::vector<std::string>> table_;
  std::mutex mu_;
  std::optional<tsig_key> key_ = the_key;
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<bool> paused_{false};
  std::atomic<int> queries_{0};
  std::thread thread_;
};

config::relay_fleet_config fleet_for(const fake_dns& dns, std::chrono::seconds cache) {
  config::relay_fleet_config c;
  c.dns_server = dns.address();
  c.zone = "fleet.test";
  c.addresses = {"127.0.0.13"};
  c.port = 4443;
  c.cache = cache;
  c.tsig.algorithm = "hmac-sha256";
  c.tsig.name = "fleet";
  c.tsig.key_base64 = config::secret("c2VjcmV0c2VjcmV0c2VjcmV0");
  return c;
}

std::vector<std::string> find_now(holder_lookup& h, const std::string& kite) {
  std::promise<std::vector<std::string>> p;
  auto f = p.get_future();
  h.find(kite, [&p](std::vector<std::string> v) { p.set_value(std::move(v)); });
  EXPECT_EQ(f.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  return f.get();
}

auto null_log() {
  return std::make_shared<spdlog::logger>("t", std::make_shared<spdlog::sinks::null_sink_mt>());
}

TEST(FleetHolderLookup, AnswersWithoutOwnAddressAndCaches) {
  fake_dns dns(dns_table{{"web.test.fleet.test", {"127.0.0.11", "127.0.0.13", "127.0.0.12"}}});
  holder_lookup h(fleet_for(dns, std::chrono::seconds(60)), null_log());
  EXPECT_EQ(find_now(h, "WEB.test"), (std::vector<std::string>{"127.0.0.11", "127.0.0.12"}));
  const int asked = dns.queries();
  EXPECT_EQ(asked, 2);  // A and AAAA
  EXPECT_EQ(find_now(h, "web.test"), (std::vector<std::string>{"127.0.0.11", "127.0.0.12"}));
  EXPECT_EQ(dns.queries(), asked);  // from the cache
  EXPECT_TRUE(find_now(h, "none.test").empty());
}

TEST(FleetHolderLookup, ConcurrentLookupsOfOneNameAreCoalesced) {
  fake_dns dns(dns_table{{"web.test.fleet.test", {"127.0.0.11"}}});
  holder_lookup h(fleet_for(dns, std::chrono::seconds(60)), null_log());
  std::vector<std::future<std::vector<std::string>>> all;
  std::vector<std::promise<std::vector<std::string>>> ps(20);
  for (auto& p : ps) {
    all.push_back(p.get_future());
    h.find("web.test", [&p](std::vector<std::string> v) { p.set_value(std::move(v)); });
  }
  for (auto& f : all) {
    ASSERT_EQ(f.wait_for(std::chrono::seconds(10)), std::future_status::ready);
    EXPECT_EQ(f.get(), std::vector<std::string>{"127.0.0.11"});
  }
  EXPECT_EQ(dns.queries(), 2);
}

TEST(FleetHolderLookup, ExpiredAnswerStaysInUseWhileTheServerIsSilent) {
  fake_dns dns(dns_table{{"web.test.fleet.test", {"127.0.0.11"}}});
  holder_lookup h(fleet_for(dns, std::chrono::seconds(0)), null_log());
  EXPECT_EQ(find_now(h, "web.test"), std::vector<std::string>{"127.0.0.11"});
  dns.pause();
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(find_now(h, "web.test"), std::vector<std::string>{"127.0.0.11"});
  }
  // A name never answered has no holder.
  EXPECT_TRUE(find_now(h, "other.test").empty());
}

TEST(FleetHolderLookup, UnverifiableAnswerCountsAsNoAnswer) {
  fake_dns dns(dns_table{{"web.test.fleet.test", {"127.0.0.11"}}});
  holder_lookup h(fleet_for(dns, std::chrono::seconds(0)), null_log());
  EXPECT_EQ(find_now(h, "web.test"), std::vector<std::string>{"127.0.0.11"});
  // Now answers unsigned, or signed with another key, naming another holder: never taken; the
  // stale answer stays in use, as when the server is silent.
  dns.set_table(dns_table{{"web.test.fleet.test", {"127.0.0.66"}},
                          {"u0.test.fleet.test", {"127.0.0.66"}},
                          {"u1.test.fleet.test", {"127.0.0.66"}},
                          {"u2.test.fleet.test", {"127.0.0.66"}}});
  const std::vector<std::optional<tsig_key>> keys{
      std::nullopt, test::make_key("fleet", "b3RoZXJvdGhlcm90aGVy")};
  for (std::size_t i = 0; i < keys.size(); ++i) {
    dns.sign_with(keys[i]);
    const int before = dns.queries();
    EXPECT_EQ(find_now(h, "web.test"), std::vector<std::string>{"127.0.0.11"});  // refresh queued
    // One lookup thread, first in first out: when this one is done, the refresh is done too.
    EXPECT_TRUE(find_now(h, "u" + std::to_string(i) + ".test").empty());
    EXPECT_GT(dns.queries(), before);  // it was asked, and it answered
    EXPECT_EQ(find_now(h, "web.test"), std::vector<std::string>{"127.0.0.11"});
  }
  // Signed again: the answer is taken.
  dns.sign_with(the_key);
  EXPECT_EQ(find_now(h, "u2.test"), std::vector<std::string>{"127.0.0.66"});
}

TEST(FleetHolderLookup, ResultIsPostedToTheCallersExecutor) {
  fake_dns dns(dns_table{{"web.test.fleet.test", {"127.0.0.11"}}});
  holder_lookup h(fleet_for(dns, std::chrono::seconds(60)), null_log());
  asio::io_context io;
  std::vector<std::string> got;
  std::thread::id ran_on;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        got = co_await h.async_find("web.test", asio::use_awaitable);
        ran_on = std::this_thread::get_id();
      },
      asio::detached);
  io.run_for(std::chrono::seconds(10));
  EXPECT_EQ(got, std::vector<std::string>{"127.0.0.11"});
  EXPECT_EQ(ran_on, std::this_thread::get_id());
}

}  // namespace
}  // namespace kiteline::fleet
