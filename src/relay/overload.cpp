#include "relay/overload.hpp"

#include "core/text.hpp"

#include <algorithm>
#include <charconv>

namespace kiteline::relay {
namespace {

std::string_view trimmed(std::string_view s) noexcept {
  while (!s.empty() && is_ascii_space(s.front())) {
    s.remove_prefix(1);
  }
  while (!s.empty() && is_ascii_space(s.back())) {
    s.remove_suffix(1);
  }
  return s;
}

}  // namespace

std::optional<double> parse_loadavg(std::string_view text) noexcept {
  text = trimmed(text);
  const auto sp = text.find(' ');
  if (sp == std::string_view::npos) {
    return std::nullopt;
  }
  std::string_view second = trimmed(text.substr(sp + 1));
  second = second.substr(0, second.find(' '));
  double v = 0;
  const auto [p, ec] = std::from_chars(second.data(), second.data() + second.size(), v);
  if (ec != std::errc{} || p != second.data() + second.size() || v < 0) {
    return std::nullopt;
  }
  return v;
}

std::optional<meminfo_figures> parse_meminfo(std::string_view text) noexcept {
  std::optional<std::uint64_t> total, available, free, cached;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    const std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) {
      continue;
    }
    std::string_view value = trimmed(line.substr(colon + 1));
    value = value.substr(0, value.find(' '));
    const auto v = parse_decimal<std::uint64_t>(value);
    const std::string_view key = line.substr(0, colon);
    if (!v) {
      continue;
    }
    if (key == "MemTotal") {
      total = v;
    } else if (key == "MemAvailable") {
      available = v;
    } else if (key == "MemFree") {
      free = v;
    } else if (key == "Cached") {
      cached = v;
    }
  }
  if (!total) {
    return std::nullopt;
  }
  // pagekite.py: MemAvailable, unless missing or zero; then MemFree + Cached.
  const std::uint64_t f =
      (available && *available != 0) ? *available : free.value_or(0) + cached.value_or(0);
  return meminfo_figures{*total, f};
}

std::optional<std::uint64_t> parse_overload_file(std::string_view text) noexcept {
  return parse_decimal<std::uint64_t>(trimmed(text), 1000000000000ULL);
}

bool overload_level::update(const overload_sample& sample) noexcept {
  const std::uint64_t before = current_;
  if (sample.file_value) {
    current_ = *sample.file_value;
    return current_ != before;
  }
  // pagekite.py only recalculates with --overload set; cpu=0 and mem=0 turn this off.
  if (s_.base == 0 || (s_.cpu <= 0 && s_.mem <= 0) || !sample.loadavg || !sample.mem) {
    return false;
  }
  const double total = static_cast<double>(sample.mem->total);
  const double free = static_cast<double>(sample.mem->free);
  if (membase_ <= 0) {
    membase_ = std::min(std::max(50000.0, total - free), 0.9 * total);
  }
  const double load = static_cast<double>(std::max<std::uint64_t>(sample.load, 1));
  if (load < 50) {
    return false;
  }
  const double memtotal = total - membase_;
  const double munit = std::max(32.0, (memtotal - free) / load);
  const double lunit = std::max(0.10, *sample.loadavg) / load;
  const auto moverload = static_cast<std::int64_t>(s_.mem * memtotal / munit);
  const auto loverload = static_cast<std::int64_t>(s_.cpu / lunit);
  // pagekite.py: min(m or l, l or m): a zero factor (cpu or mem set to 0) does not count.
  const std::int64_t m = moverload != 0 ? moverload : loverload;
  const std::int64_t l = loverload != 0 ? loverload : moverload;
  const std::int64_t target = std::max(static_cast<std::int64_t>(s_.base / 2), std::min(m, l));
  const double next = 0.8 * static_cast<double>(current_) + 0.2 * static_cast<double>(target);
  current_ = next <= 0 ? 0 : static_cast<std::uint64_t>(next);
  return current_ != before;
}

}  // namespace kiteline::relay
