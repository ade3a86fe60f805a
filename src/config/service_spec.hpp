// config service specs: --service_on kite specs (§10.2), per-kite +flags / service_cfg (§10.4).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/connector_config.hpp"
#include "config/errc.hpp"
#include "core/outcome.hpp"

namespace kiteline::config {

/// Services made from one spec, or the problem (error non-empty, services empty).
struct service_spec_result {
  std::vector<service> services;
  std::string error;
};

/// Parses PROTOS:KITE:HOST:PORT:SECRET and the shorter forms of §10.2 (4 fields: no SECRET;
/// 3: PROTOS:KITE:PORT; 2: KITE:PORT, KITE:builtin or PROTO:KITE; 1: KITE). One service per
/// protocol. HOST may be a [bracketed] IPv6 literal. Does not substitute @kitename/@kitesecret
/// (the caller does, with the values current at that point of the option stream).
service_spec_result parse_service_spec(std::string_view spec, bool enabled,
                                       const std::string& origin);

/// The same, from fields already split: PROTOS ("" = http), KITE, HOST ("" = localhost),
/// PORT ("" = protocol default, `builtin`, or a number), SECRET (may be empty).
service_spec_result build_services(std::string_view protos, std::string_view kite,
                                   std::string_view host, std::string_view port,
                                   std::string_view secret_text, bool enabled,
                                   const std::string& origin);

/// The origin port pagekite.py assumes for a protocol (http 80, https 443, irc 6667, ...).
std::optional<std::uint16_t> default_origin_port(std::string_view proto) noexcept;

/// True for the protocols kiteline knows (http, http2, http3, https, websocket, irc, raw,
/// minecraft, xmpp).
bool is_known_proto(std::string_view proto) noexcept;

/// One +flag or --service_cfg setting, waiting to be applied to the kites it names.
struct flag_setting {
  std::string target;               ///< "kite/port": the kite's public port, 80 when none
  std::string key;                  ///< "rewritehost", "ip/1.2.3.4", "password/bob", ...
  bool on = true;                   ///< false for +noFLAG, False and None
  std::optional<std::string> text;  ///< the =VALUE part, when one was given
  std::string origin;
};

/// "kite/port" of a service, as flag_setting::target spells it.
std::string flag_target(const service& s);

/// Parses a short-form word "+key", "+key=value" or "+noKEY" for the kite `target`.
/// Fails with errc::bad_flag and the problem.
outcome<flag_setting> parse_plus_flag(std::string_view word, std::string target,
                                      std::string origin);

/// Parses --service_cfg=KITE[/PORT]:KEY:VALUE (VALUE True/False/None or text). Fails with
/// errc::bad_service_cfg, bad_port, bad_kite_name or bad_flag and the problem.
outcome<flag_setting> parse_service_cfg(std::string_view value, std::string origin);

/// Checks key and value of a setting; returns the problem, empty when the flag is usable.
std::string check_flag(const flag_setting& setting);

/// Applies a checked setting to a service's flags.
void apply_flag(service_flags& flags, const flag_setting& setting);

}  // namespace kiteline::config
