// Fuzz target: tls::record_reader, the TLS 1.3 records a peer sends after the handshake.
// The input is a script of records, each sealed under the peer's current key by a sealer that
// follows the keys the reader moves to (so the fuzzer reaches past the AEAD): per record, one
// control byte (inner content type, padding, "tamper", "raw bytes"), a length byte and that
// many content bytes. Checks: no crash, a record size never beyond libssl's limit, an opened
// record's data within the record, the reader never used after an error.
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include <openssl/evp.h>

#include "tls/record_protection.hpp"
#include "tls/record_reader.hpp"

#define FUZZ_CHECK(c)   \
  do {                  \
    if (!(c)) {         \
      __builtin_trap(); \
    }                   \
  } while (0)

namespace {

using kiteline::tls::record_event;
using kiteline::tls::record_keys;
using kiteline::tls::record_reader;
using kiteline::tls::record_suite;

constexpr std::array<std::byte, 32> secret{std::byte{0x5a}, std::byte{0x01}, std::byte{0x77}};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) {
    return 0;
  }
  const record_suite suite{EVP_aes_128_gcm(), "SHA256", 16, 32};
  record_reader reader;
  record_keys sealer;
  if (!reader.init(suite, secret, (data[0] & 1U) != 0) || !sealer.init(suite, secret, true)) {
    return 0;
  }
  std::size_t pos = 1;
  std::vector<std::byte> rec;
  for (int records = 0; records < 256 && pos + 2 <= size; ++records) {
    const std::uint8_t ctl = data[pos];
    const std::size_t n = std::min<std::size_t>(data[pos + 1], size - pos - 2);
    const auto* content = reinterpret_cast<const std::byte*>(data + pos + 2);
    pos += 2 + n;
    rec.clear();
    if ((ctl & 0x80U) != 0) {
      // Raw bytes as a record (a header of the fuzzer's choosing, whatever follows).
      rec.assign(content, content + n);
      if (rec.size() < kiteline::tls::record_header_size) {
        continue;
      }
    } else {
      static constexpr std::array<std::uint8_t, 4> types{21, 22, 23, 0};
      const std::uint8_t type = types[ctl & 3U];
      const std::size_t pad = (ctl >> 2U) & 7U;
      const std::size_t plain = n + (type != 0 ? 1 : 0) + pad;
      rec.resize(kiteline::tls::record_header_size + plain + kiteline::tls::record_tag_size);
      std::vector<std::byte> inner(content, content + n);
      if (type != 0) {
        inner.push_back(static_cast<std::byte>(type));
      }
      inner.resize(plain);  // zero padding
      // seal_finish appends a content type: seal all but the last inner byte, finish with it.
      if (plain == 0 || !sealer.seal_begin(rec.data(), plain - 1) ||
          !sealer.seal_add(inner.data(), plain - 1, rec.data() + kiteline::tls::record_header_size) ||
          !sealer.seal_finish(static_cast<std::uint8_t>(inner.back()),
                              rec.data() + kiteline::tls::record_header_size + plain - 1)) {
        continue;
      }
      if ((ctl & 0x20U) != 0 && rec.size() > 6) {
        rec[6] ^= std::byte{1};  // tampered
      }
    }
    kiteline::tls::record_error err;
    const std::size_t want = reader.record_size(rec.data(), err);
    if (want == 0) {
      return 0;  // refused by its header: the connection ends here
    }
    FUZZ_CHECK(want <= kiteline::tls::record_header_size + kiteline::tls::libssl_max_record_body);
    if (want > rec.size()) {
      continue;  // incomplete: a driver would wait for more
    }
    const std::uint64_t updates = reader.key_updates();
    std::vector<std::byte> out(want);
    const record_event ev = reader.open(rec.data(), want, out.data());
    if (ev.what == record_event::kind::error || ev.what == record_event::kind::close_notify) {
      return 0;  // the reader is not used again
    }
    if (ev.what == record_event::kind::application_data) {
      FUZZ_CHECK(ev.size <= want);
    }
    if (reader.key_updates() != updates) {
      FUZZ_CHECK(reader.key_updates() == updates + 1);
      (void)sealer.update();  // the peer moved to its next key: so does our sealer
    }
    (void)reader.take_update_request();
  }
  return 0;
}
