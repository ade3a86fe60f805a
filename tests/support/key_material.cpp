#include "support/key_material.hpp"

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include "support/tls_client.hpp"

namespace kiteline::test {

namespace {

constexpr const char* test_ca_name = "kiteline test CA";

std::vector<std::uint8_t> bn_bytes(const BIGNUM* bn) {
  std::vector<std::uint8_t> out(static_cast<std::size_t>(BN_num_bytes(bn)));
  BN_bn2bin(bn, out.data());
  return out;
}

X509* make_cert(const test_key& key, long serial, std::chrono::seconds not_before,
                std::chrono::seconds not_after, const std::string& name,
                const test_key* issuer) {
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
  X509_gmtime_adj(X509_getm_notBefore(x), static_cast<long>(not_before.count()));
  X509_gmtime_adj(X509_getm_notAfter(x), static_cast<long>(not_after.count()));
  X509_set_pubkey(x, key.get());
  X509_NAME* subject = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(name.c_str()), -1, -1, 0);
  if (issuer != nullptr) {
    X509_NAME* in = X509_NAME_new();
    X509_NAME_add_entry_by_txt(in, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>(test_ca_name), -1, -1, 0);
    X509_set_issuer_name(x, in);
    X509_NAME_free(in);
  } else {
    X509_set_issuer_name(x, subject);
  }
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, x, x, nullptr, nullptr, 0);
  const std::string san = "DNS:" + name;
  for (auto [nid, value] :
       {std::pair<int, std::string>{NID_subject_alt_name, san},
        {NID_basic_constraints, issuer != nullptr ? "critical,CA:FALSE" : "critical,CA:TRUE"}}) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &v3, nid, value.c_str());
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
  }
  X509_sign(x, (issuer != nullptr ? issuer : &key)->get(), EVP_sha256());
  return x;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

std::string kiteline_binary() { return KITELINE_BINARY; }

// --- keys and certificates -------------------------------------------------------------------

test_key::test_key(const std::string& type) {
  if (type == "rsa2048") {
    key_ = EVP_RSA_gen(2048);
  } else if (type == "p256") {
    key_ = EVP_EC_gen("P-256");
  } else if (type == "p384") {
    key_ = EVP_EC_gen("P-384");
  }
}

test_key::~test_key() { EVP_PKEY_free(key_); }

std::vector<std::vector<std::uint8_t>> test_key::needles() const {
  std::vector<std::vector<std::uint8_t>> out;
  // PKCS#8 DER.
  unsigned char* der = nullptr;
  const int n = i2d_PrivateKey(key_, &der);
  if (n > 0) {
    out.emplace_back(der, der + n);
    OPENSSL_free(der);
  }
  // The PEM body, line by line.
  BIO* mem = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(mem, key_, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  const long len = BIO_get_mem_data(mem, &data);
  std::istringstream lines(std::string(data, static_cast<std::size_t>(len)));
  for (std::string line; std::getline(lines, line);) {
    if (line.size() >= 40 && line.find("-----") == std::string::npos) {
      out.emplace_back(line.begin(), line.end());
    }
  }
  BIO_free(mem);
  // The private numbers, as stored big-endian and as BIGNUM limbs (little-endian on x86-64).
  std::vector<const char*> params;
  if (EVP_PKEY_is_a(key_, "RSA") == 1) {
    params = {OSSL_PKEY_PARAM_RSA_D, OSSL_PKEY_PARAM_RSA_FACTOR1, OSSL_PKEY_PARAM_RSA_FACTOR2};
  } else {
    params = {OSSL_PKEY_PARAM_PRIV_KEY};
  }
  for (const char* p : params) {
    BIGNUM* bn = nullptr;
    if (EVP_PKEY_get_bn_param(key_, p, &bn) == 1) {
      auto be = bn_bytes(bn);
      std::vector<std::uint8_t> le(be.rbegin(), be.rend());
      // 24 bytes of a 256-bit (or larger) secret cannot occur by chance.
      be.resize(std::min<std::size_t>(be.size(), 24));
      le.resize(std::min<std::size_t>(le.size(), 24));
      out.push_back(std::move(be));
      out.push_back(std::move(le));
      BN_clear_free(bn);
    }
  }
  return out;
}

std::string cert_pem(const test_key& key, long serial, std::chrono::seconds not_before,
                     std::chrono::seconds not_after, const std::string& name,
                     const test_key* issuer) {
  X509* x = make_cert(key, serial, not_before, not_after, name, issuer);
  BIO* mem = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(mem, x);
  char* data = nullptr;
  const long len = BIO_get_mem_data(mem, &data);
  std::string out(data, static_cast<std::size_t>(len));
  BIO_free(mem);
  X509_free(x);
  return out;
}

std::string key_pem(const test_key& key) {
  BIO* mem = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(mem, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  const long len = BIO_get_mem_data(mem, &data);
  std::string out(data, static_cast<std::size_t>(len));
  BIO_free(mem);
  return out;
}

void write_file_atomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
  }
  std::filesystem::rename(tmp, path);
}

