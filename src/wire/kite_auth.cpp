#include "wire/kite_auth.hpp"

#include <algorithm>
#include <array>
#include <span>

#include "core/assert.hpp"
#include "core/text.hpp"
#include "wire/head.hpp"
#include "wire/sha1.hpp"

namespace kiteline::wire {
namespace {

/// salt || SHA1HEX(parts... || salt)[:keep]
std::string salted(std::string_view secret, std::string_view payload, std::string_view salt8,
                   std::size_t keep) {
  const std::string_view salt = salt8.substr(0, 8);
  sha1 h;
  h.update(secret);
  h.update(payload);
  h.update(salt);
  std::string out(salt);
  out.append(h.hex_digest().substr(0, keep));
  return out;
}

constexpr std::size_t token_time_digits = 8;
constexpr std::size_t token_nonce_digits = 7;
constexpr std::size_t token_head_length = 1 + token_time_digits + token_nonce_digits;  // 16
constexpr std::size_t token_mac_digits = signature_length - token_head_length;          // 20

/// HMAC-SHA1 (RFC 2104) of `message` under `key`, as 40 lower-case hex digits.
std::string hmac_sha1_hex(std::string_view key, std::string_view message) {
  constexpr std::size_t block = 64;
  std::array<std::uint8_t, block> k{};
  if (key.size() > block) {
    sha1 h;
    h.update(key);
    const auto d = h.digest();
    std::copy(d.begin(), d.end(), k.begin());
  } else {
    for (std::size_t i = 0; i < key.size(); ++i) {
      k[i] = static_cast<std::uint8_t>(key[i]);
    }
  }
  std::array<std::byte, block> pad{};
  auto keyed = [&](std::uint8_t x) {
    for (std::size_t i = 0; i < block; ++i) {
      pad[i] = static_cast<std::byte>(k[i] ^ x);
    }
    return std::span<const std::byte>(pad);
  };
  sha1 inner;
  inner.update(keyed(0x36));
  inner.update(message);
  const auto inner_digest = inner.digest();
  sha1 outer;
  outer.update(keyed(0x5c));
  outer.update(std::as_bytes(std::span<const std::uint8_t>(inner_digest)));
  return outer.hex_digest();
}

/// The token's MAC: HMAC-SHA1-HEX(fe_secret, p0 || ":" || head)[:20].
std::string token_mac(std::string_view fe_secret, std::string_view p0, std::string_view head) {
  std::string message(p0);
  message.append(":").append(head);
  return hmac_sha1_hex(fe_secret, message).substr(0, token_mac_digits);
}

std::string token_p0(std::string_view proto, std::string_view domain, std::string_view bsalt) {
  std::string p0 = to_lower(proto);
  p0.append(":").append(to_lower(domain)).append(":").append(bsalt);
  return p0;
}

}  // namespace

bool constant_time_equal(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) {
    return false;
  }
  unsigned diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    diff |= static_cast<unsigned>(static_cast<unsigned char>(a[i]) ^
                                  static_cast<unsigned char>(b[i]));
  }
  return diff == 0;
}

std::string sign(std::string_view secret, std::string_view payload, std::string_view salt8) {
  return salted(secret, payload, salt8, signature_length - 8);
}

std::string sign_dyndns(std::string_view secret, std::string_view payload,
                        std::string_view salt8) {
  return salted(secret, payload, salt8, dyndns_signature_length - 8);
}

std::string kite_payload(std::string_view proto, std::string_view domain, std::string_view bsalt,
                         std::string_view fsalt) {
  std::string p = to_lower(proto);
  p.append(":").append(to_lower(domain)).append(":").append(bsalt).append(":").append(fsalt);
  return p;
}

std::string make_kite_signature(std::string_view secret, std::string_view proto,
                                std::string_view domain, std::string_view bsalt,
                                std::string_view fsalt, std::string_view salt8) {
  return sign(secret, kite_payload(proto, domain, bsalt, fsalt), salt8);
}

bool verify_kite_signature(std::string_view secret, const kite_request& kite) {
  const std::string_view sig = kite.signature;
  if (sig.size() != signature_length || sig.front() == 't') {
    return false;
  }
  const std::string expected =
      sign(secret, kite_payload(kite.proto, kite.domain, kite.bsalt, kite.fsalt), sig.substr(0, 8));
  return constant_time_equal(expected, sig);
}

bool verify_dyndns_signature(std::string_view secret, std::string_view payload,
                             std::string_view signature) {
  if (signature.size() != dyndns_signature_length) {
    return false;
  }
  return constant_time_equal(sign_dyndns(secret, payload, signature.substr(0, 8)), signature);
}

std::string make_token(std::string_view fe_secret, std::string_view proto, std::string_view domain,
                       std::string_view bsalt, std::uint64_t issued_at,
                       std::string_view rand7hex) {
  KL_ASSERT(rand7hex.size() == token_nonce_digits);
  std::string time_hex = to_hex_number(issued_at & 0xFFFFFFFFU);
  std::string head = "t";
  head.append(token_time_digits - time_hex.size(), '0').append(time_hex);
  head.append(rand7hex.substr(0, token_nonce_digits));
  head.resize(token_head_length, '0');  // only if rand7hex was short (trusted input)
  std::string token = head;
  token.append(token_mac(fe_secret, token_p0(proto, domain, bsalt), head));
  return token;
}

std::string_view describe(token_verdict v) noexcept {
  switch (v) {
    case token_verdict::valid: return "valid";
    case token_verdict::foreign: return "not from this relay";
    case token_verdict::expired: return "expired";
  }
  return "?";
}

token_check check_token(std::string_view fe_secret, const kite_request& kite,
                        std::uint64_t now) {
  const std::string_view token = kite.fsalt;
  if (token.size() != signature_length || token.front() != 't' ||
      !is_lower_hex(token.substr(1))) {
    return {token_verdict::foreign, 0};
  }
  const std::string_view head = token.substr(0, token_head_length);
  const std::string expected = token_mac(fe_secret, token_p0(kite.proto, kite.domain, kite.bsalt), head);
  if (!constant_time_equal(expected, token.substr(token_head_length))) {
    return {token_verdict::foreign, 0};
  }
  // The MAC vouches for the time field. Age mod 2^32: a time field ahead of `now` (a clock that
  // went back) gives a huge age, i.e. expired.
  // The digits were checked above (8 lower-case hex digits), so the parse cannot fail.
  const auto issued =
      static_cast<std::uint32_t>(parse_hex_number(head.substr(1, token_time_digits)).value_or(0));
  const std::uint32_t age = static_cast<std::uint32_t>(now) - issued;
  if (age >= token_lifetime_seconds) {
    return {token_verdict::expired, 0};
  }
  return {token_verdict::valid, now - age + token_lifetime_seconds};
}

std::string make_session_id(std::uint64_t unix_time, std::string_view sha1hex) {
  std::string out = to_hex_number(unix_time);
  out.append(":").append(sha1hex);
  return out;
}

}  // namespace kiteline::wire
