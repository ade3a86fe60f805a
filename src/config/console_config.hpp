// config::console_config: the --httpd console and metrics settings, shared by both roles.
#pragma once

#include <cstdint>
#include <string>

#include "config/secret.hpp"

namespace kiteline::config {

/// --httpd / --httppass / --metrics_per_kite.
struct console_config {
  bool enabled = false;            ///< --httpd was given
  std::string host = "127.0.0.1";  ///< --httpd HOST (loopback unless the operator names one)
  std::uint16_t port = 0;          ///< --httpd PORT (0: the kernel picks; printed when ready)
  secret password;                 ///< --httppass: Basic auth (any user name) when set
  bool metrics_per_kite = false;   ///< --metrics_per_kite: series labelled with each kite name

  friend bool operator==(const console_config&, const console_config&) = default;
};

}  // namespace kiteline::config