temp_dir::temp_dir() {
  char tmpl[] = "/tmp/kiteline-keys-XXXXXX";
  if (::mkdtemp(tmpl) != nullptr) {
    path_ = tmpl;
  }
}

temp_dir::~temp_dir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

// --- TLS probe -------------------------------------------------------------------------------

probe_result tls_probe(std::uint16_t port, const std::string& sni, int tls_version,
                       const std::string& sigalgs) {
  tls_client_options o;
  o.min_version = tls_version;
  o.max_version = tls_version;
  o.sni = sni;
  o.sigalgs = sigalgs;
  const auto h = tls_handshake(port, o);
  probe_result r;
  r.ok = h.ok;
  r.serial = h.serial;
  r.sigalg = h.sigalg;
  r.version = h.version == TLS1_3_VERSION   ? "TLSv1.3"
              : h.version == TLS1_2_VERSION ? "TLSv1.2"
                                            : std::to_string(h.version);
  r.error = h.error;
  return r;
}

// --- child relay -----------------------------------------------------------------------------

child_kiteline::child_kiteline(std::string role, std::vector<std::string> args,
                               const std::string& ready)
    : role_(std::move(role)), logfile_(dir_.file(role_ + ".log")) {
  // `timeout` bounds the child's life even if the test dies; it keeps its own process group.
  std::vector<std::string> full{"/usr/bin/timeout", "-s", "KILL",          "600",
                                kiteline_binary(),  role_, "--clean", "--logfile=" + logfile_};
  full.insert(full.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : full) {
    argv.push_back(s.data());
  }
  argv.push_back(nullptr);
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) {
    return;
  }
  pid_ = ::fork();
  if (pid_ == 0) {
    ::dup2(out[1], 1);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(out[1]);
  // Read standard output until the ready line (bounded).
  std::string text;
  const auto deadline = clock::now() + test_timeout();
  ::fcntl(out[0], F_SETFL, O_NONBLOCK);
  while (clock::now() < deadline) {
    const auto at = text.find(ready);
    if (at != std::string::npos && text.find('\n', at) != std::string::npos) {
      ready_line_ = text;
      break;
    }
    char buf[256];
    const ssize_t n = ::read(out[0], buf, sizeof buf);
    if (n > 0) {
      text.append(buf, static_cast<std::size_t>(n));
    } else if (n == 0) {
      break;
    } else {
      ::usleep(10000);
    }
  }
  ::close(out[0]);
}

child_kiteline::~child_kiteline() {
  if (pid_ <= 0) {
    return;
  }
  // pid_ is `timeout`; kiteline is its child. SIGTERM kiteline (clean stop), then reap.
  for (pid_t p : child_pids(pid_, role_)) {
    ::kill(p, SIGTERM);
  }
  const auto deadline = clock::now() + std::chrono::seconds(10);
  int status = 0;
  while (::waitpid(pid_, &status, WNOHANG) == 0) {
    if (clock::now() > deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      break;
    }
    ::usleep(10000);
  }
}

std::string child_kiteline::log() const { return read_file(logfile_); }

testing::AssertionResult child_kiteline::wait_for_log(const std::string& text,
                                                      milliseconds timeout) {
  auto r = wait_for([&] { return log().find(text) != std::string::npos; }, timeout, text);
  if (!r) {
    r << "\nlog:\n" << log();
  }
  return r;
}

testing::AssertionResult child_kiteline::wait_for_log_count(const std::string& text,
                                                            std::size_t n) {
  auto count = [&] {
    const std::string l = log();
    std::size_t c = 0;
    for (auto at = l.find(text); at != std::string::npos; at = l.find(text, at + 1)) {
      ++c;
    }
    return c;
  };
  auto r = wait_for([&] { return count() >= n; }, text);
  if (!r) {
    r << "\nlog:\n" << log();
  }
  return r;
}

