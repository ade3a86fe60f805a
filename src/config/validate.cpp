// Whole-configuration checks for the relay and the connector (style §9).
#include "config/validate.hpp"

#include <algorithm>
#include <filesystem>

namespace kiteline::config {
namespace {

std::string origin_of(const origin_map& origins, std::string_view key) {
  const auto it = origins.find(key);
  return it == origins.end() ? std::string() : it->second;
}

// "" when PATH is a readable regular file, else the problem.
std::string file_problem(const std::string& path) {
  std::error_code ec;
  const auto st = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(st)) {
    return "cannot read " + path + ": no such file";
  }
  if (!std::filesystem::is_regular_file(st)) {
    return "cannot read " + path + ": not a regular file";
  }
  return {};
}

bool name_matches(std::string_view pattern, std::string_view name) {
  if (pattern == name) {
    return true;
  }
  if (pattern.starts_with("*.")) {
    const std::string_view suffix = pattern.substr(1);  // ".example.com"
    return name.size() > suffix.size() && name.ends_with(suffix);
  }
  return false;
}

// The --tls_protocols / --tls_legacy diagnostics, under the option that caused them.
void check_tls_policy(std::string_view protocols, bool legacy, const tls::tls_support& tls,
                      std::vector<diagnostic>& errors, std::vector<diagnostic>& warnings,
                      const origin_map& origins) {
  const auto range = tls::resolve_tls_protocols(protocols, legacy, tls);
  const std::string key = protocols.empty() ? "tls_legacy" : "tls_protocols";
  for (const auto& w : range.warnings) {
    add(warnings, origin_of(origins, key), key, w);
  }
  for (const auto& e : range.errors) {
    add(errors, origin_of(origins, key), key, e);
  }
}

}  // namespace

void validate(const relay_config& cfg, std::vector<diagnostic>& errors,
              std::vector<diagnostic>& warnings, const origin_map& origins,
              const tls::tls_support& tls) {
  if (cfg.domains.empty() && cfg.tls_client_ca.empty() && cfg.auth.domains.empty() &&
      cfg.local_kites.empty()) {
    add(errors, "", "domain",
        "the relay refuses to start with no way to authenticate connectors: give "
        "--domain=PROTOS:DOMAIN:SECRET, --authdomain=[DOMAIN:]SUFFIX (or an auth app, "
        "--authdomain=/path/app) or --tls_client_ca=FILE, "
        "or serve kites itself with --service_on");
  }
  if (cfg.tls_client_required && cfg.tls_client_ca.empty()) {
    add(errors, origin_of(origins, "tls_client_required"), "tls_client_required",
        "needs --tls_client_ca=FILE (the CA that signs the connectors' certificates)");
  }
  if (!cfg.tls_client_ca.empty() && cfg.tls_endpoints.empty()) {
    add(warnings, origin_of(origins, "tls_client_ca"), "tls_client_ca",
        "no --tls_endpoint: the relay terminates no TLS, so no connector can present a "
        "certificate");
  }
  if (cfg.fleet.enabled()) {
    const auto& f = cfg.fleet;
    if (f.zone.empty() || f.tsig.name.empty() || f.addresses.empty()) {
      add(errors, origin_of(origins, "fleet_dns"), "fleet_dns",
          "a fleet relay needs --fleet_zone=ZONE, --fleet_tsig=ALG:NAME:BASE64 and "
          "--fleet_address=IP (the address visitors reach it on) with --fleet_dns");
    }
    if (f.port != 0 && f.peer_secret.empty()) {
      add(errors, origin_of(origins, "fleet_port"), "fleet_port",
          "needs --fleet_secret=SECRET (the key every relay of the fleet shares), or the peer "
          "port would accept forwarded visitors from anybody");
    }
  } else {
    for (const char* key : {"fleet_zone", "fleet_tsig", "fleet_address", "fleet_port",
                            "fleet_secret"}) {
      if (origins.count(key) != 0) {
        add(errors, origin_of(origins, key), key, "needs --fleet_dns=IP[:PORT] (the fleet's DNS server)");
        break;
      }
    }
  }
  check_tls_policy(cfg.tls_protocols, cfg.tls_legacy, tls, errors, warnings, origins);
  if (cfg.ports.empty()) {
    add(errors, origin_of(origins, "ports"), "ports", "no public ports");
  }
  for (const auto& d : cfg.domains) {
    for (const auto& p : d.protos) {
      if (std::find(cfg.protos.begin(), cfg.protos.end(), p.proto) == cfg.protos.end()) {
        add(warnings, d.origin, "domain",
            "protocol `" + p.proto + "` is not in --protos; such kites will be refused");
      }
    }
  }
  for (const auto& a : cfg.port_aliases) {
    if (std::find(cfg.ports.begin(), cfg.ports.end(), a.listen_port) == cfg.ports.end()) {
      add(warnings, origin_of(origins, "portalias"), "portalias",
          "port " + std::to_string(a.listen_port) + " is not one of --ports");
    }
  }
  for (const auto& e : cfg.tls_endpoints) {
    if (auto problem = file_problem(e.pem_file); !problem.empty()) {
      add(errors, e.origin, "tls_endpoint", problem);
    }
  }
  if (!cfg.tls_default.empty()) {
    const bool found =
        std::any_of(cfg.tls_endpoints.begin(), cfg.tls_endpoints.end(),
                    [&](const tls_endpoint& e) { return name_matches(e.name, cfg.tls_default); });
    if (!found) {
      add(warnings, origin_of(origins, "tls_default"), "tls_default",
          "`" + cfg.tls_default + "` matches no --tls_endpoint");
    }
  }
  if (!cfg.tls_client_ca.empty()) {
    if (auto problem = file_problem(cfg.tls_client_ca); !problem.empty()) {
      add(errors, origin_of(origins, "tls_client_ca"), "tls_client_ca", problem);
    }
  }
  if (!cfg.tls_endpoint_ca.empty()) {
    if (auto problem = file_problem(cfg.tls_endpoint_ca); !problem.empty()) {
      add(errors, origin_of(origins, "tls_endpoint_ca"), "tls_endpoint_ca", problem);
    }
  }
  if (!cfg.motd_file.empty()) {
    if (auto problem = file_problem(cfg.motd_file); !problem.empty()) {
      add(errors, origin_of(origins, "motd"), "motd", problem);
    }
  }
}

