// The PageKite tunnel handshake (spec §4): kite lines, the BE's CONNECT request, the FE's 200
// response, and the in-tunnel NOOP kite rounds of Flow B (§4.5, §4.8); formatting and parsing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "wire/chunk_headers.hpp"
#include "wire/errc.hpp"

namespace kiteline::wire {

// ---------------------------------------------------------------------------------------------
// Kite lines (§4.2)

/// Length limits of one kite line's fields (§11.3; libpagekite's buffer sizes).
struct kite_limits {
  std::size_t max_proto = 24;      ///< PROTO[-PORT]
  std::size_t max_domain = 1024;   ///< DOMAIN
  std::size_t max_salt = 36;       ///< BSALT and FSALT each
  std::size_t max_signature = 36;  ///< SIGNATURE (a 36-char BE signature)
};

/// One `X-PageKite:` value: PROTO[-PORT]:DOMAIN:BSALT:FSALT:SIGNATURE.
/// proto and domain are lower-case after parsing (the FE lower-cases before verifying).
struct kite_request {
  std::string proto;      ///< protocol including the optional "-PORT" ("http", "raw-22")
  std::string domain;     ///< kite name, possibly a wildcard "*.example.com"
  std::string bsalt;      ///< BE salt (36 hex chars from pagekite.py)
  std::string fsalt;      ///< FE challenge token; empty in the first round
  std::string signature;  ///< 36 chars (§4.3); may be empty in a first round from odd peers
  friend bool operator==(const kite_request&, const kite_request&) = default;
};

/// Parses a kite line value: exactly five ':'-separated fields (else errc::bad_kite_line),
/// proto non-empty, no field holding a byte <= 0x20 or 0x7f (errc::bad_kite_line; stricter than
/// pagekite.py, which would later call such a kite unauthorized), each field within `limits`
/// (else errc::kite_field_too_long). proto and domain are lower-cased. A non-numeric "-PORT"
/// is not refused here (the FE answers `Invalid ...;port` for it, §4.6; see split_proto).
[[nodiscard]] result<kite_request> parse_kite_line(std::string_view value,
                                                   const kite_limits& limits = {});

/// "proto:domain:bsalt:fsalt:signature" (the `X-PageKite:` value). Precondition: fields hold no
/// ':' or line breaks (true for anything parse_kite_line returned).
[[nodiscard]] std::string format_kite_line(const kite_request& kite);

/// "proto:domain:bsalt": how results (OK, Invalid, ...) name a kite (§4.4).
[[nodiscard]] std::string kite_key(const kite_request& kite);

/// A protocol split into base and optional public port.
struct proto_port {
  std::string_view base;              ///< "raw" of "raw-22"
  std::optional<std::uint16_t> port;  ///< 22 of "raw-22"; nullopt without "-PORT"
  friend bool operator==(const proto_port&, const proto_port&) = default;
};

/// Splits "raw-22" into {raw, 22} and "http" into {http, nullopt}. Refuses (errc::bad_kite_line)
/// an empty base, an empty or non-decimal port, a port over 65535, or more than one '-'.
/// The view points into `proto`.
[[nodiscard]] result<proto_port> split_proto(std::string_view proto) noexcept;

// ---------------------------------------------------------------------------------------------
// Request (BE -> FE, §4.1)

/// Limits for parsing a handshake request (head or in-tunnel kite round).
struct handshake_limits {
  std::size_t max_head = 16 * 1024;  ///< bytes up to and including the blank line
  std::size_t max_kites = 64;        ///< X-PageKite lines per request (errc::too_many_kites)
  std::size_t max_versions = 4;      ///< X-PageKite-Version values kept (the rest are ignored)
  kite_limits kite{};
};

/// A tunnel request. Unknown headers and unknown feature tokens are ignored when parsing.
struct handshake_request {
  bool add_kites = false;             ///< X-PageKite-Features: AddKites (Flow B capable)
  bool zchunks = false;               ///< X-PageKite-Features: ZChunks
  bool mobile = false;                ///< X-PageKite-Features: Mobile (libpagekite on Android)
  std::vector<std::string> versions;  ///< X-PageKite-Version values, in order (pagekite.py: 2)
  std::string replace;                ///< X-PageKite-Replace session id; empty = none
  std::vector<kite_request> kites;    ///< X-PageKite lines, in order
  bool legacy_beanstalk = false;      ///< headers used the legacy X-Beanstalk prefix
  friend bool operator==(const handshake_request&, const handshake_request&) = default;
};

/// Formats the request head exactly as pagekite.py does: `CONNECT PageKite:1 HTTP/1.0`,
/// [Features: Mobile], [Features: AddKites], versions[0], [Features: ZChunks], versions[1..],
/// [Replace], one `X-PageKite:` line per kite, blank line. With the pagekite.py defaults
/// (add_kites, zchunks, two equal versions) this reproduces its bytes. Preconditions: no value
/// holds a line break.
[[nodiscard]] std::string format_handshake_request(const handshake_request& req);

/// Parses a request head with the FE acceptance rules of §4.1: request line of exactly three
/// words, method `CONNECT` (case-sensitive), target starting with `pagekite:` (any case),
/// version HTTP/1.0 or HTTP/1.1 (else errc::bad_request_line); header names any case,
/// `X-Beanstalk` accepted for `X-PageKite`; a header line without ':' is errc::bad_header_line;
/// a malformed kite line is errc::bad_kite_line / errc::kite_field_too_long (the FE then answers
/// connect_unavailable(), §4.9); more than max_kites lines errc::too_many_kites; none
/// errc::no_kites. Only the bytes up to the first blank line are looked at (find_head_end);
/// if there is none errc::missing_blank_line, and if it lies beyond limits.max_head
/// errc::head_too_large. The result owns its strings. Pure; any executor.
[[nodiscard]] result<handshake_request> parse_handshake_request(
    std::string_view head, const handshake_limits& limits = {});

// ---------------------------------------------------------------------------------------------
// Response (FE -> BE, §4.4)

/// What the FE says about one kite.
enum class kite_status : std::uint8_t {
  sign_this,  ///< X-PageKite-SignThis: challenge, resend signed with `fsalt`
  ok,         ///< X-PageKite-OK
  ssl_ok,     ///< X-PageKite-SSL-OK (follows an OK for http* kites)
  invalid,    ///< X-PageKite-Invalid (+ X-PageKite-Invalid-Why when `why` is not empty)
  duplicate,  ///< X-PageKite-Duplicate
};

/// One per-kite result line (or the Invalid + Invalid-Why pair).
struct kite_result {
  kite_status status = kite_status::ok;
  std::string kite;   ///< "proto:domain:bsalt" (kite_key of the request's kite)
  std::string fsalt;  ///< sign_this only: the challenge token
  std::string why;    ///< invalid only: the reason ("signature", "unauthorized", ...)
  friend bool operator==(const kite_result&, const kite_result&) = default;
};

/// A handshake response or an in-tunnel result chunk.
struct handshake_response {
  bool zchunks = false;                   ///< X-PageKite-Features: ZChunks
  bool websockets = false;                ///< X-PageKite-Features: WebSockets
  bool add_kites = false;                 ///< X-PageKite-Features: AddKites
  std::vector<std::string> protos;        ///< X-PageKite-Protos, split at ','
  std::vector<std::string> ports;         ///< X-PageKite-Ports ("virtual" allowed)
  std::vector<std::string> raw_ports;     ///< X-PageKite-Raw-Ports
  std::vector<kite_result> results;       ///< per-kite results in order
  std::string session_id;                 ///< X-PageKite-SessionID; empty = absent
  std::optional<std::string> misc;        ///< X-PageKite-Misc raw value ("motd=...")
  std::optional<std::int64_t> qconns;     ///< X-PageKite-QConns
  std::optional<std::int64_t> qdays;      ///< X-PageKite-QDays
  std::string ips_per_sec;                ///< X-PageKite-IPsPerSec "IPS/SECONDS"; empty = absent
  std::optional<std::int64_t> quota;      ///< X-PageKite-Quota
  bool legacy_beanstalk = false;          ///< use/used the X-Beanstalk- prefix
  friend bool operator==(const handshake_response&, const handshake_response&) = default;
};

/// Limits for parsing a response (head or result chunk).
struct response_limits {
  std::size_t max_head = 16 * 1024;  ///< libpagekite's response buffer
  std::size_t max_results = 999;     ///< result lines (libpagekite parses < 1000 X-PageKite lines)
  std::size_t max_list_items = 64;   ///< entries of Protos/Ports/Raw-Ports lists
};

/// Formats the response head in pagekite.py's order: `HTTP/1.1 200 OK`, Content-Type, Pragma,
/// Expires, Cache-Control, Connection, Transfer-Encoding, Features ZChunks/WebSockets/AddKites,
/// Protos/Ports (when not empty), Raw-Ports (when not empty), the results, SessionID, Misc,
/// QConns, QDays, IPsPerSec, Quota, blank line. Lists are joined with ", ".
[[nodiscard]] std::string format_handshake_response(const handshake_response& resp);

/// True when an X-PageKite-Version value names a kiteline connector: "<pagekite.py
/// version>+kiteline" (what kiteline sends) or a value starting with "kiteline". Such a peer
/// takes dense frames and large acknowledgement intervals; anything else is treated as
/// pagekite.py. Pure.
[[nodiscard]] bool is_kiteline_version(std::string_view version) noexcept;

/// True when an X-PageKite-Version value looks like pagekite.py's own: digits and dots, starting
/// and ending with a digit ("1.5.2.201011", "0.5.9.3"). Only such a peer needs its incoming
/// frames spread out (it handles at most 150 per tunnel read); libpagekite ("0.91.251215C"),
/// kiteline and anything unknown do not get the filler. Pure.
[[nodiscard]] bool is_pagekite_py_version(std::string_view version) noexcept;

/// Parses a response head: the status line must be `HTTP/1.0 200` or `HTTP/1.1 200`
/// (errc::bad_status_line); headers as in format_handshake_response, any case, either prefix;
/// unknown headers are ignored. errc::bad_kite_line for a SignThis value without ':',
/// errc::bad_number for a non-integer QConns/QDays/Quota, errc::too_many_kites beyond
/// max_results, errc::bad_header_line for a line without ':', errc::missing_blank_line /
/// errc::head_too_large as for requests. Pure; any executor.
[[nodiscard]] result<handshake_response> parse_handshake_response(
    std::string_view head, const response_limits& limits = {});

// ---------------------------------------------------------------------------------------------
// In-tunnel rounds (Flow B, §4.5, §4.8). These produce/consume chunk PAYLOADS; framing is the
// chunk encoder's/decoder's job.

/// The BE's kite-round control payload, exactly as pagekite.py: `NOOP: 1`, `X-PageKite-Version:
/// <version>` (omitted when empty), one `X-PageKite:` line per kite, blank line, then the filler
/// body "\r\n!".
[[nodiscard]] std::string format_kite_round_payload(std::string_view version,
                                                    std::span<const kite_request> kites);

/// The FE's result control payload, as pagekite.py: `NOOP: 1`, [Features/Protos/Ports lines
/// when set, as in the head], the results, SessionID, Misc, QConns, QDays, IPsPerSec, Quota,
/// blank line, filler body "!".
[[nodiscard]] std::string format_result_payload(const handshake_response& resp);

/// Interprets the header lines of a BE control chunk (chunk_headers::extra, in order) as a kite
/// round: same rules and errors as parse_handshake_request for the header lines (Features,
/// Version, Replace, X-PageKite; NOOP and unknown names ignored). A value holding CR or LF is
/// errc::bad_header_line.
[[nodiscard]] result<handshake_request> parse_kite_round(std::span<const header_field> fields,
                                                         const handshake_limits& limits = {});

/// Interprets the header lines of an FE control chunk as results; same rules as
/// parse_handshake_response for the header lines.
[[nodiscard]] result<handshake_response> parse_result_fields(std::span<const header_field> fields,
                                                             const response_limits& limits = {});

/// True when a control chunk's fields contain any X-PageKite/X-Beanstalk kite-round or result
/// line, i.e. the chunk belongs to the handshake rather than to PING/SKB handling.
[[nodiscard]] bool has_handshake_fields(std::span<const header_field> fields) noexcept;

// ---------------------------------------------------------------------------------------------
// Misc helpers

/// X-PageKite-Misc value for a message of the day: "motd=" + URL-encoded text (quote_plus).
[[nodiscard]] std::string make_misc(std::string_view motd);

/// The decoded `motd` parameter of an X-PageKite-Misc value; empty when absent.
[[nodiscard]] std::string motd_from_misc(std::string_view misc);

}  // namespace kiteline::wire
