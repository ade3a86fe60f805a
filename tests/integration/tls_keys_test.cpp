// Key isolation (issue 6 item 3), fork-safe RNG (item 4) and certificate reload with sslmate's
// failsafe (item 6): RSA/ECDSA handshakes through the key process, a memory scan of the
// network process, killing the key process, SIGHUP and file-change reloads.
#include <gtest/gtest.h>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <thread>

#include "support/fake_connector.hpp"
#include "support/fake_visitor.hpp"
#include "support/key_material.hpp"
#include "support/loopback_relay.hpp"
#include "keys/key_store.hpp"

namespace kiteline::test {
namespace {

using namespace std::chrono_literals;
constexpr auto day = std::chrono::seconds(24 * 3600);

std::shared_ptr<keys::key_store> isolated_store(const std::string& pem, unsigned channels = 2,
                                               std::shared_ptr<spdlog::logger> log = nullptr) {
  keys::key_process_options o;
  o.executable = kiteline_binary();
  o.pem_files = {pem};
  o.channels = channels;
  o.log = std::move(log);
  auto store = keys::start_key_process(std::move(o));
  EXPECT_TRUE(store) << (store ? "" : store.error().message());
  return store ? *store : nullptr;
}

/// Writes fe.pem in `dir`: `key` + a self-signed certificate with `serial`, valid now.
std::string write_pair(const temp_dir& dir, const test_key& key, long serial) {
  const std::string pem = dir.file("fe.pem");
  write_file_atomically(pem, key_pem(key) + cert_pem(key, serial, -1h, day));
  return pem;
}

relay_options tls_relay(const std::string& pem, std::shared_ptr<keys::key_store> store) {
  relay_options o;
  o.tls_names = {"fe.test"};
  o.tls_default = "fe.test";
  o.tls_pem_file = pem;
  o.key_store = std::move(store);
  o.extra_args = {"--tls_reload_seconds=0"};
  return o;
}

// --- handshakes through the key process ------------------------------------------------------

class KeyProcessHandshake : public testing::TestWithParam<const char*> {};

TEST_P(KeyProcessHandshake, Tls13AndTls12SignInTheKeyProcess) {
  const std::string type = GetParam();
  temp_dir dir;
  test_key key(type);
  const std::string pem = write_pair(dir, key, 0x1234);
  loopback_relay relay(tls_relay(pem, isolated_store(pem)));
  ASSERT_TRUE(relay.ok()) << relay.error();
  EXPECT_TRUE(relay.log().contains({"tls endpoint fe.test", "serial 0x1234", "key process"}));
  const bool rsa = type == "rsa2048";
  for (int version : {TLS1_3_VERSION, TLS1_2_VERSION}) {
    auto r = tls_probe(relay.port(), "fe.test", version);
    ASSERT_TRUE(r.ok) << type << " " << version << ": " << r.error << relay.log_dump();
    EXPECT_EQ(r.serial, "0x1234");
    EXPECT_EQ(r.sigalg, rsa ? "RSA-PSS" : "ECDSA") << r.version;
    EXPECT_EQ(r.version, version == TLS1_3_VERSION ? "TLSv1.3" : "TLSv1.2");
  }
  if (rsa) {
    // PKCS#1 v1.5 (TLS 1.2 only offers rsa_pkcs1_sha256 here).
    auto r = tls_probe(relay.port(), "fe.test", TLS1_2_VERSION, "RSA+SHA256");
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.sigalg, "RSA");
  }
}

INSTANTIATE_TEST_SUITE_P(Keys, KeyProcessHandshake, testing::Values("rsa2048", "p256", "p384"));

TEST(KeyProcess, MismatchedPairRefusedAtStartInTheKeyProcess) {
  temp_dir dir;
  test_key a("p256");
  test_key b("p256");
  const std::string pem = dir.file("fe.pem");
  write_file_atomically(pem, key_pem(a) + cert_pem(b, 7, -1h, day));
  loopback_relay relay(tls_relay(pem, isolated_store(pem)));
  ASSERT_FALSE(relay.ok());
  EXPECT_NE(relay.error().find("certificate does not match private key"), std::string::npos)
      << relay.error();
}

TEST(KeyProcess, ConcurrentHandshakesFromSeveralWorkers) {
  temp_dir dir;
  test_key key("p256");
  const std::string pem = write_pair(dir, key, 5);
  auto opts = tls_relay(pem, isolated_store(pem, 2));
  opts.threads = 3;
  loopback_relay relay(opts);
  ASSERT_TRUE(relay.ok()) << relay.error();
  std::atomic<int> good{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20; ++i) {
        if (tls_probe(relay.port(), "fe.test").ok) {
          ++good;
        }
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(good.load(), 80) << relay.log_dump();
}

/// The CPUs each thread of `pid` may run on (Cpus_allowed_list of /proc/PID/task/*/status).
std::vector<std::string> task_cpu_lists(pid_t pid) {
  std::vector<std::string> lists;
  std::error_code ec;
  for (const auto& t : std::filesystem::directory_iterator(
           "/proc/" + std::to_string(pid) + "/task", ec)) {
    std::ifstream in(t.path() / "status");
    for (std::string line; std::getline(in, line);) {
      if (line.starts_with("Cpus_allowed_list:")) {
        lists.push_back(line.substr(line.find_first_not_of(" \t", 18)));
      }
    }
  }
  return lists;
}

/// A signature from a thread pinned to CPU `cpu`, through `key` (a key-process proxy).
bool sign_from_cpu(EVP_PKEY* key, int cpu) {
  bool ok = false;
  std::thread t([&] {
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(static_cast<std::size_t>(cpu), &one);
    if (::sched_setaffinity(0, sizeof one, &one) != 0) {
      return;
    }
    unsigned char digest[32] = {1, 2, 3};
    unsigned char sig[256];
    std::size_t len = sizeof sig;
    EVP_PKEY_CTX* ctx = ::EVP_PKEY_CTX_new(key, nullptr);
    ok = ctx != nullptr && ::EVP_PKEY_sign_init(ctx) == 1 &&
         ::EVP_PKEY_sign(ctx, sig, &len, digest, sizeof digest) == 1 && len > 8;
    ::EVP_PKEY_CTX_free(ctx);
  });
  t.join();
  return ok;
}

// The channel's thread in the key process moves to the CPU the request came from, so that a
// signature is a hand-off on one CPU rather than a wake-up of another (docs/tls-keys.md §5).
TEST(KeyProcess, ChannelThreadFollowsTheRequestersCpu) {
  cpu_set_t allowed;
  ASSERT_EQ(::sched_getaffinity(0, sizeof allowed, &allowed), 0);
  std::vector<int> cpus;
  for (int c = 0; c < CPU_SETSIZE && cpus.size() < 2; ++c) {
    if (CPU_ISSET(static_cast<std::size_t>(c), &allowed)) {
      cpus.push_back(c);
    }
  }
  if (cpus.size() < 2) {
    GTEST_SKIP() << "needs two CPUs";
  }
  temp_dir dir;
  test_key key("p256");
  const std::string pem = write_pair(dir, key, 3);
  auto store = isolated_store(pem, 1);
  ASSERT_TRUE(store);
  auto pair = store->load(pem);
  ASSERT_TRUE(pair) << (pair ? "" : pair.error().message());
  auto pids = child_pids(::getpid(), "--key-process");
  ASSERT_EQ(pids.size(), 1U);
  for (int cpu : {cpus[1], cpus[0], cpus[1]}) {
    ASSERT_TRUE(sign_from_cpu(pair->key.get(), cpu));
    const auto lists = task_cpu_lists(pids[0]);
    EXPECT_EQ(std::count(lists.begin(), lists.end(), std::to_string(cpu)), 1)
        << "after a request from CPU " << cpu << ": " << testing::PrintToString(lists);
  }
}

TEST(KeyProcess, IsNotDumpableAndIsRestartedWhenKilled) {
  temp_dir dir;
  test_key key("rsa2048");
  const std::string pem = write_pair(dir, key, 9);
  auto sink = std::make_shared<capture_sink>();
  auto store = isolated_store(pem, 2, make_capture_logger("keys", sink));
  loopback_relay relay(tls_relay(pem, store));
  ASSERT_TRUE(relay.ok()) << relay.error();
  ASSERT_TRUE(tls_probe(relay.port(), "fe.test").ok);
  auto pids = child_pids(::getpid(), "--key-process");
  ASSERT_EQ(pids.size(), 1U);
  const pid_t key_pid = pids[0];
  // prctl(PR_GET_DUMPABLE) as the key process itself reports it; as non-root the kernel also
  // hands its /proc files to root.
  EXPECT_EQ(store->status_for_test(), "pid=" + std::to_string(key_pid) + " dumpable=0");
  if (::getuid() != 0) {
    struct stat st {};
    ASSERT_EQ(::stat(("/proc/" + std::to_string(key_pid) + "/mem").c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, 0U);
  }
  ASSERT_EQ(::kill(key_pid, SIGKILL), 0);
  // The first handshake after the kill may fail; the next ones must succeed.
  int ok = 0;
  for (int i = 0; i < 20 && ok < 5; ++i) {
    ok += tls_probe(relay.port(), "fe.test").ok ? 1 : 0;
  }
  EXPECT_EQ(ok, 5);
  EXPECT_TRUE(sink->contains({"key process pid=" + std::to_string(key_pid),
                              "was killed by signal 9; restarted as pid=", "(1 keys reloaded)"}))
      << testing::PrintToString(sink->lines());
  auto after = child_pids(::getpid(), "--key-process");
  ASSERT_EQ(after.size(), 1U);
  EXPECT_NE(after[0], key_pid);
}

// --- fork safety -----------------------------------------------------------------------------

TEST(ForkSafety, ChildReseedsAndDrawsDifferentBytes) {
  std::vector<unsigned char> warm(16);
  ASSERT_EQ(RAND_bytes(warm.data(), 16), 1);  // the parent's generator is in use before fork
  std::vector<std::vector<unsigned char>> draws;
  for (int child = 0; child < 2; ++child) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      unsigned char b[32];
      const bool seeded = keys::reseed_rng_after_fork();
      const bool ok = seeded && RAND_bytes(b, sizeof b) == 1;
      if (ok) {
        (void)!::write(fds[1], b, sizeof b);
      }
      ::_exit(ok ? 0 : 1);
    }
    ::close(fds[1]);
    std::vector<unsigned char> b(32);
    ssize_t got = 0;
    while (got < 32) {
      const ssize_t n = ::read(fds[0], b.data() + got, static_cast<std::size_t>(32 - got));
      if (n <= 0) {
        break;
      }
      got += n;
    }
    ::close(fds[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    ASSERT_EQ(got, 32);
    draws.push_back(b);
  }
  std::vector<unsigned char> parent(32);
  ASSERT_EQ(RAND_bytes(parent.data(), 32), 1);
  EXPECT_NE(draws[0], parent);
  EXPECT_NE(draws[1], parent);
  EXPECT_NE(draws[0], draws[1]);
}

// --- the network process's memory (kiteline run as a child process) -------------------------

class NetworkProcessMemory : public testing::TestWithParam<const char*> {};

TEST_P(NetworkProcessMemory, HoldsNoKeyBytesWhileHandshakesSucceed) {
  temp_dir dir;
  test_key key(GetParam());
  const std::string pem = write_pair(dir, key, 0x42);
  const auto needles = key.needles();
  ASSERT_GE(needles.size(), 5U);
  for (const bool isolated : {true, false}) {
    std::vector<std::string> args{"--threads=2", "--tls_endpoint=fe.test:" + pem,
                                  "--tls_default=fe.test"};
    if (!isolated) {
      args.emplace_back("--tls_keys_inprocess");
    }
    child_relay relay(args);
    ASSERT_TRUE(relay.ok()) << relay.log();
    auto relay_pid = child_pids(relay.pid(), "frontend");
    ASSERT_EQ(relay_pid.size(), 1U);
    for (int i = 0; i < 10; ++i) {
      auto r = tls_probe(relay.port(), "fe.test", i % 2 == 0 ? TLS1_3_VERSION : TLS1_2_VERSION);
      ASSERT_TRUE(r.ok) << r.error << relay.log();
      EXPECT_EQ(r.serial, "0x42");
    }
    std::string where;
    std::uint64_t scanned = 0;
    const std::size_t hits = scan_memory(relay_pid[0], needles, where, scanned);
    EXPECT_GT(scanned, 1U << 20) << where;
    if (isolated) {
      EXPECT_EQ(hits, 0U) << "key bytes in the network process: " << where;
      EXPECT_EQ(child_pids(relay_pid[0], "--key-process").size(), 1U);
    } else {
      // Control: the same scan does find the key when it lives in the process.
      EXPECT_GE(hits, 1U) << "the scan cannot see an in-process key";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Keys, NetworkProcessMemory, testing::Values("rsa2048", "p256"));

TEST(ChildRelayKeys, KillingTheKeyProcessIsSurvived) {
  temp_dir dir;
  test_key key("p256");
  const std::string pem = write_pair(dir, key, 0x43);
  child_relay relay({"--tls_endpoint=fe.test:" + pem});
  ASSERT_TRUE(relay.ok()) << relay.log();
  auto relay_pid = child_pids(relay.pid(), "frontend");
  ASSERT_EQ(relay_pid.size(), 1U);
  ASSERT_TRUE(tls_probe(relay.port(), "fe.test").ok);
  auto keyd = child_pids(relay_pid[0], "--key-process");
  ASSERT_EQ(keyd.size(), 1U);
  ASSERT_EQ(::kill(keyd[0], SIGKILL), 0);
  // Within 5 s: the bound of the wait is the assertion.
  ASSERT_TRUE(wait_for([&] { return tls_probe(relay.port(), "fe.test").ok; }, 5s,
                       "TLS through a restarted key process"));
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(tls_probe(relay.port(), "fe.test").ok);
  }
  EXPECT_TRUE(relay.wait_for_log("key process pid=" + std::to_string(keyd[0]) +
                                 " was killed by signal 9; restarted as pid="));
}

// The connector's client certificate (--tls_client_cert, mutual TLS): its key is in a key
// process too, and the connector still authenticates its kite with it.
class ConnectorProcessMemory : public testing::TestWithParam<const char*> {};

TEST_P(ConnectorProcessMemory, HoldsNoClientKeyBytesWhileTheKiteIsServed) {
  temp_dir dir;
  test_key key(GetParam());
  const std::string pem = dir.file("client.pem");
  const std::string ca = dir.file("client-ca.pem");
  const std::string cert = cert_pem(key, 0x51, -1h, day, "cert.example");
  write_file_atomically(pem, key_pem(key) + cert);
  write_file_atomically(ca, cert);  // self-signed, CA:TRUE: its own CA
  const std::string site = dir.file("site");
  std::filesystem::create_directory(site);
  write_file_atomically(site + "/hello.txt", "hello from a certified connector\n");
  const auto needles = key.needles();
  ASSERT_GE(needles.size(), 5U);

  relay_options ro;
  ro.tls_names = {"fe.test"};
  ro.tls_default = "fe.test";
  ro.extra_args = {"--tls_client_ca=" + ca, "--tls_client_required"};
  loopback_relay relay(ro);
  ASSERT_TRUE(relay.ok()) << relay.error();
  for (const bool isolated : {true, false}) {
    std::vector<std::string> args{"--frontend=127.0.0.1:" + std::to_string(relay.port()),
                                  "--fe_certname=fe.test", "--ca_certs=" + relay.ca_file(),
                                  "--tls_client_cert=" + pem};
    if (!isolated) {
      args.emplace_back("--tls_keys_inprocess");
    }
    args.insert(args.end(), {site, "cert.example"});
    child_connector conn(args);
    ASSERT_TRUE(conn.ok()) << conn.log() << relay.log_dump();
    EXPECT_EQ(http_exchange(relay.port(), http_get("cert.example", "/hello.txt")).body_text(),
              "hello from a certified connector\n");
    auto pid = child_pids(conn.pid(), "backend");
    ASSERT_EQ(pid.size(), 1U);
    std::string where;
    std::uint64_t scanned = 0;
    const std::size_t hits = scan_memory(pid[0], needles, where, scanned);
    EXPECT_GT(scanned, 1U << 20) << where;
    if (isolated) {
      EXPECT_EQ(hits, 0U) << "client key bytes in the connector: " << where;
      EXPECT_EQ(child_pids(pid[0], "--key-process").size(), 1U);
      EXPECT_TRUE(conn.wait_for_log("private key in the key process"));
    } else {
      EXPECT_GE(hits, 1U) << "the scan cannot see an in-process key";
      EXPECT_EQ(child_pids(pid[0], "--key-process").size(), 0U);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Keys, ConnectorProcessMemory, testing::Values("rsa2048", "p256"));

// --- certificate reload ----------------------------------------------------------------------

TEST(CertificateReload, SighupRefusesMismatchedAndExpiredThenTakesAGoodPair) {
  temp_dir dir;
  test_key a("p256");
  test_key b("rsa2048");
  const std::string pem = write_pair(dir, a, 0x01);
  child_relay relay({"--tls_endpoint=fe.test:" + pem, "--tls_reload_seconds=0"});
  ASSERT_TRUE(relay.ok()) << relay.log();
  auto relay_pid = child_pids(relay.pid(), "frontend");
  ASSERT_EQ(relay_pid.size(), 1U);
  ASSERT_EQ(tls_probe(relay.port(), "fe.test").serial, "0x01");

  // Key A with a certificate for key B: the key process refuses it.
  write_file_atomically(pem, key_pem(a) + cert_pem(b, 0x02, -1h, day));
  ASSERT_EQ(::kill(relay_pid[0], SIGHUP), 0);
  EXPECT_TRUE(relay.wait_for_log("certificate reload for fe.test refused: certificate does not "
                                 "match private key (kept serial 0x01)"));
  EXPECT_EQ(tls_probe(relay.port(), "fe.test").serial, "0x01");

  // A matching but expired pair.
  write_file_atomically(pem, key_pem(b) + cert_pem(b, 0x03, -3 * day, -day));
  ASSERT_EQ(::kill(relay_pid[0], SIGHUP), 0);
  EXPECT_TRUE(relay.wait_for_log("certificate reload for fe.test refused: certificate has "
                                 "expired (notAfter "));
  EXPECT_TRUE(relay.wait_for_log("(kept serial 0x01)"));
  EXPECT_EQ(tls_probe(relay.port(), "fe.test").serial, "0x01");

  // Not yet valid.
  write_file_atomically(pem, key_pem(b) + cert_pem(b, 0x05, day, 2 * day));
  ASSERT_EQ(::kill(relay_pid[0], SIGHUP), 0);
  EXPECT_TRUE(relay.wait_for_log("refused: certificate is not yet valid (notBefore "));

  // A good pair (another key type, even): taken.
  write_file_atomically(pem, key_pem(b) + cert_pem(b, 0x04, -1h, day));
  ASSERT_EQ(::kill(relay_pid[0], SIGHUP), 0);
  EXPECT_TRUE(relay.wait_for_log(
      "certificate reload for fe.test: serial 0x04 installed (was 0x01)"));
  auto r = tls_probe(relay.port(), "fe.test");
  EXPECT_EQ(r.serial, "0x04");
  EXPECT_EQ(r.sigalg, "RSA-PSS");
}

TEST(CertificateReload, FileChangeIsPolledAndTheCaIsChecked) {
  temp_dir dir;
  test_key a("p256");
  test_key b("p256");
  const std::string pem = dir.file("fe.pem");
  const std::string ca = dir.file("ca.pem");
  test_key ca_key("p256");
  const std::string first = cert_pem(a, 0x11, -1h, day, "fe.test", &ca_key);
  const std::string third = cert_pem(a, 0x13, -1h, day, "fe.test", &ca_key);
  write_file_atomically(ca, cert_pem(ca_key, 1, -1h, day, "kiteline test CA"));
  write_file_atomically(pem, key_pem(a) + first);
  relay_options o = tls_relay(pem, nullptr);  // keys in-process: the checks are the same
  o.extra_args = {"--tls_reload_seconds=1", "--tls_endpoint_ca=" + ca};
  loopback_relay relay(o);
  ASSERT_TRUE(relay.ok()) << relay.error();
  ASSERT_EQ(tls_probe(relay.port(), "fe.test").serial, "0x11");
  // A valid pair the CA did not issue (self-signed): refused by the poller (no SIGHUP).
  write_file_atomically(pem, key_pem(b) + cert_pem(b, 0x12, -1h, day));
  EXPECT_TRUE(relay.wait_for_log({"certificate reload for fe.test refused: certificate does not "
                                  "verify against CA " + ca + ": self-signed certificate",
                                  "(kept serial 0x11)"},
                                 10s));
  EXPECT_EQ(tls_probe(relay.port(), "fe.test").serial, "0x11");
  write_file_atomically(pem, key_pem(a) + third);
  EXPECT_TRUE(relay.wait_for_log({"serial 0x13 installed (was 0x11)"}, 10s));
  EXPECT_EQ(tls_probe(relay.port(), "fe.test").serial, "0x13");
}

TEST(CertificateReload, GoodPairTakenWhileATransferThroughATlsTunnelCompletes) {
  temp_dir dir;
  test_key a("p256");
  test_key b("p256");
  const std::string pem = dir.file("fe.pem");
  const std::string ca = dir.file("ca.pem");
  const std::string old_cert = cert_pem(a, 0x21, -1h, day);
  write_file_atomically(ca, old_cert);
  write_file_atomically(pem, key_pem(a) + old_cert);
  relay_options o = tls_relay(pem, isolated_store(pem));
  o.extra_args = {"--tls_reload_seconds=1"};
  loopback_relay relay(o);
  ASSERT_TRUE(relay.ok()) << relay.error();

  // The tunnel: CONNECT fe.test:443 + TLS with the old certificate.
  constexpr std::uint64_t size = 24U << 20;
  auto copts = with_kites({{"http", "foo.test"}});
  copts.tls = true;
  copts.tls_connect_name = "fe.test";
  copts.tls_sni = "fe.test";
  copts.ca_file = ca;
  copts.handler = behaviour::serve_pattern(size, 77);
  fake_connector c(relay.port(), copts);
  auto out = c.connect_flow_b();
  ASSERT_TRUE(out.tunnel_up) << out.error << relay.log_dump();

  test_socket v;
  ASSERT_TRUE(v.connect(relay.port()));
  ASSERT_TRUE(v.send_all(http_get("foo.test")));
  const std::string head = v.read_head();
  ASSERT_NE(head.find("200 OK"), std::string::npos) << head;
  sha256 h;
  std::uint64_t got = 0;
  auto read_upto = [&](std::uint64_t limit) {
    std::vector<std::byte> buf(64 * 1024);
    while (got < limit) {
      std::size_t n = 0;
      auto st = v.read_some(std::span<std::byte>(buf.data(), std::min<std::uint64_t>(
                                                                 buf.size(), limit - got)),
                            n, test_timeout());
      if (st != read_status::data) {
        return false;
      }
      h.update(std::span<const std::byte>(buf.data(), n));
      got += n;
    }
    return true;
  };
  ASSERT_TRUE(read_upto(2U << 20));

  // Mid-transfer: a new pair appears; the poller installs it.
  write_file_atomically(pem, key_pem(b) + cert_pem(b, 0x22, -1h, day));
  ASSERT_TRUE(relay.wait_for_log({"certificate reload for fe.test: serial 0x22 installed "
                                  "(was 0x21)"},
                                 10s));
  EXPECT_EQ(tls_probe(relay.port(), "fe.test").serial, "0x22");

  ASSERT_TRUE(read_upto(size)) << "transfer broken after reload at " << got;
  EXPECT_EQ(got, size);
  EXPECT_EQ(h.hex(), pattern(77).sha256_of(size));
  EXPECT_EQ(relay.server().tunnel_count(), 1U);
}

}  // namespace
}  // namespace kiteline::test
