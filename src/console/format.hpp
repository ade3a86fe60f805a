// console/format: the small text helpers the console pages share: JSON strings, times, the HTML
// page frame (inline CSS only, no script, every value escaped by the callers with html()).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "metrics/exposition.hpp"

namespace kiteline::console {

/// A JSON string literal (quotes included): `"`, `\` and control bytes escaped (\uXXXX); bytes
/// >= 0x80 are passed through (the console's texts are UTF-8 or peer bytes shown as they came).
[[nodiscard]] std::string json_string(std::string_view s);
/// HTML-escaped text (& < > " ').
[[nodiscard]] std::string html(std::string_view s);
/// "2026-12-07T09:33:12Z".
[[nodiscard]] std::string utc_time(std::chrono::system_clock::time_point t);
/// Seconds since the epoch, with milliseconds.
[[nodiscard]] double epoch_seconds(std::chrono::system_clock::time_point t);
/// "3d 4h 5m 6s" style (largest units first, zeros dropped; "0s" for none).
[[nodiscard]] std::string duration_text(std::chrono::seconds d);
/// 1536 -> "1.5 KiB".
[[nodiscard]] std::string bytes_text(std::uint64_t n);
/// A complete HTML document: title, a small inline style sheet, `body`.
[[nodiscard]] std::string html_page(std::string_view title, std::string_view body);

/// The standard process_* metrics from /proc/self (CPU, memory, descriptors, start time), and
/// kiteline_build_info{version}.
void add_process_metrics(metrics::exposition& out, std::string_view version);

}  // namespace kiteline::console
