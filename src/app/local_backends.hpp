// The relay's own back-ends (--service_on on a relay, config/local_backends.hpp): a
// connector::client whose one tunnel is relay::server::open_local_tunnel, run beside the relay.
#pragma once

#include <memory>
#include <optional>

#include <spdlog/logger.h>

#include "config/connector_config.hpp"
#include "connector/client.hpp"
#include "core/outcome.hpp"
#include "relay/server.hpp"

namespace kiteline::app {

/// Starts the in-process connector for `cfg` against `relay` (started already): null when
/// `cfg` is unset. Its threads run once start_threads() is called on it; stop it before the
/// relay.
outcome<std::unique_ptr<connector::client>> start_local_backends(
    relay::server& relay, const std::optional<config::connector_config>& cfg,
    std::shared_ptr<spdlog::logger> log);

}  // namespace kiteline::app
