// What relay::authority (DNS) and relay::auth_apps share: the bounded cache of answers and the
// relay-wide bound on requests in flight (--auththreads). Any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

namespace kiteline::relay {

/// Answers by question, each kept `ttl`, at most `capacity` of them (a full cache drops the
/// expired ones, then the first by key, rather than grow). Callers keep only answers that
/// decide (granted or refused), never failures. Any thread (one mutex).
template <class Answer>
class auth_cache {
 public:
  explicit auth_cache(std::chrono::steady_clock::duration ttl = std::chrono::seconds(30),
                      std::size_t capacity = 4096)
      : ttl_(ttl), capacity_(capacity) {}

  [[nodiscard]] std::optional<Answer> find(const std::string& key) {
    std::lock_guard lock(mu_);
    auto it = entries_.find(key);
    if (it == entries_.end()) {
      return std::nullopt;
    }
    if (it->second.expires <= std::chrono::steady_clock::now()) {
      entries_.erase(it);
      return std::nullopt;
    }
    return it->second.answer;
  }

  void put(const std::string& key, Answer a) {
    const auto now = std::chrono::steady_clock::now();
    std::lock_guard lock(mu_);
    if (entries_.size() >= capacity_) {
      std::erase_if(entries_, [now](const auto& e) { return e.second.expires <= now; });
      if (entries_.size() >= capacity_) {
        entries_.erase(entries_.begin());
      }
    }
    entries_[key] = {std::move(a), now + ttl_};
  }

 private:
  struct entry {
    Answer answer;
    std::chrono::steady_clock::time_point expires;
  };
  const std::chrono::steady_clock::duration ttl_;
  const std::size_t capacity_;
  std::mutex mu_;
  std::map<std::string, entry, std::less<>> entries_;
};

/// One place among a bounded number of requests in flight; given back when destroyed.
class in_flight_slot {
 public:
  /// A place when fewer than `limit` are taken from `count` (then counted), else nullopt and
  /// `taken` says how many were.
  [[nodiscard]] static std::optional<in_flight_slot> take(std::atomic<std::size_t>& count,
                                                          std::size_t limit, std::size_t& taken) {
    taken = count.load();
    do {
      if (taken >= limit) {
        return std::nullopt;
      }
    } while (!count.compare_exchange_weak(taken, taken + 1));
    return in_flight_slot(count);
  }
  in_flight_slot(in_flight_slot&& o) noexcept : count_(std::exchange(o.count_, nullptr)) {}
  in_flight_slot& operator=(in_flight_slot&&) = delete;
  in_flight_slot(const in_flight_slot&) = delete;
  in_flight_slot& operator=(const in_flight_slot&) = delete;
  ~in_flight_slot() {
    if (count_ != nullptr) {
      --*count_;
    }
  }

 private:
  explicit in_flight_slot(std::atomic<std::size_t>& count) : count_(&count) {}
  std::atomic<std::size_t>* count_;
};

}  // namespace kiteline::relay