void validate(const connector_config& cfg, std::vector<diagnostic>& errors,
              std::vector<diagnostic>& warnings, const origin_map& origins,
              const tls::tls_support& tls) {
  if (cfg.frontends.empty() && !cfg.pool) {
    add(errors, "", "frontend",
        "no relay to connect to: give --frontend=HOST:PORT, --frontends=N:NAME:PORT, "
        "--defaults or --whitelabel=DOMAIN");
  }
  const bool any_enabled = std::any_of(cfg.services.begin(), cfg.services.end(),
                                       [](const service& s) { return s.enabled; });
  if (!any_enabled) {
    add(errors, "", "service_on",
        "no kites to serve: give --service_on=PROTO:KITE:HOST:PORT:SECRET or the short form "
        "`kiteline PORT KITENAME`");
  }
  for (const auto& s : cfg.services) {
    if (s.enabled && s.kite_secret.empty() && cfg.tls_client_cert.empty()) {
      add(errors, s.origin, "service_on",
          "no secret for kite `" + s.id() +
              "`: add :SECRET to the spec or give --kitesecret=SECRET");
    }
  }
  if (!cfg.ca_certs.empty() && cfg.ca_certs != "auto" && cfg.ca_certs != "curl") {
    if (auto problem = file_problem(cfg.ca_certs); !problem.empty()) {
      add(errors, origin_of(origins, "ca_certs"), "ca_certs", problem);
    }
  }
  if (!cfg.tls_client_cert.empty()) {
    if (auto problem = file_problem(cfg.tls_client_cert); !problem.empty()) {
      add(errors, origin_of(origins, "tls_client_cert"), "tls_client_cert", problem);
    }
    if (cfg.fe_certnames.empty() && cfg.ca_certs.empty() && !cfg.fe_nocertcheck) {
      add(warnings, origin_of(origins, "tls_client_cert"), "tls_client_cert",
          "ignored: the tunnels are not TLS (give --fe_certname or --ca_certs)");
    }
  }
  check_tls_policy(cfg.tls_protocols, cfg.tls_legacy, tls, errors, warnings, origins);
  if (cfg.fe_nocertcheck) {
    add(warnings, origin_of(origins, "fe_nocertcheck"), "fe_nocertcheck",
        "relay certificates will NOT be verified" +
            std::string(cfg.fe_certnames.empty() ? "" : " (this overrides --fe_certname)"));
  }
}

}  // namespace kiteline::config
