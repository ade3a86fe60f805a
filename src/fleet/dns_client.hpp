// fleet::dns_client: the blocking exchanges of the publisher's and the holder lookup's threads
// (issue 24), each bounded by a timeout, every reply TSIG-verified: an UPDATE over UDP (TCP when it is big or the answer is truncated), a
// zone transfer over TCP, and the PageKite relay ping (spec §3) of a peer relay.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fleet/dns_message.hpp"

namespace kiteline::fleet {

/// "IP[:PORT]" or "[IPv6]:PORT" (port 53 by default). nullopt when it is not one.
struct dns_server {
  std::string address;
  std::uint16_t port = 53;
};
[[nodiscard]] std::optional<dns_server> parse_dns_server(std::string_view text);

/// Sends one message and reads its answer (same id), TSIG-verified with `key` (fleet/dns_message
/// reply_verifier): a reply that does not verify is discarded (a forged one may come first) and,
/// if no verified one follows in time, reported in `error` ("answer from DNS server X failed TSIG
/// verification: ..."). nullopt on timeout, I/O error or an unverifiable answer.
[[nodiscard]] std::optional<dns_answer> exchange(const dns_server& server,
                                                 const std::vector<std::uint8_t>& message,
                                                 const tsig_key& key,
                                                 std::chrono::milliseconds timeout,
                                                 std::string& error);

/// Zone transfer: sends the AXFR `query` over TCP and reads messages until the closing SOA.
/// The answer's records (all messages); its rcode/TSIG error are those of the first message.
/// Every message is TSIG-verified with `key` (RFC 8945 §5.3.1); nullopt when one does not.
[[nodiscard]] std::optional<dns_answer> transfer(const dns_server& server,
                                                 const std::vector<std::uint8_t>& query,
                                                 const tsig_key& key,
                                                 std::chrono::milliseconds timeout,
                                                 std::string& error);

/// The relay ping (spec §3) to ADDRESS:PORT: true when a PageKite relay answered in time;
/// `uuid` gets its X-PageKite-UUID.
[[nodiscard]] bool ping_relay(const std::string& address, std::uint16_t port,
                              std::chrono::milliseconds timeout, std::string& uuid);

}  // namespace kiteline::fleet
