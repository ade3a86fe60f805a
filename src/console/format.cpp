#include "console/format.hpp"

#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/text.hpp"
#include "metrics/proc_stat.hpp"

namespace kiteline::console {

std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c) & 0xffU);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::string html(std::string_view s) { return html_escape(s); }

std::string utc_time(std::chrono::system_clock::time_point t) {
  const std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  ::gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

double epoch_seconds(std::chrono::system_clock::time_point t) {
  return static_cast<double>(
             std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count()) /
         1000.0;
}

std::string duration_text(std::chrono::seconds d) {
  long long s = d.count() < 0 ? 0 : d.count();
  const long long days = s / 86400;
  const long long hours = s / 3600 % 24;
  const long long mins = s / 60 % 60;
  s %= 60;
  std::string out;
  auto part = [&](long long v, const char* unit) {
    if (v != 0) {
      out += (out.empty() ? "" : " ") + std::to_string(v) + unit;
    }
  };
  part(days, "d");
  part(hours, "h");
  part(mins, "m");
  part(s, "s");
  return out.empty() ? "0s" : out;
}

std::string bytes_text(std::uint64_t n) {
  constexpr const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(n);
  std::size_t u = 0;
  while (v >= 1024 && u + 1 < std::size(units)) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  if (u == 0) {
    std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(n));
  } else {
    std::snprintf(buf, sizeof buf, "%.1f %s", v, units[u]);
  }
  return buf;
}

std::string html_page(std::string_view title, std::string_view body) {
  std::string out =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
      "<title>" +
      html(title) +
      "</title><style>"
      "body{font-family:system-ui,sans-serif;margin:1.5em 2em;color:#1d2733;background:#f6f8fa}"
      "h1{font-size:1.5em;margin:0 0 .2em}h2{font-size:1.15em;margin:1.4em 0 .4em}"
      "table{border-collapse:collapse;background:#fff;box-shadow:0 1px 2px #0002;"
      "font-size:.92em}th,td{padding:.35em .7em;border-bottom:1px solid #e3e7eb;"
      "text-align:left;vertical-align:top}th{background:#eef2f6}"
      "td.n{text-align:right;font-variant-numeric:tabular-nums}"
      ".meta{color:#556;margin:.2em 0}.up{color:#17803d;font-weight:600}"
      ".down{color:#b42318;font-weight:600}.empty{color:#778;font-style:italic}"
      "code{font-size:.95em}footer{margin-top:2em;color:#889;font-size:.85em}"
      "</style></head><body>\n";
  out += body;
  out += "<footer>kiteline console &middot; <a href=\"/metrics\">/metrics</a> &middot; "
         "<a href=\"/status.json\">/status.json</a></footer>\n</body></html>\n";
  return out;
}

namespace {

std::string read_text(const char* path) {
  std::ifstream in(path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

void add_process_metrics(metrics::exposition& out, std::string_view version) {
  using metrics::metric_type;
  out.add("kiteline_build_info", "kiteline build; the value is always 1", metric_type::gauge, 1,
          {{"version", std::string(version)}});
  const long ticks = ::sysconf(_SC_CLK_TCK);
  const long page = ::sysconf(_SC_PAGESIZE);
  if (const auto st = metrics::parse_proc_stat(read_text("/proc/self/stat")); st && ticks > 0) {
    const auto tck = static_cast<double>(ticks);
    out.add("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
            metric_type::counter, static_cast<double>(st->utime_ticks + st->stime_ticks) / tck);
    out.add("process_resident_memory_bytes", "Resident memory size in bytes.", metric_type::gauge,
            static_cast<double>(st->rss_pages) * static_cast<double>(page));
    out.add("process_virtual_memory_bytes", "Virtual memory size in bytes.", metric_type::gauge,
            static_cast<double>(st->vsize_bytes));
    if (const auto boot = metrics::parse_boot_time(read_text("/proc/stat"))) {
      out.add("process_start_time_seconds",
              "Start time of the process since unix epoch in seconds.", metric_type::gauge,
              static_cast<double>(*boot) + static_cast<double>(st->start_ticks) / tck);
    }
  }
  std::error_code ec;
  std::size_t fds = 0;
  for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end;
       it.increment(ec)) {
    ++fds;
  }
  if (!ec) {
    out.add("process_open_fds", "Number of open file descriptors.", metric_type::gauge,
            static_cast<double>(fds));
  }
  if (const auto max = metrics::parse_max_open_files(read_text("/proc/self/limits"))) {
    out.add("process_max_fds", "Maximum number of open file descriptors.", metric_type::gauge,
            static_cast<double>(*max));
  }
}

}  // namespace kiteline::console