namespace {
std::vector<std::string> with_front(std::vector<std::string> front,
                                    const std::vector<std::string>& args) {
  front.insert(front.end(), args.begin(), args.end());
  return front;
}
}  // namespace

child_relay::child_relay(std::vector<std::string> args)
    : child_kiteline("frontend",
                     with_front({"--host=127.0.0.1", "--ports=0",
                                 "--domain=http,https,raw:*.test:s3cret"},
                                args),
                     "ports=") {
  const auto at = ready_line().find("ports=");
  if (at != std::string::npos) {
    port_ = static_cast<std::uint16_t>(std::atoi(ready_line().c_str() + at + 6));
  }
}

child_connector::child_connector(std::vector<std::string> args)
    : child_kiteline("backend", std::move(args), " live on relay ") {}

std::vector<pid_t> child_pids(pid_t parent, const std::string& needle) {
  std::vector<pid_t> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = e.path().filename();
    if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) {
      continue;
    }
    const std::string stat = read_file(e.path().string() + "/stat");
    const auto close_paren = stat.rfind(')');
    if (close_paren == std::string::npos) {
      continue;
    }
    std::istringstream rest(stat.substr(close_paren + 2));
    char state = 0;
    long ppid = 0;
    rest >> state >> ppid;
    if (ppid != parent) {
      continue;
    }
    std::string cmdline = read_file(e.path().string() + "/cmdline");
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    if (cmdline.find(needle) != std::string::npos) {
      out.push_back(static_cast<pid_t>(std::stol(name)));
    }
  }
  return out;
}

std::size_t scan_memory(pid_t pid, const std::vector<std::vector<std::uint8_t>>& needles,
                        std::string& where, std::uint64_t& bytes_scanned) {
  bytes_scanned = 0;
  std::vector<bool> found(needles.size(), false);
  std::ifstream maps("/proc/" + std::to_string(pid) + "/maps");
  const int mem = ::open(("/proc/" + std::to_string(pid) + "/mem").c_str(), O_RDONLY | O_CLOEXEC);
  if (mem < 0) {
    where = "cannot open /proc/PID/mem";
    return 0;
  }
  std::size_t longest = 0;
  for (const auto& n : needles) {
    longest = std::max(longest, n.size());
  }
  std::vector<std::uint8_t> buf;
  for (std::string line; std::getline(maps, line);) {
    std::istringstream in(line);
    std::string range;
    std::string perms;
    in >> range >> perms;
    if (perms.empty() || perms[0] != 'r' || line.find("[vvar]") != std::string::npos) {
      continue;
    }
    const auto dash = range.find('-');
    std::uint64_t lo = std::stoull(range.substr(0, dash), nullptr, 16);
    const std::uint64_t hi = std::stoull(range.substr(dash + 1), nullptr, 16);
    // A relay has no 1 GiB mapping of its own; the sanitizers' shadow memory does (terabytes
    // of reserved zero pages): not scanned. The in-process control run shows the heap is.
    if (hi - lo > (std::uint64_t{1} << 30)) {
      continue;
    }
    // Read in 1 MiB windows overlapping by the longest needle.
    while (lo < hi) {
      const std::uint64_t len = std::min<std::uint64_t>(hi - lo, 1 << 20);
      buf.resize(len);
      const ssize_t n = ::pread(mem, buf.data(), len, static_cast<off_t>(lo));
      if (n <= 0) {
        break;
      }
      bytes_scanned += static_cast<std::uint64_t>(n);
      const auto end = buf.begin() + n;
      for (std::size_t i = 0; i < needles.size(); ++i) {
        if (!found[i] &&
            std::search(buf.begin(), end, std::boyer_moore_horspool_searcher(
                                              needles[i].begin(), needles[i].end())) != end) {
          found[i] = true;
          if (where.empty()) {
            where = "needle " + std::to_string(i) + " in " + line;
          }
        }
      }
      if (lo + len >= hi) {
        break;
      }
      lo += len - std::min<std::uint64_t>(len, longest);
    }
  }
  ::close(mem);
  return static_cast<std::size_t>(std::count(found.begin(), found.end(), true));
}

}  // namespace kiteline::test
