#include "support/test_env.hpp"

#include <openssl/evp.h>

#include <cstdlib>
#include <cstring>
#include <fstream>

#include "core/text.hpp"
namespace kiteline::test {

std::span<const std::byte> as_bytes(std::string_view s) noexcept {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

std::string_view as_text(std::span<const std::byte> b) noexcept {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

std::vector<std::byte> to_bytes(std::string_view s) {
  auto b = as_bytes(s);
  return {b.begin(), b.end()};
}

sha256::sha256() : ctx_(EVP_MD_CTX_new()) {
  EVP_DigestInit_ex(static_cast<EVP_MD_CTX*>(ctx_), EVP_sha256(), nullptr);
}

sha256::~sha256() { EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_)); }

void sha256::update(std::span<const std::byte> data) {
  EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), data.data(), data.size());
}

std::string sha256::hex() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(ctx_), md, &len);
  return to_hex(std::span<const std::uint8_t>(md, len));
}

std::string sha256_hex(std::span<const std::byte> data) {
  sha256 h;
  h.update(data);
  return h.hex();
}

void pattern::fill(std::uint64_t offset, std::span<std::byte> out) const {
  std::uint64_t word_index = offset / 8;
  std::size_t skip = static_cast<std::size_t>(offset % 8);
  std::size_t i = 0;
  while (i < out.size()) {
    // splitmix64 of (seed, word index): random access, no state.
    std::uint64_t z = seed_ * 0x9E3779B97F4A7C15ULL + word_index + 1;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    for (std::size_t b = skip; b < 8 && i < out.size(); ++b) {
      out[i++] = static_cast<std::byte>((z >> (8 * b)) & 0xff);
    }
    skip = 0;
    ++word_index;
  }
}

std::vector<std::byte> pattern::bytes(std::size_t n) const {
  std::vector<std::byte> v(n);
  fill(0, v);
  return v;
}

std::string pattern::sha256_of(std::uint64_t n) const {
  sha256 h;
  std::vector<std::byte> buf(64 * 1024);
  for (std::uint64_t off = 0; off < n;) {
    auto len = static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), n - off));
    fill(off, std::span<std::byte>(buf.data(), len));
    h.update(std::span<const std::byte>(buf.data(), len));
    off += len;
  }
  return h.hex();
}

std::uint64_t rss_kib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      return std::strtoull(line.c_str() + 6, nullptr, 10);
    }
  }
  return 0;
}

bool has_all(std::string_view line, std::initializer_list<std::string_view> parts) {
  for (auto p : parts) {
    if (line.find(p) == std::string_view::npos) {
      return false;
    }
  }
  return true;
}

}  // namespace kiteline::test
