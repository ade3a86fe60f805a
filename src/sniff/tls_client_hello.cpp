#include "sniff/tls_client_hello.hpp"

#include "core/text.hpp"
#include "sniff/host_name.hpp"

#include <array>
#include <cstdint>
#include <string_view>

namespace kiteline::sniff {
namespace {

constexpr std::uint8_t content_handshake = 22;
constexpr std::uint8_t handshake_client_hello = 1;
constexpr std::size_t record_header_bytes = 5;
constexpr std::size_t max_record_length = 16384;  // 2^14, RFC 8446 §5.1
constexpr std::uint16_t ext_server_name = 0;
constexpr std::uint16_t ext_alpn = 16;
constexpr std::uint8_t name_type_host_name = 0;

enum class step { ok, need_more, error };

/// Sequential reader over the handshake bytes carried by consecutive TLS records: the
/// ClientHello is parsed as if it were contiguous, with no copy and no allocation.
class record_reader {
 public:
  record_reader(std::span<const std::byte> in, const tls_limits& limits) noexcept
      : in_(in), limits_(limits) {}

  /// Copies the next n handshake bytes to out (or skips them when out is null).
  step read(std::uint8_t* out, std::size_t n) noexcept {
    while (n > 0) {
      if (frag_left_ == 0) {
        if (const step s = next_record(); s != step::ok) {
          return s;
        }
      }
      const std::size_t avail = in_.size() - pos_;
      std::size_t take = n < frag_left_ ? n : frag_left_;
      take = take < avail ? take : avail;
      if (take == 0) {
        return step::need_more;
      }
      if (out != nullptr) {
        for (std::size_t i = 0; i < take; ++i) {
          *out++ = static_cast<std::uint8_t>(in_[pos_ + i]);
        }
      }
      pos_ += take;
      frag_left_ -= take;
      n -= take;
    }
    return step::ok;
  }

  step u8(std::uint8_t& v) noexcept { return read(&v, 1); }
  step u16(std::uint16_t& v) noexcept {
    std::array<std::uint8_t, 2> b{};
    const step s = read(b.data(), 2);
    v = static_cast<std::uint16_t>((b[0] << 8) | b[1]);
    return s;
  }
  step u24(std::uint32_t& v) noexcept {
    std::array<std::uint8_t, 3> b{};
    const step s = read(b.data(), 3);
    v = (std::uint32_t{b[0]} << 16) | (std::uint32_t{b[1]} << 8) | b[2];
    return s;
  }

  [[nodiscard]] std::size_t position() const noexcept { return pos_; }
  [[nodiscard]] errc error() const noexcept { return err_; }

 private:
  /// Checks the header bytes in order as far as they are present, so an error shows at the
  /// first offending byte and a prefix never disagrees with the full input.
  step next_record() noexcept {
    if (records_ == limits_.max_records) {
      return fail(errc::client_hello_too_large);
    }
    const std::size_t avail = in_.size() - pos_;
    const auto at = [&](std::size_t i) { return static_cast<std::uint8_t>(in_[pos_ + i]); };
    if (avail >= 1 && at(0) != content_handshake) {
      return fail(records_ == 0 ? errc::not_handshake : errc::malformed_client_hello);
    }
    if (avail >= 2 && at(1) != 3) {
      return fail(errc::bad_record_version);
    }
    if (avail >= 3 && at(2) > 4) {
      return fail(errc::bad_record_version);
    }
    if (avail < record_header_bytes) {
      return step::need_more;
    }
    const std::size_t len = (std::size_t{at(3)} << 8) | at(4);
    if (len == 0 || len > max_record_length) {
      return fail(errc::bad_record_length);
    }
    pos_ += record_header_bytes;
    frag_left_ = len;
    ++records_;
    return step::ok;
  }

  step fail(errc e) noexcept {
    err_ = e;
    return step::error;
  }

  std::span<const std::byte> in_;
  const tls_limits& limits_;
  std::size_t pos_ = 0;
  std::size_t frag_left_ = 0;
  std::size_t records_ = 0;
  errc err_ = errc::ok;
};

/// Parse state shared by the helpers below; `left` counts the ClientHello bytes not yet read.
struct hello_parser {
  record_reader rd;
  std::size_t left = 0;
  errc err = errc::ok;

