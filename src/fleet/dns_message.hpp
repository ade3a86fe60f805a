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

/// True for the answers that mean the server does not take our key or our updates (NOTAUTH,
/// REFUSED, a TSIG error): retried slowly, logged with a hint.
[[nodiscard]] bool is_refusal(const dns_answer& a) noexcept;
/// "NOERROR", "REFUSED", "NOTAUTH/BADSIG"…
[[nodiscard]] std::string describe(const dns_answer& a);

}  // namespace kiteline::fleet
