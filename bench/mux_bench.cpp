// Microbenchmarks of mux::session's data path: tunnel → local deliver and local → tunnel send.
#include <chrono>
#include <cstddef>
#include <vector>

#include "mux/session.hpp"

#include <benchmark/benchmark.h>

namespace {

using namespace kiteline;

constexpr std::size_t piece_size = 16 * 1024;
const mux::time_point start = mux::time_point{} + std::chrono::hours(1);

// on_chunk with a 16 KiB data piece for a live stream, then on_local_written for it (SKB out).
void BM_mux_deliver_16k(benchmark::State& state) {
  mux::session s(mux::role::connector, mux::session_limits{}, start);
  wire::chunk_headers first;
  first.sid = 1;
  first.proto = "http";
  first.host = "foo.example";
  (void)s.on_chunk(first, {}, true);
  s.clear_actions();
  wire::chunk_headers h;
  h.sid = 1;
  const std::vector<std::byte> data(piece_size, std::byte{'x'});
  for (auto _ : state) {
    (void)s.on_chunk(h, data, true);
    (void)s.on_local_written(1, piece_size);
    benchmark::DoNotOptimize(s.actions().data());
    s.clear_actions();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(piece_size));
}
BENCHMARK(BM_mux_deliver_16k);

// on_local_data with 16 KiB for a live stream (one send_chunk per call), window never full.
void BM_mux_local_data_16k(benchmark::State& state) {
  mux::session_limits l;
  l.stream_send_window = ~std::uint64_t{0};
  mux::session s(mux::role::relay, l, start);
  const mux::stream_open o{"http", "foo.example", 80, "127.0.0.1", 1234, false};
  const auto sid = s.open_stream(o, {});
  s.clear_actions();
  const std::vector<std::byte> data(piece_size, std::byte{'y'});
  for (auto _ : state) {
    (void)s.on_local_data(*sid, data);
    benchmark::DoNotOptimize(s.actions().data());
    s.clear_actions();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(piece_size));
}
BENCHMARK(BM_mux_local_data_16k);

}  // namespace
