// fleet::dns_message: the DNS messages a relay of a fleet sends and reads (issue 24), built and
// parsed with Debian's libldns (a packaged library instead of a hand-written DNS codec and TSIG):
// RFC 2136 UPDATEs adding and deleting single A/AAAA records, the AXFR query, and the A/AAAA
// records read back from an answer. No sockets here (fleet/dns_client does the I/O).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/relay_fleet_config.hpp"

namespace kiteline::fleet {

/// One A or AAAA record: owner name (lower case, no trailing dot) and address (text form).
struct address_record {
  std::string name;
  std::string address;  ///< "127.0.0.11" (A) or "::1" (AAAA)

  [[nodiscard]] bool is_v6() const noexcept { return address.find(':') != std::string::npos; }
  friend auto operator<=>(const address_record&, const address_record&) = default;
  friend bool operator==(const address_record&, const address_record&) = default;
};

/// The TSIG key ldns signs with: `config.tsig` with ldns's algorithm and key names.
struct tsig_key {
  std::string name;       ///< "fleet." (absolute)
  std::string algorithm;  ///< "hmac-sha256." ("hmac-md5.sig-alg.reg.int." for hmac-md5)
  std::string secret;     ///< base64
};
[[nodiscard]] tsig_key make_tsig_key(const config::fleet_tsig& t);

/// An RFC 2136 UPDATE for `zone`: `adds` (class IN, `ttl`) then `deletes` (class NONE: exactly
/// that name, type and address), TSIG-signed with `key` when its name is not empty. Empty on
/// failure (an invalid name or address), with the reason in `error`.
[[nodiscard]] std::vector<std::uint8_t> build_update(std::string_view zone,
                                                     const std::vector<address_record>& adds,
                                                     const std::vector<address_record>& deletes,
                                                     std::uint32_t ttl, const tsig_key& key,
                                                     std::uint16_t id, std::string& error);

/// An AXFR query for `zone`, TSIG-signed with `key` when its name is not empty.
[[nodiscard]] std::vector<std::uint8_t> build_axfr_query(std::string_view zone, const tsig_key& key,
                                                         std::uint16_t id, std::string& error);

/// An A (or AAAA when `v6`) query for `name`, TSIG-signed with `key` when its name is not empty
/// (so that the server signs its answer).
[[nodiscard]] std::vector<std::uint8_t> build_query(std::string_view name, bool v6,
                                                    const tsig_key& key, std::uint16_t id,
                                                    std::string& error);

/// What one DNS message says: its id, rcode, TSIG error (0 when none) and TC flag, the number of
/// SOA records in its answer (an AXFR ends at the second), its A/AAAA answer records.
struct dns_answer {
  std::uint16_t id = 0;
  int rcode = 0;
  int tsig_error = 0;  ///< BADSIG 16, BADKEY 17, BADTIME 18 (from the TSIG record, if any)
  bool truncated = false;
  int soa_count = 0;
  std::vector<address_record> records;
  std::vector<std::string> ns_names;  ///< NS targets in the answer (not relays: never pinged)
};

/// Reads one DNS message (outside bytes: any input is safe). nullopt when ldns cannot parse it.
[[nodiscard]] std::optional<dns_answer> read_answer(const std::uint8_t* data, std::size_t size);

/// RFC 8945 5.1: a message's TSIG record, if any, is the last record of the message, and there
/// is at most one. False for a message with a TSIG anywhere else. Every message is checked
/// before libldns reads it: ldns_wire2pkt keeps only the last of several TSIG records and leaks
/// the others (found by fuzzing), and such a message is malformed anyway. A message too short
/// to walk is left to ldns, which refuses it.
[[nodiscard]] bool tsig_placement_ok(const std::uint8_t* data, std::size_t size) noexcept;

/// Reads the replies to one request and checks their TSIG (RFC 8945 §5.3): with a key, the
/// first reply must be signed over the request's MAC; in a stream (AXFR), up to 99 messages in
/// a row may be unsigned, the next signed one covering them with the running MAC, and the
/// stream must end on a signed message (complete()). Without a key nothing is checked.
class reply_verifier {
 public:
  reply_verifier(tsig_key key, const std::vector<std::uint8_t>& request);
  /// The next reply, read and verified; nullopt (why in `error`) when it is unreadable or its
  /// TSIG does not verify. A refused message leaves the verifier as it was.
  [[nodiscard]] std::optional<dns_answer> next(const std::uint8_t* data, std::size_t size,
                                               std::string& error);
  /// True when the last message read was signed and verified (or when there is no key).
  [[nodiscard]] bool complete() const noexcept { return key_.name.empty() || last_signed_; }
  static constexpr int max_unsigned_run = 99;

 private:
  tsig_key key_;
  std::vector<std::uint8_t> mac_;       ///< wire form (length first) of the last MAC verified
  std::vector<std::uint8_t> unsigned_;  ///< messages since the last signed one
  int unsigned_run_ = 0;
  bool first_ = true;
  bool last_signed_ = false;
};

/// True for the answers that mean the server does not take our key or our updates (NOTAUTH,
/// REFUSED, a TSIG error): retried slowly, logged with a hint.
[[nodiscard]] bool is_refusal(const dns_answer& a) noexcept;
/// "NOERROR", "REFUSED", "NOTAUTH/BADSIG"…
[[nodiscard]] std::string describe(const dns_answer& a);

}  // namespace kiteline::fleet
