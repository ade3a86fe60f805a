#include "metrics/exposition.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace kiteline::metrics {
namespace {

constexpr bool is_alpha_(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

/// A name with every byte the format does not allow replaced by '_' (names come from code, so
/// this only keeps a programming slip from producing an unparseable exposition).
std::string sanitized(std::string_view name, bool colon_ok) {
  std::string out(name.empty() ? std::string_view("_") : name);
  for (std::size_t i = 0; i < out.size(); ++i) {
    const char c = out[i];
    const bool ok = is_alpha_(c) || (colon_ok && c == ':') || (i > 0 && is_digit(c));
    if (!ok) {
      out[i] = '_';
    }
  }
  return out;
}

}  // namespace

bool valid_metric_name(std::string_view name) noexcept {
  if (name.empty()) {
    return false;
  }
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    if (!(is_alpha_(c) || c == ':' || (i > 0 && is_digit(c)))) {
      return false;
    }
  }
  return true;
}

bool valid_label_name(std::string_view name) noexcept {
  if (name.empty() || name.starts_with("__")) {
    return false;
  }
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    if (!(is_alpha_(c) || (i > 0 && is_digit(c)))) {
      return false;
    }
  }
  return true;
}

std::string escape_label_value(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (const char c : v) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string escape_help(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (const char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string format_value(double v) {
  if (std::isnan(v)) {
    return "NaN";
  }
  if (std::isinf(v)) {
    return v > 0 ? "+Inf" : "-Inf";
  }
  char buf[32];
  if (std::fabs(v) < 9007199254740992.0 && v == std::floor(v)) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else {
    // The shortest of 15, 16 or 17 significant digits that reads back as the same double.
    for (int digits = 15; digits <= 17; ++digits) {
      std::snprintf(buf, sizeof buf, "%.*g", digits, v);
      if (std::strtod(buf, nullptr) == v) {
        break;
      }
    }
  }
  return buf;
}

std::size_t exposition::declare(std::string_view name, std::string_view help, metric_type type) {
  const std::string n = sanitized(name, true);
  for (std::size_t i = 0; i < families_.size(); ++i) {
    if (families_[i].name == n) {
      return i;
    }
  }
  families_.push_back(family{n, std::string(help), type, {}});
  return families_.size() - 1;
}

void exposition::add(std::size_t index, std::vector<label> labels, double value) {
  for (auto& l : labels) {
    if (!valid_label_name(l.first)) {
      l.first = sanitized(l.first, false);
    }
  }
  families_.at(index).samples.push_back({std::move(labels), value});
}

void exposition::add(std::string_view name, std::string_view help, metric_type type, double value,
                     std::vector<label> labels) {
  add(declare(name, help, type), std::move(labels), value);
}

std::string exposition::text() const {
  std::string out;
  for (const auto& f : families_) {
    out += "# HELP " + f.name + " " + escape_help(f.help) + "\n";
    out += "# TYPE " + f.name + (f.type == metric_type::counter ? " counter\n" : " gauge\n");
    for (const auto& s : f.samples) {
      out += f.name;
      if (!s.labels.empty()) {
        out += '{';
        for (std::size_t i = 0; i < s.labels.size(); ++i) {
          out += (i == 0 ? "" : ",") + s.labels[i].first + "=\"" +
                 escape_label_value(s.labels[i].second) + "\"";
        }
        out += '}';
      }
      out += " " + format_value(s.value) + "\n";
    }
  }
  return out;
}

}  // namespace kiteline::metrics
