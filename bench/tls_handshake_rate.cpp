// TLS handshake rate of the relay's server context with the private key in this process and in
// the key process (issue 6: the isolation may cost at most 20 %). Each iteration is one full
// handshake (no resumption) between an in-memory client and the server over a BIO pair; the
// reported rate (items_per_second) counts only the server's SSL_do_handshake time, which with
// isolation includes the round trip to the key process and its signature.
//
//   kiteline_tls_bench --benchmark_filter=... [--benchmark_repetitions=N]
//
// Arguments of every benchmark: {TLS version 13|12, key 0 = RSA-2048 | 1 = ECDSA P-256,
// isolation 0 = in-process | 1 = key process}.
#include <benchmark/benchmark.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "keys/key_store.hpp"
#include "tls/server_context.hpp"

namespace {

using kiteline::tls::certified_key;
using kiteline::keys::key_store;
using clock_type = std::chrono::steady_clock;

/// A PEM file (key + self-signed certificate) in a temporary directory, removed at exit.
class pem_file {
 public:
  explicit pem_file(bool rsa) {
    char tmpl[] = "/tmp/kiteline-tlsbench-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) {
      return;
    }
    dir_ = tmpl;
    path_ = dir_ + "/fe.pem";
    EVP_PKEY* key = rsa ? ::EVP_RSA_gen(2048) : ::EVP_EC_gen("P-256");
    X509* x = ::X509_new();
    ::ASN1_INTEGER_set(::X509_get_serialNumber(x), 1);
    ::X509_gmtime_adj(::X509_getm_notBefore(x), -3600);
    ::X509_gmtime_adj(::X509_getm_notAfter(x), 86400);
    ::X509_set_pubkey(x, key);
    X509_NAME* name = ::X509_get_subject_name(x);
    const unsigned char cn[] = "fe.test";
    ::X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, cn, -1, -1, 0);
    ::X509_set_issuer_name(x, name);
    ::X509_sign(x, key, ::EVP_sha256());
    if (FILE* f = std::fopen(path_.c_str(), "w")) {
      ::PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
      ::PEM_write_X509(f, x);
      std::fclose(f);
    }
    ::X509_free(x);
    ::EVP_PKEY_free(key);
  }
  ~pem_file() {
    if (!path_.empty()) {
      ::unlink(path_.c_str());
      ::rmdir(dir_.c_str());
    }
  }
  pem_file(const pem_file&) = delete;
  pem_file& operator=(const pem_file&) = delete;
  [[nodiscard]] const std::string& path() const noexcept { return path_; }

 private:
  std::string dir_;
  std::string path_;
};

/// One key (and server context) per (key type, isolation), shared by the benchmark threads
/// (as the relay's workers share an endpoint's context) and kept for the whole run.
class fixtures {
 public:
  struct entry {
    std::shared_ptr<key_store> store;
    certified_key pair;
    std::shared_ptr<asio::ssl::context> server;
    int key_pid = 0;  ///< the key process (0 = in-process)
  };

  const entry& get(bool rsa, bool isolated) {
    std::lock_guard lk(mu_);
    auto& e = entries_[{rsa, isolated}];
    if (e.server) {
      return e;
    }
    auto& pem = pems_[rsa];
    if (!pem) {
      pem = std::make_unique<pem_file>(rsa);
    }
    std::string error;
    if (isolated) {
      kiteline::keys::key_process_options o;
      o.executable = KITELINE_BINARY;
      o.pem_files = {pem->path()};
      o.channels = 2;
      auto started = kiteline::keys::start_key_process(std::move(o));
      if (started) {
        e.store = *started;
      } else {
        error = started.error().message();
      }
      const std::string status = e.store ? e.store->status_for_test() : "";  // "pid=N ..."
      e.key_pid = status.starts_with("pid=") ? std::atoi(status.c_str() + 4) : 0;
    } else {
      e.store = kiteline::keys::make_inprocess_key_store();
    }
    if (e.store) {
      auto pair = e.store->load(pem->path());
      if (!pair) {
        error = pair.error().message();
      } else {
        e.pair = std::move(*pair);
        auto server =
            kiteline::tls::make_server_context(e.pair, kiteline::tls::protocol_policy{});
        if (server) {
          e.server = *server;
        } else {
          error = server.error().message();
        }
      }
    }
    if (!e.server) {
      std::fprintf(stderr, "tls bench: cannot set up the server: %s\n", error.c_str());
      std::abort();
    }
    return e;
  }

