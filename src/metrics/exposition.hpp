// metrics/exposition: the Prometheus text exposition format (version 0.0.4) writer: families
// with # HELP and # TYPE lines, samples with escaped label values. Pure.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kiteline::metrics {

/// The Prometheus metric types kiteline exposes.
enum class metric_type : std::uint8_t { counter, gauge };

/// One label of a sample: name (a Prometheus label name) and value (any text; escaped when
/// written).
using label = std::pair<std::string, std::string>;

/// One metric family being built: its samples in insertion order.
struct family {
  std::string name;  ///< counters end in `_total` (the sample name equals the family name)
  std::string help;
  metric_type type = metric_type::gauge;
  struct sample {
    std::vector<label> labels;
    double value = 0;
  };
  std::vector<sample> samples;
};

/// Collects families, then writes them in the order they were first declared; samples of one
/// family stay together even when added between other families' samples. Not thread-safe (one
/// scrape builds one exposition).
class exposition {
 public:
  /// Declares (or finds) the family `name` and returns its index for add(). A second declaration
  /// keeps the first help text and type.
  std::size_t declare(std::string_view name, std::string_view help, metric_type type);
  /// Adds one sample to the family at `index`.
  void add(std::size_t index, std::vector<label> labels, double value);
  /// Declares `name` and adds one sample (the common case of a family with one series).
  void add(std::string_view name, std::string_view help, metric_type type, double value,
           std::vector<label> labels = {});

  /// The text exposition: per family `# HELP`, `# TYPE`, then its samples, one per line, each
  /// line ending in LF. A family without samples is written with its HELP and TYPE only.
  [[nodiscard]] std::string text() const;
  [[nodiscard]] const std::vector<family>& families() const noexcept { return families_; }

 private:
  std::vector<family> families_;
};

/// A label value as the format quotes it: `\` -> `\\`, `"` -> `\"`, LF -> `\n`.
[[nodiscard]] std::string escape_label_value(std::string_view v);
/// A HELP text as the format writes it: `\` -> `\\`, LF -> `\n`.
[[nodiscard]] std::string escape_help(std::string_view v);
/// A sample value: integers exactly (up to 2^53), others with enough digits to round-trip;
/// NaN, +Inf and -Inf as the format spells them.
[[nodiscard]] std::string format_value(double v);
/// True for a valid metric name ([a-zA-Z_:][a-zA-Z0-9_:]*) / label name ([a-zA-Z_][a-zA-Z0-9_]*,
/// not starting with `__`).
[[nodiscard]] bool valid_metric_name(std::string_view name) noexcept;
[[nodiscard]] bool valid_label_name(std::string_view name) noexcept;

/// The content type of text() (Prometheus' text format, version 0.0.4).
inline constexpr std::string_view content_type = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace kiteline::metrics
