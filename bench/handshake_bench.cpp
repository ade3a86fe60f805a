// Microbenchmarks of the handshake codec: request parsing and kite signature checks.
#include <benchmark/benchmark.h>

#include <string>

#include "wire/handshake.hpp"
#include "wire/kite_auth.hpp"

namespace {

using namespace kiteline::wire;

// The spec's captured two-kite first-round request (§4.1).
constexpr std::string_view two_kite_request =
    "CONNECT PageKite:1 HTTP/1.0\r\n"
    "X-PageKite-Features: AddKites\r\n"
    "X-PageKite-Version: 1.5.2.201011\r\n"
    "X-PageKite-Features: ZChunks\r\n"
    "X-PageKite-Version: 1.5.2.201011\r\n"
    "X-PageKite: http:foo.example:244695ef30b8d4efea04972ab412885e5c10::a70f2eb2163a2f56405781f87e6a6d697509\r\n"
    "X-PageKite: raw-22:foo.example:244695ef30b8d4efea04972ab412885e5c10::5e8655b6de65bff1ccedbf8f50b21ddeab4d\r\n"
    "\r\n";

void BM_parse_handshake_request(benchmark::State& state) {
  for (auto _ : state) {
    auto r = parse_handshake_request(two_kite_request);
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(two_kite_request.size()));
}
BENCHMARK(BM_parse_handshake_request);

void BM_verify_signature(benchmark::State& state) {
  const kite_request kite{"http", "foo.example", "244695ef30b8d4efea04972ab412885e5c10",
                          "t0449439fc5a0a90f39593e766a68b05e7b7",
                          "ca6c1c3cfcedb393af4478a0480aa280fddd"};
  for (auto _ : state) {
    bool ok = verify_kite_signature("s3cret", kite);
    benchmark::DoNotOptimize(ok);
  }
}
BENCHMARK(BM_verify_signature);

void BM_format_handshake_response(benchmark::State& state) {
  handshake_response resp;
  resp.zchunks = resp.websockets = resp.add_kites = true;
  resp.protos = {"http", "https", "raw"};
  resp.ports = {"27080"};
  resp.raw_ports = {"virtual"};
  resp.results = {{kite_status::ok, "http:foo.example:244695ef30b8d4efea04972ab412885e5c10", "", ""}};
  resp.session_id = "6b02be47:7c2465963423f4f67b6d308a38a8f3593faf5652";
  resp.misc = "motd=";
  for (auto _ : state) {
    std::string s = format_handshake_response(resp);
    benchmark::DoNotOptimize(s);
  }
}
BENCHMARK(BM_format_handshake_response);

}  // namespace
