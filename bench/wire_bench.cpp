// Microbenchmarks of the chunk framing codec: plain-frame decoding and chunk-head encoding.
#include <benchmark/benchmark.h>

#include <cstddef>
#include <string>
#include <vector>

#include "wire/chunk_encoder.hpp"
#include "wire/frame_decoder.hpp"
#include "wire/zchunk.hpp"

namespace {

using kiteline::wire::chunk_headers;
using kiteline::wire::frame_decoder;
using kiteline::wire::frame_event;

// `count` back-to-back data chunks "400a\r\nSID: 7\r\n\r\n" + 16384 bytes.
std::vector<std::byte> plain_16k_stream(std::size_t count) {
  chunk_headers h;
  h.sid = 7;
  std::vector<std::byte> out;
  std::vector<std::byte> head(kiteline::wire::chunk_head_size_bound(h));
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t n = kiteline::wire::encode_chunk_head(head, h, 16384);
    out.insert(out.end(), head.begin(), head.begin() + static_cast<std::ptrdiff_t>(n));
    out.insert(out.end(), 16384, std::byte{static_cast<unsigned char>(i)});
  }
  return out;
}

void BM_decode_plain_16k(benchmark::State& state) {
  const auto stream = plain_16k_stream(256);  // ~4 MiB
  constexpr std::size_t read_size = 256 * 1024;
  std::size_t chunks = 0;
  for (auto _ : state) {
    frame_decoder dec({}, false);
    std::size_t data_bytes = 0;
    for (std::size_t pos = 0; pos < stream.size(); pos += read_size) {
      auto in = std::span<const std::byte>(stream).subspan(pos, std::min(read_size, stream.size() - pos));
      for (;;) {
        const auto s = dec.feed(in);
        in = in.subspan(s.consumed);
        if (s.event == frame_event::data) {
          data_bytes += dec.data().size();
        } else if (s.event == frame_event::headers) {
          ++chunks;
          benchmark::DoNotOptimize(dec.headers().sid);
        } else if (s.event == frame_event::need_more || s.event == frame_event::error) {
          break;
        }
      }
    }
    benchmark::DoNotOptimize(data_bytes);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(stream.size()));
  state.counters["chunks/s"] =
      benchmark::Counter(static_cast<double>(chunks), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_decode_plain_16k);

// Encoding the head of a 16 KiB data chunk; bytes/s counts the framed bytes (head + data) the
// head stands for, chunks/s the heads themselves.
void BM_encode_head_16k(benchmark::State& state) {
  chunk_headers h;
  h.sid = 7;
  std::vector<std::byte> head(kiteline::wire::chunk_head_size_bound(h));
  std::size_t total = 0;
  for (auto _ : state) {
    const std::size_t n = kiteline::wire::encode_chunk_head(head, h, 16384);
    benchmark::DoNotOptimize(head.data());
    total += n + 16384;
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(total));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_encode_head_16k);

// Encoding the head of a stream-opening chunk (all first-chunk headers).
void BM_encode_head_open(benchmark::State& state) {
  chunk_headers h;
  h.sid = 131071;
  h.proto = "http";
  h.host = "foo.example.com";
  h.port = 443;
  h.rip = "::ffff:127.0.0.1";
  h.rport = 41136;
  std::vector<std::byte> head(kiteline::wire::chunk_head_size_bound(h));
  for (auto _ : state) {
    benchmark::DoNotOptimize(kiteline::wire::encode_chunk_head(head, h, 1400));
    benchmark::DoNotOptimize(head.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_encode_head_open);

// ZChunks: compress + decompress one 16 KiB text-like chunk per iteration (levels 1 and 9).
void BM_zchunk_round_trip_16k(benchmark::State& state) {
  kiteline::wire::zchunk_encoder enc(static_cast<int>(state.range(0)));
  frame_decoder dec({}, true);
  chunk_headers h;
  h.sid = 7;
  std::string text;
  while (text.size() < 16384) {
    text += "GET /some/path?q=" + std::to_string(text.size()) + " HTTP/1.1\r\nHost: foo\r\n";
  }
  text.resize(16384);
  const auto data = std::as_bytes(std::span<const char>(text));
  std::vector<std::byte> out(kiteline::wire::zchunk_encoder::frame_bound(h, data.size()));
  for (auto _ : state) {
    const auto n = enc.encode(out, h, data);
    auto in = std::span<const std::byte>(out).first(*n);
    for (;;) {
      const auto s = dec.feed(in);
      in = in.subspan(s.consumed);
      if (s.event == frame_event::need_more || s.event == frame_event::error) {
        break;
      }
    }
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * 16384);
}
BENCHMARK(BM_zchunk_round_trip_16k)->Arg(1)->Arg(9);

}  // namespace
