// config validate: whole-configuration checks run after parsing (style §9: all problems at once).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "config/connector_config.hpp"
#include "config/diagnostic.hpp"
#include "config/relay_config.hpp"
#include "tls/protocols.hpp"

namespace kiteline::config {

/// Origin ("file:line" / "argv[N]") of the occurrence of each scalar option that won, by
/// canonical option name; used to point validation messages at the right line.
using origin_map = std::map<std::string, std::string, std::less<>>;

/// Checks a parsed relay configuration; appends every problem to errors / warnings.
/// Refuses a relay with no way to authenticate connectors (no --domain, no --tls_client_ca).
/// Checks that the files it names (PEM files, client CA, motd) exist and are regular files,
/// and resolves --tls_protocols/--tls_legacy against `tls` (its warnings and errors).
void validate(const relay_config& cfg, std::vector<diagnostic>& errors,
              std::vector<diagnostic>& warnings, const origin_map& origins = {},
              const tls::tls_support& tls = {});

/// Checks a parsed connector configuration: at least one relay, at least one enabled kite,
/// a secret for every enabled kite (unless --tls_client_cert), readable CA and client
/// certificate files, the TLS protocol policy, and warns about --fe_nocertcheck.
void validate(const connector_config& cfg, std::vector<diagnostic>& errors,
              std::vector<diagnostic>& warnings, const origin_map& origins = {},
              const tls::tls_support& tls = {});

}  // namespace kiteline::config
