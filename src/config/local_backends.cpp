#include "config/local_backends.hpp"

#include <algorithm>
#include <array>

#include "config/apply_option.hpp"

namespace kiteline::config {

bool is_local_backend_option(std::string_view name) noexcept {
  constexpr std::array names{"service_on", "service_off", "service_cfg",         "kitename",
                             "kitesecret", "insecure",    "noprobes",            "max_conns",
                             "origin_idle_timeout"};
  return std::find(names.begin(), names.end(), name) != names.end();
}

bool finish_local_backends(relay_config& relay, connector_config& local,
                           const std::vector<flag_setting>& flags,
                           std::vector<diagnostic>& warnings) {
  if (local.services.empty() && flags.empty()) {
    return false;
  }
  apply_flags(local, flags, warnings);
  relay.local_kites.clear();
  for (const auto& s : local.services) {
    if (!s.enabled) {
      continue;
    }
    relay.local_kites.push_back(s.id());
    if (std::find(relay.protos.begin(), relay.protos.end(), s.proto) == relay.protos.end()) {
      add(warnings, s.origin, "service_on",
          "protocol `" + s.proto + "` is not in --protos: the relay will not serve " + s.id());
    }
    if (s.public_port && s.proto != "raw" &&
        std::find(relay.ports.begin(), relay.ports.end(), *s.public_port) == relay.ports.end()) {
      add(warnings, s.origin, "service_on",
          "port " + std::to_string(*s.public_port) + " is not one of --ports: the relay will "
          "not serve " + s.id());
    }
  }
  if (relay.local_kites.empty()) {
    return false;
  }
  local.frontends = {frontend_address{std::string(local_relay_host), local_relay_port, ""}};
  local.process = relay.process;
  local.process.threads = 1;
  local.process.nozchunks = true;   // compressing bytes that stay in this process gains nothing
  local.process.accesslog.clear();  // the relay logs each visitor already
  local.process.console = {};       // the relay's console shows these kites
  local.process.daemonize = false;
  local.process.pidfile.clear();
  local.error_url = relay.error_url;
  local.error_urls = relay.error_urls;
  return true;
}

}  // namespace kiteline::config
