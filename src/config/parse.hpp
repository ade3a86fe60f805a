// config parse: pagekite.py-compatible command line -> relay_config / connector_config.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "config/connector_config.hpp"
#include "config/diagnostic.hpp"
#include "config/options.hpp"
#include "config/relay_config.hpp"

namespace kiteline::config {

/// What main should do.
enum class action {
  run_relay,      ///< `relay` holds the configuration
  run_connector,  ///< `connector` holds the configuration
  help,           ///< print help_text, exit 0
  version,        ///< print the version, exit 0
  check_config,   ///< validate (done), print the effective configuration, exit 0/1
};

/// Everything parse_command_line found out. Run only when errors is empty.
struct parse_outcome {
  action what = action::help;
  std::optional<relay_config> relay;          ///< set for run_relay and relay check_config
  std::optional<connector_config> connector;  ///< set for run_connector / connector check
  /// run_relay / relay check: the kites the relay serves itself (--service_on on a relay), run
  /// by its in-process connector (config/local_backends.hpp); unset when there are none.
  std::optional<connector_config> local_backends;
  std::vector<diagnostic> errors;             ///< all problems, in stream order, then validation
  std::vector<diagnostic> warnings;           ///< ignored options, clamped values, ...
  std::string help_text;                      ///< set for action::help

  [[nodiscard]] bool ok() const noexcept { return errors.empty(); }
};

/// Parses argv (argv[0] = program name) the way pagekite.py does: ~/.pagekite.rc (unless
/// --clean), then argv in order with --optfile/--optdir spliced in; later scalars win, lists
/// accumulate. The role is `kiteline frontend` / `kiteline backend` when argv[1] says so,
/// otherwise --isfrontend/-f anywhere in the stream. Unknown options, options of the other
/// role, and recognised-but-unimplemented options are errors naming the option and its origin.
/// Then validate() runs, so that every problem is reported at once.
parse_outcome parse_command_line(std::span<const std::string> argv, const environment& env);

}  // namespace kiteline::config
