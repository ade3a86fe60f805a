// console/connector_pages: what the connector's console serves, rendered from a
// connector::connector_snapshot and its configuration: the Prometheus metrics, /status.json,
// the HTML status page, and the SIGUSR1 state dump.
#pragma once

#include <string>

#include "config/connector_config.hpp"
#include "connector/client.hpp"
#include "console/relay_pages.hpp"

namespace kiteline::console {

/// The public URL of a kite: http://name/, http://name:8080/, https://name/, or name:port for
/// raw kites.
[[nodiscard]] std::string public_url(const config::service& s);

[[nodiscard]] std::string connector_metrics(const connector::connector_snapshot& s,
                                            const config::connector_config& cfg,
                                            const page_options& o);
[[nodiscard]] std::string connector_json(const connector::connector_snapshot& s,
                                         const config::connector_config& cfg);
[[nodiscard]] std::string connector_html(const connector::connector_snapshot& s,
                                         const config::connector_config& cfg);
[[nodiscard]] std::string connector_dump(const connector::connector_snapshot& s,
                                         const config::connector_config& cfg);

}  // namespace kiteline::console
