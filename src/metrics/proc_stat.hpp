// metrics/proc_stat: parsers for the Linux /proc files behind the standard process_* metrics
// (/proc/self/stat, /proc/self/limits, /proc/stat's btime). Pure: the caller reads the files.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace kiteline::metrics {

/// The fields of /proc/PID/stat the process_* metrics use (proc(5)), in clock ticks / pages /
/// bytes as the kernel gives them.
struct proc_stat {
  std::uint64_t utime_ticks = 0;
  std::uint64_t stime_ticks = 0;
  std::uint64_t start_ticks = 0;  ///< since boot
  std::uint64_t vsize_bytes = 0;
  std::uint64_t rss_pages = 0;
};

/// Parses the text of /proc/PID/stat. The command name (field 2) may hold spaces and ')' :
/// fields are counted after its last ')'. nullopt when a field is missing or not a number.
[[nodiscard]] std::optional<proc_stat> parse_proc_stat(std::string_view text) noexcept;

/// The soft "Max open files" limit from the text of /proc/PID/limits; nullopt when absent or
/// "unlimited".
[[nodiscard]] std::optional<std::uint64_t> parse_max_open_files(std::string_view text) noexcept;

/// The boot time (the `btime` line, seconds since the epoch) from the text of /proc/stat.
[[nodiscard]] std::optional<std::uint64_t> parse_boot_time(std::string_view text) noexcept;

}  // namespace kiteline::metrics
