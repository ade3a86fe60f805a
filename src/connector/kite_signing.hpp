// connector kite_signing: the connector's side of kite authentication (spec §4.2, §4.3, §11.2):
// BSALT, SALT8, signed kite lines and the handshake request. Pure (randomness is an argument).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/connector_config.hpp"
#include "wire/handshake.hpp"

namespace kiteline::connector {

/// The version string kiteline sends in X-PageKite-Version.
inline constexpr std::string_view kiteline_pagekite_version = "1.5.2.201011+kiteline";

/// BSALT as pagekite.py: SHA1HEX(process_secret || relay || kite_secret)[:36] (36 lower-case
/// hex chars, stable per process, relay and secret; never holds ':'). Any executor (pure).
[[nodiscard]] std::string make_bsalt(std::string_view process_secret, std::string_view relay,
                                     std::string_view kite_secret);

/// SALT8: 8 lower-case hex chars from `random` (hex never starts with 't'). Any executor.
[[nodiscard]] std::string make_salt8(std::uint64_t random);

/// "proto[-port]" of a service, lower-case (the kite line's PROTO field).
[[nodiscard]] std::string kite_proto(const config::service& s);

/// One signed kite line for `s`: proto/domain lower-cased, `bsalt`, `fsalt` ("" in round one),
/// signature = SALT8 || SHA1HEX(secret || proto:domain:bsalt:fsalt || SALT8)[:28].
/// Any executor (pure).
[[nodiscard]] wire::kite_request sign_kite(const config::service& s, std::string_view bsalt,
                                           std::string_view fsalt, std::string_view salt8);

/// The tunnel request of a connector: AddKites always, ZChunks unless `nozchunks`, the version
/// twice (as pagekite.py), Replace = `replace` when not empty, and `kites`.
[[nodiscard]] wire::handshake_request make_request(std::vector<wire::kite_request> kites,
                                                   bool nozchunks, std::string replace);

}  // namespace kiteline::connector
