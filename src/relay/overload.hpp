// relay overload (pure): pagekite.py's overload level (pk.py CalculateOverload, Overloaded):
// the connection budget from --overload, --overload_file, --overload_cpu and --overload_mem, and
// whether the relay's current load passes it. The caller reads the files and the load, and
// passes them in; nothing here touches the system.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace kiteline::relay {

/// --overload (the base budget, 0 = none), --overload_cpu, --overload_mem.
struct overload_settings {
  std::uint64_t base = 0;
  double cpu = 0.75;  ///< load average per unit of budget (0 = not used)
  double mem = 0.85;  ///< share of the memory not in use at start (0 = not used)
};

/// The /proc/meminfo figures the level needs, in KiB.
struct meminfo_figures {
  std::uint64_t total = 0;
  std::uint64_t free = 0;  ///< MemAvailable, else MemFree + Cached
};

/// The 5-minute load average (the second field of /proc/loadavg); nullopt when malformed.
[[nodiscard]] std::optional<double> parse_loadavg(std::string_view text) noexcept;
/// MemTotal and MemAvailable (else MemFree + Cached) from /proc/meminfo; nullopt without MemTotal.
[[nodiscard]] std::optional<meminfo_figures> parse_meminfo(std::string_view text) noexcept;
/// The budget written in an --overload_file: decimal digits with blanks around (at most 10^12);
/// nullopt otherwise.
[[nodiscard]] std::optional<std::uint64_t> parse_overload_file(std::string_view text) noexcept;

/// What one periodic update sees.
struct overload_sample {
  std::optional<std::uint64_t> file_value;  ///< --overload_file's number, if it was read
  std::optional<double> loadavg;
  std::optional<meminfo_figures> mem;
  std::uint64_t load = 1;  ///< the relay's load figure now (at least 1)
};

/// The overload level: a budget of live connections; the relay is overloaded when its load
/// reaches it. 0 = never overloaded.
class overload_level {
 public:
  explicit overload_level(const overload_settings& s) noexcept : s_(s), current_(s.base) {}

  /// One periodic update (pagekite.py CalculateOverload, every 20 of its loops): a readable
  /// --overload_file sets the level outright; else, with --overload set and at least one of
  /// cpu/mem, the level moves a fifth of the way toward the budget the load average and the
  /// memory in use per connection imply (never below half of --overload), once the load is 50
  /// or more. Returns true when the level changed.
  bool update(const overload_sample& sample) noexcept;
  [[nodiscard]] std::uint64_t current() const noexcept { return current_; }
  /// pagekite.py Overloaded: a level is set and max(load, 1) reached it.
  [[nodiscard]] bool overloaded(std::uint64_t load) const noexcept {
    return current_ != 0 && (load == 0 ? 1 : load) >= current_;
  }

 private:
  overload_settings s_;
  std::uint64_t current_ = 0;
  double membase_ = 0;  ///< KiB in use at the first update (0: not yet known)
};

}  // namespace kiteline::relay
