// console/relay_pages: what the relay's console serves, rendered from a relay::relay_snapshot:
// the Prometheus metrics, /status.json, the HTML status page, and the SIGUSR1 state dump.
#pragma once

#include <string>
#include <string_view>

#include "relay/snapshot.hpp"

namespace kiteline::console {

/// Rendering choices.
struct page_options {
  bool metrics_per_kite = false;  ///< --metrics_per_kite: series labelled with kite names
  std::string version;            ///< kiteline_build_info{version}
  bool process_metrics = true;    ///< the process_* set (off in unit tests: /proc varies)
};

[[nodiscard]] std::string relay_metrics(const relay::relay_snapshot& s, const page_options& o);
[[nodiscard]] std::string relay_json(const relay::relay_snapshot& s);
[[nodiscard]] std::string relay_html(const relay::relay_snapshot& s);
/// The SIGUSR1 dump: one line per fact, no trailing newline (for the log).
[[nodiscard]] std::string relay_dump(const relay::relay_snapshot& s);

/// "http" of "http-8080:example.com" (a registry key's proto without its port).
[[nodiscard]] std::string_view key_proto(std::string_view key) noexcept;

}  // namespace kiteline::console
