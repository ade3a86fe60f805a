// config::diagnostic: one configuration problem with its provenance (file:line or argv[N]).
#pragma once

#include <string>
#include <vector>

namespace kiteline::config {

/// A problem found while reading or validating the configuration (style §6.6).
struct diagnostic {
  std::string origin;   ///< "FILE:LINE", "argv[N]", or empty for whole-config problems
  std::string key;      ///< option name without dashes ("service_on"), or empty
  std::string message;  ///< human text, never contains a secret

  /// "ORIGIN: KEY: MESSAGE", leaving out the empty parts
  /// (e.g. "/etc/pk.rc:3: service_on: expected PROTOS:KITE:HOST:PORT:SECRET").
  [[nodiscard]] std::string to_string() const;

  friend bool operator==(const diagnostic&, const diagnostic&) = default;
};

/// Appends a diagnostic; a tiny helper that keeps call sites on one line.
inline void add(std::vector<diagnostic>& out, std::string origin, std::string key,
                std::string message) {
  out.push_back(diagnostic{std::move(origin), std::move(key), std::move(message)});
}

}  // namespace kiteline::config
