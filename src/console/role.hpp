// console/role: the console and the SIGUSR1 state dump wired to a relay or a connector (what
// app/main calls; the pages themselves are in relay_pages / connector_pages).
#pragma once

#include <memory>
#include <string>

#include <spdlog/logger.h>

#include "config/console_config.hpp"
#include "connector/client.hpp"
#include "console/server.hpp"
#include "core/outcome.hpp"
#include "relay/server.hpp"

namespace kiteline::console {

/// Starts the console of `relay` when `cfg.enabled` (a null pointer otherwise). `relay` must
/// outlive the returned server; stop the console before the relay.
[[nodiscard]] outcome<std::unique_ptr<server>> start_relay_console(
    relay::server& relay, const config::console_config& cfg, std::string version,
    std::shared_ptr<spdlog::logger> log);
/// The same for a connector.
[[nodiscard]] outcome<std::unique_ptr<server>> start_connector_console(
    connector::client& client, const config::console_config& cfg, std::string version,
    std::shared_ptr<spdlog::logger> log);

/// SIGUSR1: writes the state dump (tunnels, kites, streams) to `log`, one line per fact. Any
/// thread but a worker's.
void log_state_dump(relay::server& relay, spdlog::logger& log);
void log_state_dump(const connector::client& client, spdlog::logger& log);

}  // namespace kiteline::console