 private:
  std::mutex mu_;
  std::map<bool, std::unique_ptr<pem_file>> pems_;
  std::map<std::pair<bool, bool>, entry> entries_;
};

/// CPU time (ns) the process `pid` has used, all threads (/proc/PID/task/*/schedstat); 0 for
/// pid 0.
double process_cpu_ns(int pid) {
  double total = 0;
  if (pid <= 0) {
    return total;
  }
  std::error_code ec;
  for (const auto& t :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    std::ifstream in(t.path() / "schedstat");
    double ns = 0;
    in >> ns;
    total += ns;
  }
  return total;
}

fixtures& shared_fixtures() {
  // The benchmark binary's one fixture set (a bench is not library code: style §3's rule
  // against statics is about the embeddable core).
  static fixtures f;  // NOLINT
  return f;
}

/// One full handshake; returns the server's share of the time, or a negative value on failure.
/// CPU time of the calling thread (user + system), seconds.
double thread_cpu_seconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

/// One full handshake; returns the server's wall time (<0: failed) and adds the CPU time the
/// server's SSL_do_handshake calls took on this thread to `server_cpu`.
double handshake(SSL_CTX* client_ctx, SSL_CTX* server_ctx, double& server_cpu) {
  SSL* c = ::SSL_new(client_ctx);
  SSL* s = ::SSL_new(server_ctx);
  BIO* cb = nullptr;
  BIO* sb = nullptr;
  ::BIO_new_bio_pair(&cb, 0, &sb, 0);
  ::SSL_set_bio(c, cb, cb);
  ::SSL_set_bio(s, sb, sb);
  ::SSL_set_connect_state(c);
  ::SSL_set_accept_state(s);
  char sni[] = "fe.test";  // SSL_set_tlsext_host_name, minus its C cast
  ::SSL_ctrl(c, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, sni);
  std::chrono::duration<double> server_time{0};
  bool c_done = false;
  bool s_done = false;
  bool failed = false;
  for (int round = 0; round < 16 && !(c_done && s_done) && !failed; ++round) {
    if (!c_done) {
      const int r = ::SSL_do_handshake(c);
      c_done = r == 1;
      failed = r <= 0 && ::SSL_get_error(c, r) != SSL_ERROR_WANT_READ;
    }
    if (!s_done && !failed) {
      const auto t0 = clock_type::now();
      const double c0 = thread_cpu_seconds();
      const int r = ::SSL_do_handshake(s);
      server_cpu += thread_cpu_seconds() - c0;
      server_time += clock_type::now() - t0;
      s_done = r == 1;
      failed = r <= 0 && ::SSL_get_error(s, r) != SSL_ERROR_WANT_READ;
    }
  }
  ::SSL_free(c);
  ::SSL_free(s);
  if (failed || !c_done || !s_done) {
    ::ERR_print_errors_fp(stderr);
    return -1;
  }
  return server_time.count();
}

