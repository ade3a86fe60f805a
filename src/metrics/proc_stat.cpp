#include "metrics/proc_stat.hpp"

#include <charconv>

namespace kiteline::metrics {
namespace {

std::optional<std::uint64_t> number(std::string_view s) noexcept {
  std::uint64_t v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) {
    return std::nullopt;
  }
  return v;
}

/// The next space-separated word of `rest` (consumed from it).
std::string_view next_word(std::string_view& rest) noexcept {
  const auto b = rest.find_first_not_of(" \t\n");
  if (b == std::string_view::npos) {
    rest = {};
    return {};
  }
  rest.remove_prefix(b);
  const auto e = rest.find_first_of(" \t\n");
  const std::string_view w = rest.substr(0, e);
  rest.remove_prefix(e == std::string_view::npos ? rest.size() : e);
  return w;
}

}  // namespace

std::optional<proc_stat> parse_proc_stat(std::string_view text) noexcept {
  const auto close = text.rfind(')');
  if (close == std::string_view::npos) {
    return std::nullopt;
  }
  std::string_view rest = text.substr(close + 1);
  // Fields 3.. follow the command: state(3) ... utime(14) stime(15) ... starttime(22)
  // vsize(23) rss(24).
  proc_stat st;
  for (int field = 3; field <= 24; ++field) {
    const std::string_view w = next_word(rest);
    if (w.empty()) {
      return std::nullopt;
    }
    std::uint64_t* into = nullptr;
    switch (field) {
      case 14:
        into = &st.utime_ticks;
        break;
      case 15:
        into = &st.stime_ticks;
        break;
      case 22:
        into = &st.start_ticks;
        break;
      case 23:
        into = &st.vsize_bytes;
        break;
      case 24:
        into = &st.rss_pages;
        break;
      default:
        break;
    }
    if (into != nullptr) {
      const auto v = number(w);
      if (!v) {
        return std::nullopt;
      }
      *into = *v;
    }
  }
  return st;
}

namespace {

/// The first number after `key` on the first line of `text` that starts with `key`.
std::optional<std::uint64_t> number_after(std::string_view text, std::string_view key) noexcept {
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto eol = text.find('\n', pos);
    if (eol == std::string_view::npos) {
      eol = text.size();
    }
    std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;
    if (line.starts_with(key)) {
      line.remove_prefix(key.size());
      return number(next_word(line));
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::uint64_t> parse_max_open_files(std::string_view text) noexcept {
  return number_after(text, "Max open files");  // the soft limit; "unlimited" is no number
}

std::optional<std::uint64_t> parse_boot_time(std::string_view text) noexcept {
  return number_after(text, "btime ");
}

}  // namespace kiteline::metrics
