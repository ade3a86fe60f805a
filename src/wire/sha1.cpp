#include "wire/sha1.hpp"

#include <algorithm>
#include <bit>
#include <cstring>

#include "core/text.hpp"

namespace kiteline::wire {
namespace {

constexpr std::uint32_t load_be32(const std::uint8_t* p) noexcept {
  return (static_cast<std::uint32_t>(p[0]) << 24U) | (static_cast<std::uint32_t>(p[1]) << 16U) |
         (static_cast<std::uint32_t>(p[2]) << 8U) | static_cast<std::uint32_t>(p[3]);
}

}  // namespace

void sha1::reset() noexcept {
  h_ = {0x67452301U, 0xEFCDAB89U, 0x98BADCFEU, 0x10325476U, 0xC3D2E1F0U};
  block_len_ = 0;
  total_len_ = 0;
}

void sha1::compress(const std::uint8_t* block) noexcept {
  std::array<std::uint32_t, 80> w{};
  for (std::size_t i = 0; i < 16; ++i) {
    w[i] = load_be32(block + 4 * i);
  }
  for (std::size_t i = 16; i < 80; ++i) {
    w[i] = std::rotl(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
  }
  std::uint32_t a = h_[0];
  std::uint32_t b = h_[1];
  std::uint32_t c = h_[2];
  std::uint32_t d = h_[3];
  std::uint32_t e = h_[4];
  for (std::size_t i = 0; i < 80; ++i) {
    std::uint32_t f = 0;
    std::uint32_t k = 0;
    if (i < 20) {
      f = (b & c) | (~b & d);
      k = 0x5A827999U;
    } else if (i < 40) {
      f = b ^ c ^ d;
      k = 0x6ED9EBA1U;
    } else if (i < 60) {
      f = (b & c) | (b & d) | (c & d);
      k = 0x8F1BBCDCU;
    } else {
      f = b ^ c ^ d;
      k = 0xCA62C1D6U;
    }
    const std::uint32_t t = std::rotl(a, 5) + f + e + k + w[i];
    e = d;
    d = c;
    c = std::rotl(b, 30);
    b = a;
    a = t;
  }
  h_[0] += a;
  h_[1] += b;
  h_[2] += c;
  h_[3] += d;
  h_[4] += e;
}

void sha1::update_raw(const std::uint8_t* data, std::size_t n) noexcept {
  total_len_ += n;
  while (n > 0) {
    if (block_len_ == 0 && n >= block_.size()) {
      compress(data);
      data += block_.size();
      n -= block_.size();
      continue;
    }
    const std::size_t take = std::min(n, block_.size() - block_len_);
    std::memcpy(block_.data() + block_len_, data, take);
    block_len_ += take;
    data += take;
    n -= take;
    if (block_len_ == block_.size()) {
      compress(block_.data());
      block_len_ = 0;
    }
  }
}

void sha1::update(std::span<const std::byte> bytes) noexcept {
  update_raw(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
}

void sha1::update(std::string_view text) noexcept {
  update_raw(reinterpret_cast<const std::uint8_t*>(text.data()), text.size());
}

sha1::digest_type sha1::digest() noexcept {
  const std::uint64_t bit_len = total_len_ * 8U;
  const std::uint8_t pad_start = 0x80;
  update_raw(&pad_start, 1);
  const std::uint8_t zero = 0;
  while (block_len_ != 56) {
    update_raw(&zero, 1);
  }
  std::array<std::uint8_t, 8> len_be{};
  for (std::size_t i = 0; i < 8; ++i) {
    len_be[i] = static_cast<std::uint8_t>(bit_len >> (56U - 8U * i));
  }
  update_raw(len_be.data(), len_be.size());
  digest_type out{};
  for (std::size_t i = 0; i < 5; ++i) {
    out[4 * i] = static_cast<std::uint8_t>(h_[i] >> 24U);
    out[4 * i + 1] = static_cast<std::uint8_t>(h_[i] >> 16U);
    out[4 * i + 2] = static_cast<std::uint8_t>(h_[i] >> 8U);
    out[4 * i + 3] = static_cast<std::uint8_t>(h_[i]);
  }
  return out;
}

std::string sha1::hex_digest() {
  const digest_type d = digest();
  return to_hex(d);
}

std::string sha1_hex(std::string_view text) {
  sha1 h;
  h.update(text);
  return h.hex_digest();
}

}  // namespace kiteline::wire
