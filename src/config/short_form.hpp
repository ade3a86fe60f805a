// config short form: `kiteline [SERVICE] KITENAME [+flag ...] [AND ...]` (§10.3).
#pragma once

#include <span>
#include <string>
#include <vector>

#include "config/connector_config.hpp"
#include "config/diagnostic.hpp"
#include "config/service_spec.hpp"

namespace kiteline::config {

/// The kites and flags a short form asks for.
struct short_form_result {
  std::vector<service> services;     ///< the kites active for this run, all enabled
  std::vector<flag_setting> flags;   ///< the +flags, targeted at "kite/port"
  std::vector<diagnostic> errors;
};

/// Parses the positional words (origins parallel to words) against the configuration read so
/// far (`configured`: its services, kitename and kitesecret). Secrets come from a configured
/// service of the same kite name, else --kitesecret; with neither, an error explains how to
/// give one (kiteline never signs up interactively). A SERVICE naming an existing directory
/// becomes the built-in web server for that folder. Omitted SERVICE re-enables the configured
/// kites of that name, or means http -> localhost:80.
short_form_result parse_short_form(std::span<const std::string> words,
                                   std::span<const std::string> origins,
                                   const connector_config& configured);

}  // namespace kiteline::config
