// The kites a relay serves itself: pagekite.py's recommended relay layout, `--isfrontend` plus
// `--service_on` / `--backend` lines (spec §8.1, §10.2; docs/operations.md "A relay that also
// serves its own sites"). The relay runs an in-process connector for them whose one "relay" is
// the relay itself (connector/local_backends.hpp); this file turns the options into its
// connector_config.
#pragma once

#include <string_view>
#include <vector>

#include "config/connector_config.hpp"
#include "config/diagnostic.hpp"
#include "config/relay_config.hpp"
#include "config/service_spec.hpp"

namespace kiteline::config {

/// The label of the in-process connector's relay in logs and the console ("loopback:1", as
/// pagekite.py names its loop-back tunnel).
inline constexpr std::string_view local_relay_host = "loopback";
inline constexpr std::uint16_t local_relay_port = 1;

/// True for the connector options a relay takes for its own back-ends (canonical names):
/// --service_on/--backend, --service_off/--define_backend, --service_cfg/--be_config,
/// --kitename, --kitesecret, --insecure, --noprobes, --max_conns, --origin_idle_timeout.
[[nodiscard]] bool is_local_backend_option(std::string_view name) noexcept;

/// After the option stream: applies `flags` (--service_cfg) to `local`'s kites, gives `local`
/// the relay's process settings, error URLs and its loop-back relay, and records the enabled
/// kites' keys in `relay.local_kites`. Returns false when no kite is enabled (no local
/// connector to run). Kites need no secret here (spec §8.1: no authentication on the loop-back
/// tunnel). Warns about a kite whose protocol is not in --protos or whose public port is not
/// served: the relay would refuse it.
bool finish_local_backends(relay_config& relay, connector_config& local,
                           const std::vector<flag_setting>& flags,
                           std::vector<diagnostic>& warnings);

}  // namespace kiteline::config
