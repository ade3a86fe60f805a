// SNI extraction from the first bytes of a TLS connection (a ClientHello, possibly spread over
// several TLS records), without allocating beyond the returned host name.
#pragma once

#include "core/result.hpp"
#include "sniff/errc.hpp"

#include <cstddef>
#include <span>
#include <string>

namespace kiteline::sniff {

/// Caps for extract_sni. The most input ever examined is
/// max_client_hello_bytes + 4 + 5 * max_records bytes.
struct tls_limits {
  /// Largest accepted ClientHello body (the handshake message length field). Real hellos are
  /// 0.2-2 KiB (post-quantum key shares included); 16 KiB is one full record.
  std::size_t max_client_hello_bytes = 16 * 1024;
  /// Most TLS records the ClientHello may be fragmented into.
  std::size_t max_records = 32;
};

/// What extract_sni learnt so far.
enum class sni_status {
  need_more,  ///< the ClientHello is not complete yet: read more and call again with all bytes
  found,      ///< complete ClientHello with a server_name host_name (see client_hello_info)
  no_sni,     ///< complete ClientHello without server_name, or an SSLv2-style hello
};

/// Result of extract_sni. Owns its data (the name is copied, at most 255 bytes).
struct client_hello_info {
  sni_status status = sni_status::need_more;
  /// found: the FIRST host_name of the server_name extension, lower-cased and validated with
  /// is_valid_host_name (1..255 chars of [a-z0-9.-_], labels 1..63 chars, no empty label, so
  /// no trailing dot). Empty otherwise.
  std::string server_name;
  bool has_alpn = false;  ///< the ClientHello carries an ALPN extension (16)
  bool sslv2 = false;     ///< SSLv2-style hello (first byte 0x80): nothing else was parsed
  /// found/no_sni (TLS): offset just past the last ClientHello byte in the input.
  std::size_t hello_end = 0;

  bool operator==(const client_hello_info&) const = default;
};

/// Extracts the SNI host name from `first_bytes`, the bytes a visitor sent so far (call again
/// with the whole, longer buffer when need_more is returned; the result for a prefix is always
/// need_more or the same as for the complete input). Pure; call from any thread.
///
/// Accepts: TLS records of type 22, version 3.0-3.4, length 1..16384, together holding one
/// ClientHello message (type 1) that may be fragmented over up to limits.max_records records.
/// found/no_sni are only returned once the whole ClientHello has arrived and parsed cleanly.
/// A first byte 0x80 is taken as an SSLv2-compatible hello: no_sni (with sslv2 set) once two
/// bytes are present, without further checks (pagekite.py treats it as TLS without SNI).
///
/// Refuses (error codes of sniff::errc): not_handshake, bad_record_version, bad_record_length,
/// not_client_hello, malformed_client_hello (also for a second server_name extension, an empty
/// server_name list or a non-handshake record inside the ClientHello), client_hello_too_large,
/// bad_server_name (first host_name empty, over 255 bytes, or not a valid host name). Errors
/// are reported as soon as the offending byte is seen.
[[nodiscard]] result<client_hello_info> extract_sni(std::span<const std::byte> first_bytes,
                                                    const tls_limits& limits = {});

}  // namespace kiteline::sniff