  step fail(errc e) noexcept {
    err = e;
    return step::error;
  }
  step lift(step s) noexcept {
    if (s == step::error) {
      err = rd.error();
    }
    return s;
  }
  /// Takes n bytes of the message body; a length running past the body is malformed.
  step take(std::uint8_t* out, std::size_t n) noexcept {
    if (n > left) {
      return fail(errc::malformed_client_hello);
    }
    left -= n;
    return lift(rd.read(out, n));
  }
  step take8(std::uint8_t& v) noexcept { return take(&v, 1); }
  step take16(std::uint16_t& v) noexcept {
    std::array<std::uint8_t, 2> b{};
    const step s = take(b.data(), 2);
    v = static_cast<std::uint16_t>((b[0] << 8) | b[1]);
    return s;
  }
};

// Returns from the enclosing parse step unless `expr` is step::ok.
#define KL_SNIFF_TRY(expr)                        \
  do {                                            \
    if (const step s_ = (expr); s_ != step::ok) { \
      return s_;                                  \
    }                                             \
  } while (false)

/// server_name extension body of `len` bytes: takes the first host_name entry.
step parse_server_name(hello_parser& p, std::size_t len, client_hello_info& info) {
  std::uint16_t list_len = 0;
  if (len < 2) {
    return p.fail(errc::malformed_client_hello);
  }
  KL_SNIFF_TRY(p.take16(list_len));
  if (list_len != len - 2 || list_len == 0) {
    return p.fail(errc::malformed_client_hello);
  }
  std::size_t list_left = list_len;
  bool have_name = false;
  while (list_left > 0) {
    std::uint8_t type = 0;
    std::uint16_t name_len = 0;
    if (list_left < 3) {
      return p.fail(errc::malformed_client_hello);
    }
    KL_SNIFF_TRY(p.take8(type));
    KL_SNIFF_TRY(p.take16(name_len));
    list_left -= 3;
    if (name_len > list_left) {
      return p.fail(errc::malformed_client_hello);
    }
    list_left -= name_len;
    if (type != name_type_host_name || have_name) {
      KL_SNIFF_TRY(p.take(nullptr, name_len));
      continue;
    }
    if (name_len == 0 || name_len > max_host_name_length) {
      return p.fail(errc::bad_server_name);
    }
    std::array<std::uint8_t, max_host_name_length> buf{};
    KL_SNIFF_TRY(p.take(buf.data(), name_len));
    std::string name(name_len, '\0');
    for (std::size_t i = 0; i < name_len; ++i) {
      name[i] = ascii_lower(static_cast<char>(buf[i]));
    }
    if (!is_valid_host_name(name)) {
      return p.fail(errc::bad_server_name);
    }
    info.server_name = std::move(name);
    have_name = true;
  }
  return step::ok;
}

/// Handshake message header: type (must be ClientHello) and the 24-bit body length.
step parse_handshake_header(hello_parser& p) {
  std::uint8_t type = 0;
  std::uint32_t length = 0;
  KL_SNIFF_TRY(p.lift(p.rd.u8(type)));
  if (type != handshake_client_hello) {
    return p.fail(errc::not_client_hello);
  }
  KL_SNIFF_TRY(p.lift(p.rd.u24(length)));
  p.left = length;
  return step::ok;
}

}  // namespace

result<client_hello_info> extract_sni(std::span<const std::byte> first_bytes,
                                      const tls_limits& limits) {
  client_hello_info info;
  if (first_bytes.empty()) {
    return info;
  }
  if (static_cast<std::uint8_t>(first_bytes[0]) == 0x80) {
    if (first_bytes.size() >= 2) {
      info.status = sni_status::no_sni;
      info.sslv2 = true;
    }
    return info;
  }

  hello_parser p{record_reader(first_bytes, limits)};
  const auto run = [&]() -> step {
    KL_SNIFF_TRY(parse_handshake_header(p));
    if (p.left > limits.max_client_hello_bytes) {
      return p.fail(errc::client_hello_too_large);
    }
    std::uint16_t version = 0;
    KL_SNIFF_TRY(p.take16(version));
    if ((version >> 8) != 3) {
      return p.fail(errc::malformed_client_hello);
    }
    KL_SNIFF_TRY(p.take(nullptr, 32));  // random
    std::uint8_t sid_len = 0;
    KL_SNIFF_TRY(p.take8(sid_len));
    if (sid_len > 32) {
      return p.fail(errc::malformed_client_hello);
    }
    KL_SNIFF_TRY(p.take(nullptr, sid_len));
    std::uint16_t cs_len = 0;
    KL_SNIFF_TRY(p.take16(cs_len));
    if (cs_len < 2 || cs_len % 2 != 0) {
      return p.fail(errc::malformed_client_hello);
    }
    KL_SNIFF_TRY(p.take(nullptr, cs_len));
    std::uint8_t comp_len = 0;
    KL_SNIFF_TRY(p.take8(comp_len));
    if (comp_len < 1) {
      return p.fail(errc::malformed_client_hello);
    }
    KL_SNIFF_TRY(p.take(nullptr, comp_len));
    if (p.left == 0) {
      return step::ok;  // pre-TLS-1.2 hello without extensions
    }
    std::uint16_t ext_total = 0;
    KL_SNIFF_TRY(p.take16(ext_total));
    if (ext_total != p.left) {
      return p.fail(errc::malformed_client_hello);
    }
    bool seen_sni = false;
    while (p.left > 0) {
      std::uint16_t ext_type = 0;
      std::uint16_t ext_len = 0;
      KL_SNIFF_TRY(p.take16(ext_type));
      KL_SNIFF_TRY(p.take16(ext_len));
      if (ext_len > p.left) {
        return p.fail(errc::malformed_client_hello);
      }
      if (ext_type == ext_server_name) {
        if (seen_sni) {
          return p.fail(errc::malformed_client_hello);
        }
        seen_sni = true;
        KL_SNIFF_TRY(parse_server_name(p, ext_len, info));
      } else {
        if (ext_type == ext_alpn) {
          info.has_alpn = true;
        }
        KL_SNIFF_TRY(p.take(nullptr, ext_len));
      }
    }
    return step::ok;
  };

  switch (run()) {
    case step::need_more:
      return client_hello_info{};
    case step::error:
      return p.err;
    case step::ok:
      break;
  }
  info.status = info.server_name.empty() ? sni_status::no_sni : sni_status::found;
  info.hello_end = p.rd.position();
  return info;
}

#undef KL_SNIFF_TRY

}  // namespace kiteline::sniff
