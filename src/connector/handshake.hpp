// connector::handshake: the connector's side of the PageKite tunnel handshake (spec §4.1-§4.8)
// as a sans-I/O state machine: signing, Flow A (reconnect with the signed request) and Flow B
// (signed kites in one NOOP chunk inside the tunnel), and the per-kite outcomes. No I/O, clock,
// randomness or logging: the driver (tunnel_client) moves the bytes and logs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "config/connector_config.hpp"
#include "wire/chunk_headers.hpp"
#include "wire/handshake.hpp"

namespace kiteline::connector {

/// What a handshake needs; the spans must outlive the handshake.
struct handshake_params {
  std::span<const config::service> services;  ///< the configured services (disabled ones skipped)
  std::span<const std::string> bsalts;        ///< per service (make_bsalt)
  /// Two random numbers per service (SALT8 of round one, then of round two), in order.
  std::span<const std::uint64_t> salts;
  bool nozchunks = false;        ///< do not offer ZChunks
  bool force_flow_a = false;     ///< client_options::force_flow_a_for_test
  std::string session_id;        ///< sent as X-PageKite-Replace when not empty
  std::size_t max_head = 16 * 1024;
};

/// How a handshake (or one round of results) ended.
enum class handshake_verdict {
  pending,     ///< not over yet
  live,        ///< at least one kite OK: the tunnel is up
  rejected,    ///< no kite OK and some X-PageKite-Invalid (§4.5: wait rejected_retry)
  duplicate,   ///< no kite OK, none Invalid and some X-PageKite-Duplicate
  no_kite,     ///< no kite OK for another reason (only SignThis / SSL-OK / unknown kites)
  bad_reply,   ///< the reply head cannot be found (too large, malformed framing)
  refused,     ///< the reply head is not a PageKite 200 reply (see error(), refusal_line())
  bad_result,  ///< Flow B: the result chunk does not parse
};

/// One result line matched to the service that asked for it.
struct kite_outcome {
  std::optional<std::size_t> service;  ///< nullopt: a kite we did not ask for
  wire::kite_result result;
};

/// The results of one round, classified.
struct round_outcome {
  std::vector<kite_outcome> kites;
  std::size_t ok = 0;          ///< X-PageKite-OK results of kites we asked for
  bool any_invalid = false;
  bool any_duplicate = false;
  std::string session_id;      ///< X-PageKite-SessionID of the round; empty = absent
  std::optional<std::int64_t> quota_kb;  ///< X-PageKite-Quota (the relay's authority)
  std::optional<std::int64_t> qconns;    ///< X-PageKite-QConns
  std::optional<std::int64_t> qdays;     ///< X-PageKite-QDays
  std::string ips_per_sec;               ///< X-PageKite-IPsPerSec; empty = absent
  [[nodiscard]] handshake_verdict verdict() const noexcept;
};

/// The state machine. Call order: start(), then after each step do what it says and feed the
/// result: write -> write to_write() then on_written(); read -> read some bytes and on_bytes();
/// reconnect -> close, connect again, then on_reconnected(); start_link -> start the tunnel
/// link with leftover(), send to_write() as a control chunk, then feed the relay's result chunk
/// to on_result_fields(); done -> verdict(). One executor (not thread-safe); pure.
class handshake {
 public:
  enum class step { write, read, reconnect, start_link, done };

  explicit handshake(handshake_params p);

  /// The first request (round one, no FSALT) is ready in to_write().
  step start();
  /// to_write() went out: read the reply.
  step on_written();
  /// Bytes of the reply. Returns read until the head is complete, then reconnect (Flow A with a
  /// challenge), start_link (Flow B) or done (no challenge, or a bad reply).
  step on_bytes(std::span<const std::byte> in);
  /// Flow A: the new connection is up; the signed request is in to_write().
  step on_reconnected();
  /// Flow B: the fields of a control chunk. Returns start_link (still waiting) for a chunk that
  /// carries no handshake fields, else done.
  step on_result_fields(std::span<const wire::header_field> fields);

  /// Bytes to write (step write) or the framed kite round chunk (step start_link).
  [[nodiscard]] std::string_view to_write() const noexcept { return out_; }
  /// Bytes read past the reply head: the first tunnel bytes (valid until the next call).
  [[nodiscard]] std::span<const std::byte> leftover() const noexcept;
  /// True while bytes of a reply are buffered (for "bad reply" messages on I/O errors).
  [[nodiscard]] bool has_reply_bytes() const noexcept { return !buf_.empty(); }
  [[nodiscard]] bool awaiting_result() const noexcept { return state_ == state::await_result; }

  [[nodiscard]] handshake_verdict verdict() const noexcept { return verdict_; }
  /// The deciding round (after done with a head or result chunk that parsed).
  [[nodiscard]] const round_outcome& round() const noexcept { return round_; }
  /// bad_reply / refused / bad_result: what was wrong.
  [[nodiscard]] std::error_code error() const noexcept { return error_; }
  /// refused: the reply's first line, cut at 80 chars.
  [[nodiscard]] const std::string& refusal_line() const noexcept { return refusal_line_; }
  /// "A" or "B".
  [[nodiscard]] std::string_view flow() const noexcept { return flow_b_ ? "B" : "A"; }
  /// The relay offered ZChunks in its reply head.
  [[nodiscard]] bool relay_zchunks() const noexcept { return zchunks_; }
  /// The latest session id (the Replace value, then each reply's).
  [[nodiscard]] const std::string& session_id() const noexcept { return session_id_; }

  /// Classifies a round of results against the kites this handshake asked for (also for later
  /// rounds the relay sends on a live tunnel).
  [[nodiscard]] round_outcome classify(const wire::handshake_response& r) const;

 private:
  enum class state { idle, writing, reading, reconnecting, await_result, done };

  std::vector<wire::kite_request> sign(std::size_t round);
  step finish(handshake_verdict v);
  step on_head(std::string_view head);

  handshake_params p_;
  state state_ = state::idle;
  std::size_t round_no_ = 0;           // 0: first request, 1: signed
  std::string out_;
  std::vector<std::byte> buf_;
  std::size_t head_end_ = 0;
  std::map<std::string, std::size_t> kite_index_;  // kite_key -> service
  std::map<std::string, std::string> fsalts_;      // kite_key -> challenge
  std::string session_id_;
  bool flow_b_ = false;
  bool zchunks_ = false;
  handshake_verdict verdict_ = handshake_verdict::pending;
  round_outcome round_;
  std::error_code error_;
  std::string refusal_line_;
};

}  // namespace kiteline::connector