void BM_tls_server_handshake(benchmark::State& state) {
  const int version = state.range(0) == 13 ? TLS1_3_VERSION : TLS1_2_VERSION;
  const bool rsa = state.range(1) == 0;
  const bool isolated = state.range(2) == 1;
  const auto& fx = shared_fixtures().get(rsa, isolated);
  SSL_CTX* server_ctx = fx.server->native_handle();
  SSL_CTX* client_ctx = ::SSL_CTX_new(::TLS_client_method());
  ::SSL_CTX_set_min_proto_version(client_ctx, version);
  ::SSL_CTX_set_max_proto_version(client_ctx, version);
  ::SSL_CTX_set_verify(client_ctx, SSL_VERIFY_NONE, nullptr);
  const auto start = clock_type::now();
  const double key_cpu_start = process_cpu_ns(fx.key_pid);
  double server_cpu = 0;
  for (auto _ : state) {
    const double t = handshake(client_ctx, server_ctx, server_cpu);
    if (t < 0) {
      state.SkipWithError("handshake failed");
      break;
    }
    state.SetIterationTime(t);
  }
  const std::chrono::duration<double> wall = clock_type::now() - start;
  ::SSL_CTX_free(client_ctx);
  state.SetItemsProcessed(state.iterations());
  // Client + server handshakes per second of this thread (what one core can do for both ends).
  state.counters["pair_hs/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()) / wall.count());
  // The key process's CPU per handshake (its signatures), to add to this thread's CPU column.
  // With several threads each sees the signatures of all of them (as many handshakes each).
  // The relay's CPU per handshake: its thread's share plus (below) the key process's. With
  // every CPU busy this, not the wall time, bounds how many handshakes a relay can serve.
  state.counters["srv_cpu_us/hs"] = benchmark::Counter(
      server_cpu * 1e6 / static_cast<double>(std::max<benchmark::IterationCount>(state.iterations(), 1)),
      benchmark::Counter::kAvgThreads);
  state.counters["key_cpu_us/hs"] = benchmark::Counter(
      (process_cpu_ns(fx.key_pid) - key_cpu_start) / 1000.0 /
          static_cast<double>(std::max<benchmark::IterationCount>(state.iterations(), 1) *
                              state.threads()),
      benchmark::Counter::kAvgThreads);
  state.SetLabel(std::string(version == TLS1_3_VERSION ? "TLSv1.3 " : "TLSv1.2 ") +
                 (rsa ? "RSA-2048 " : "ECDSA-P256 ") + (isolated ? "key-process" : "in-process"));
}

/// One private-key signature of a SHA-256 digest (what a handshake asks the key process for):
/// PKCS#1 v1.5 for RSA, ECDSA for P-256. Arguments {key 0 = RSA | 1 = P-256, isolation}.
void BM_private_key_sign(benchmark::State& state) {
  const bool rsa = state.range(0) == 0;
  const bool isolated = state.range(1) == 1;
  EVP_PKEY* key = shared_fixtures().get(rsa, isolated).pair.key.get();
  unsigned char digest[32] = {1, 2, 3};
  std::vector<unsigned char> sig(1024);
  for (auto _ : state) {
    EVP_PKEY_CTX* ctx = ::EVP_PKEY_CTX_new(key, nullptr);
    std::size_t len = sig.size();
    const bool ok = ctx != nullptr && ::EVP_PKEY_sign_init(ctx) == 1 &&
                    (!rsa || ::EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1) &&
                    ::EVP_PKEY_CTX_set_signature_md(ctx, ::EVP_sha256()) == 1 &&
                    ::EVP_PKEY_sign(ctx, sig.data(), &len, digest, sizeof digest) == 1;
    ::EVP_PKEY_CTX_free(ctx);
    if (!ok) {
      ::ERR_print_errors_fp(stderr);
      state.SkipWithError("sign failed");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(std::string(rsa ? "RSA-2048 " : "ECDSA-P256 ") +
                 (isolated ? "key-process" : "in-process"));
}

/// One request/response to the key process without any crypto (op status): the floor of what
/// isolation adds to each signature (two context switches, four syscalls).
void BM_key_process_round_trip(benchmark::State& state) {
  auto& store = *shared_fixtures().get(false, true).store;
  for (auto _ : state) {
    benchmark::DoNotOptimize(store.status_for_test());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_key_process_round_trip)->Unit(benchmark::kMicrosecond)->MinTime(1.0);

BENCHMARK(BM_private_key_sign)
    ->ArgsProduct({{0, 1}, {0, 1}})
    ->Unit(benchmark::kMicrosecond)
    ->MinTime(1.0);
BENCHMARK(BM_tls_server_handshake)
    ->ArgsProduct({{13, 12}, {0, 1}, {0, 1}})
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond)
    ->MinTime(1.0);
BENCHMARK(BM_tls_server_handshake)
    ->ArgsProduct({{13}, {0, 1}, {0, 1}})
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond)
    ->MinTime(1.0)
    ->Threads(2);

}  // namespace
