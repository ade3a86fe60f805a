#include "wire/kite_auth.hpp"

#include <array>

#include "core/assert.hpp"
#include "wire/head.hpp"
#include "wire/sha1.hpp"

namespace kiteline::wire {
namespace {

std::string hex_u64(std::uint64_t v) {
  constexpr std::string_view digits = "0123456789abcdef";
  std::array<char, 16> buf{};
  std::size_t n = 0;
  do {
    buf[buf.size() - 1 - n] = digits[v & 0xFU];
    v >>= 4U;
    ++n;
  } while (v != 0);
  return {buf.data() + buf.size() - n, n};
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    c = ascii_lower(c);
  }
  return out;
}

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

std::string token_for(std::string_view fe_secret, std::string_view p0, std::string_view window,
                      std::string_view t8) {
  sha1 h;
  h.update(fe_secret);
  h.update(p0);
  h.update(window);
  h.update(t8);
  std::string out(t8);
  out.append(h.hex_digest().substr(0, signature_length - 8));
  return out;
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
  std::string p = lower(proto);
  p.append(":").append(lower(domain)).append(":").append(bsalt).append(":").append(fsalt);
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

std::string token_window(std::uint64_t unix_time) {
  return hex_u64(unix_time / token_window_seconds);
}

std::string make_token(std::string_view fe_secret, std::string_view proto, std::string_view domain,
                       std::string_view bsalt, std::uint64_t unix_time,
                       std::string_view rand7hex) {
  KL_ASSERT(rand7hex.size() == 7);
  std::string t8 = "t";
  t8.append(rand7hex.substr(0, 7));
  std::string p0 = lower(proto);
  p0.append(":").append(lower(domain)).append(":").append(bsalt);
  return token_for(fe_secret, p0, token_window(unix_time), t8);
}

result<void> check_token(std::string_view fe_secret, const kite_request& kite,
                         std::uint64_t unix_time) {
  const std::string_view token = kite.fsalt;
  if (token.size() != signature_length || token.front() != 't') {
    return errc::bad_token;
  }
  std::string p0 = lower(kite.proto);
  p0.append(":").append(lower(kite.domain)).append(":").append(kite.bsalt);
  const std::uint64_t window = unix_time / token_window_seconds;
  const std::string_view t8 = token.substr(0, 8);
  bool ok = constant_time_equal(token_for(fe_secret, p0, hex_u64(window), t8), token);
  if (window > 0) {
    // Always computed, so the time taken does not reveal which window matched.
    ok = constant_time_equal(token_for(fe_secret, p0, hex_u64(window - 1), t8), token) || ok;
  }
  if (!ok) {
    return errc::bad_token;
  }
  return {};
}

std::string make_session_id(std::uint64_t unix_time, std::string_view sha1hex) {
  std::string out = hex_u64(unix_time);
  out.append(":").append(sha1hex);
  return out;
}

}  // namespace kiteline::wire
