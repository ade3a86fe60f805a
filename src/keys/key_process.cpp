// The key process: holds the private keys and performs only private-key operations for the
// network process, one request per datagram on each channel (titus-style key isolation).
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include <sched.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "keys/key_protocol.hpp"
#include "keys/key_store.hpp"
#include "tls/openssl_error.hpp"

namespace kiteline::keys {

namespace {

using key_protocol::op;
using key_protocol::request_head;
using key_protocol::response_head;

/// The keys this process holds, by the client's key id. Shared by the channel threads. Its
/// generation changes with every put and erase, so each thread can drop the prepared
/// operations of keys that are gone (a reload replaced them) from its own cache.
class key_table {
 public:
  void put(std::uint32_t id, std::shared_ptr<EVP_PKEY> key) {
    std::lock_guard lk(mu_);
    keys_[id] = std::move(key);
    generation_.fetch_add(1, std::memory_order_release);
  }
  std::shared_ptr<EVP_PKEY> get(std::uint32_t id) {
    std::lock_guard lk(mu_);
    auto it = keys_.find(id);
    return it == keys_.end() ? nullptr : it->second;
  }
  void erase(std::uint32_t id) {
    std::lock_guard lk(mu_);
    keys_.erase(id);
    generation_.fetch_add(1, std::memory_order_release);
  }
  /// True if `key` is still held under some id.
  bool holds(const std::shared_ptr<EVP_PKEY>& key) {
    std::lock_guard lk(mu_);
    return std::any_of(keys_.begin(), keys_.end(),
                       [&](const auto& e) { return e.second == key; });
  }
  [[nodiscard]] std::uint64_t generation() const noexcept {
    return generation_.load(std::memory_order_acquire);
  }

 private:
  std::mutex mu_;
  std::map<std::uint32_t, std::shared_ptr<EVP_PKEY>> keys_;
  std::atomic<std::uint64_t> generation_{0};
};

struct pkey_ctx_deleter {
  void operator()(EVP_PKEY_CTX* c) const noexcept { ::EVP_PKEY_CTX_free(c); }
};

void put_u32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  const auto* p = reinterpret_cast<const std::uint8_t*>(&v);
  out.insert(out.end(), p, p + sizeof v);
}

/// A private-key operation set up once and reused: EVP_PKEY_CTX_new + *_init cost a provider
/// fetch under OpenSSL 3.0's locks on every call, which the channel threads would otherwise pay
/// (and contend for) on every handshake. One cache per channel thread; an entry holds its key,
/// so a key replaced under the same id (reload) never meets an old context.
struct prepared_op {
  std::shared_ptr<EVP_PKEY> key;
  op what{};
  std::uint32_t param = 0;
  std::unique_ptr<EVP_PKEY_CTX, pkey_ctx_deleter> ctx;
};
using op_cache = std::vector<prepared_op>;
constexpr std::size_t max_prepared_ops = 16;

/// The prepared context for (key, what, param), set up on first use. nullptr + error if the
/// key cannot do it.
EVP_PKEY_CTX* prepare(op_cache& cache, const std::shared_ptr<EVP_PKEY>& key, op what,
                      std::uint32_t param, std::string& error) {
  for (auto& p : cache) {
    if (p.key == key && p.what == what && p.param == param) {
      return p.ctx.get();
    }
  }
  std::unique_ptr<EVP_PKEY_CTX, pkey_ctx_deleter> ctx(::EVP_PKEY_CTX_new(key.get(), nullptr));
  const bool is_rsa = ::EVP_PKEY_is_a(key.get(), "RSA") == 1;
  if (!ctx || (what == op::ecdsa_sign) == is_rsa) {
    error = "wrong key type for this operation";
    return nullptr;
  }
  const bool decrypt = what == op::rsa_private_decrypt;
  if ((decrypt ? ::EVP_PKEY_decrypt_init(ctx.get()) : ::EVP_PKEY_sign_init(ctx.get())) <= 0 ||
      (is_rsa && ::EVP_PKEY_CTX_set_rsa_padding(ctx.get(), static_cast<int>(param)) <= 0)) {
    error = "cannot set up the operation: " + tls::drain_openssl_errors();
    return nullptr;
  }
  if (cache.size() >= max_prepared_ops) {
    cache.erase(cache.begin());
  }
  cache.push_back(prepared_op{key, what, param, std::move(ctx)});
  return cache.back().ctx.get();
}

void forget_prepared(op_cache& cache, const EVP_PKEY_CTX* ctx) {
  std::erase_if(cache, [&](const prepared_op& p) { return p.ctx.get() == ctx; });
}

/// One private-key operation (sign or decrypt) with the real key. Returns false + error.
bool private_op(op_cache& cache, const std::shared_ptr<EVP_PKEY>& key, op what,
                std::uint32_t param, std::span<const std::uint8_t> in,
                std::vector<std::uint8_t>& out, std::string& error) {
  EVP_PKEY_CTX* ctx = prepare(cache, key, what, param, error);
  if (ctx == nullptr) {
    return false;
  }
  const bool decrypt = what == op::rsa_private_decrypt;
  const int max_size = ::EVP_PKEY_get_size(key.get());
  if (max_size <= 0) {
    error = "key has no size";
    return false;
  }
  out.resize(static_cast<std::size_t>(max_size));
  std::size_t n = out.size();
  const int done = decrypt ? ::EVP_PKEY_decrypt(ctx, out.data(), &n, in.data(), in.size())
                           : ::EVP_PKEY_sign(ctx, out.data(), &n, in.data(), in.size());
  if (done <= 0) {
    error = "operation failed: " + tls::drain_openssl_errors();
    forget_prepared(cache, ctx);  // set it up afresh next time
    return false;
  }
  out.resize(n);
  return true;
}

/// Handles one request; fills `out` with the reply payload. Returns false + error text.
bool handle(const request_head& h, std::span<const std::uint8_t> in,
            const std::vector<std::string>& files, key_table& keys, op_cache& cache,
            std::vector<std::uint8_t>& out, std::string& error) {
  switch (static_cast<op>(h.op)) {
    case op::load: {
      if (h.param >= files.size()) {
        error = "no such key file";
        return false;
      }
      outcome<tls::pem_pair> loaded = tls::load_pem_pair(files[h.param]);
      if (!loaded) {
        error = loaded.error().message();  // the reply's text
        return false;
      }
      tls::pem_pair& pair = *loaded;
      const auto ders = chain_der(pair.chain);
      put_u32(out, static_cast<std::uint32_t>(ders.size()));
      for (const auto& d : ders) {
        put_u32(out, static_cast<std::uint32_t>(d.size()));
        out.insert(out.end(), d.begin(), d.end());
      }
      if (out.size() + sizeof(response_head) > key_protocol::max_message) {
        error = "certificate chain too large";
        return false;
      }
      keys.put(h.key_id, std::shared_ptr<EVP_PKEY>(pair.key.release(), tls::pkey_deleter{}));
      return true;
    }
    case op::rsa_private_encrypt:
    case op::rsa_private_decrypt:
    case op::ecdsa_sign: {
      auto key = keys.get(h.key_id);
      if (!key) {
        error = "unknown key id " + std::to_string(h.key_id);
        return false;
      }
      return private_op(cache, key, static_cast<op>(h.op), h.param, in, out, error);
    }
    case op::unload:
      keys.erase(h.key_id);  // each thread's cache lets go of it at its next request
      return true;
    case op::status:
      put_u32(out, static_cast<std::uint32_t>(::prctl(PR_GET_DUMPABLE, 0, 0, 0, 0)));
      put_u32(out, static_cast<std::uint32_t>(::getpid()));
      return true;
  }
  error = "unknown operation";
  return false;
}

/// Keeps a channel's thread on the CPU its requests come from (request_head::cpu): the
/// requester sleeps in poll() right after sending, so the key thread then runs on that CPU at
/// once, and no other CPU has to be woken (an inter-processor interrupt, a costly exit on a
/// virtual machine). Only CPUs the key process was allowed at start are used.
class cpu_follower {
 public:
  cpu_follower() {
    CPU_ZERO(&allowed_);
    if (::sched_getaffinity(0, sizeof allowed_, &allowed_) != 0) {
      CPU_ZERO(&allowed_);
    }
  }
  void follow(std::int32_t cpu) {
    if (cpu < 0 || cpu == current_ || cpu >= CPU_SETSIZE) {
      return;
    }
    const auto c = static_cast<std::size_t>(cpu);
    if (!CPU_ISSET(c, &allowed_)) {
      return;
    }
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(c, &one);
    if (::sched_setaffinity(0, sizeof one, &one) == 0) {
      current_ = cpu;
    } else {
      CPU_CLR(c, &allowed_);  // e.g. not in our cpuset: do not try it on every request
    }
  }

 private:
  cpu_set_t allowed_;
  std::int32_t current_ = -1;
};

/// Serves one channel until the network process closes it (or it fails).
void serve_channel(int fd, const std::vector<std::string>& files, key_table& keys) {
  std::vector<std::uint8_t> buf(key_protocol::max_message);
  std::vector<std::uint8_t> reply;
  std::vector<std::uint8_t> out;
  op_cache cache;
  cpu_follower placement;
  std::uint64_t seen_generation = keys.generation();
  for (;;) {
    const ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      break;
    }
    request_head h;
    const auto got = static_cast<std::size_t>(n);
    std::string error;
    out.clear();
    bool ok = false;
    if (got < sizeof h) {
      error = "short request";
    } else {
      std::memcpy(&h, buf.data(), sizeof h);
      placement.follow(h.cpu);
      if (h.length != got - sizeof h) {
        error = "bad request length";
      } else {
        ok = handle(h, std::span<const std::uint8_t>(buf.data() + sizeof h, h.length), files,
                    keys, cache, out, error);
      }
    }
    if (!ok) {
      out.assign(error.begin(), error.end());
    }
    // A key unloaded or replaced (by any channel) leaves this thread's cache too, so the key
    // process does not keep a superseded private key alive in a prepared context.
    if (const auto g = keys.generation(); g != seen_generation) {
      seen_generation = g;
      std::erase_if(cache, [&](const prepared_op& p) { return !keys.holds(p.key); });
    }
    response_head r{ok ? 0U : 1U, static_cast<std::uint32_t>(out.size())};
    reply.resize(sizeof r + out.size());
    std::memcpy(reply.data(), &r, sizeof r);
    std::memcpy(reply.data() + sizeof r, out.data(), out.size());
    // Scrub what held a decrypted secret or a signature input; cheap and bounded.
    ::OPENSSL_cleanse(buf.data(), static_cast<std::size_t>(n));
    if (::send(fd, reply.data(), reply.size(), MSG_NOSIGNAL) < 0) {
      break;
    }
  }
  ::close(fd);
}

}  // namespace

bool reseed_rng_after_fork() {
  unsigned char seed[48];
  std::size_t got = 0;
  for (int tries = 0; got < sizeof seed && tries < 16; ++tries) {
    const ssize_t n = ::getrandom(seed + got, sizeof seed - got, 0);
    if (n > 0) {
      got += static_cast<std::size_t>(n);
    } else if (n < 0 && errno != EINTR) {
      break;
    }
  }
  if (got == sizeof seed) {
    ::RAND_seed(seed, static_cast<int>(sizeof seed));
  }
  ::OPENSSL_cleanse(seed, sizeof seed);
  return ::RAND_poll() == 1 && got == sizeof seed;
}

int run_key_process(int argc, char** argv) {
  // Before anything else: no core dumps, no ptrace by same-uid processes, /proc/PID/mem closed.
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  const rlimit no_core{0, 0};
  ::setrlimit(RLIMIT_CORE, &no_core);
  // Die with the network process (PDEATHSIG, or all channels closed). Signals sent to the
  // whole process group (Ctrl-C, hang-up, `timeout`, `kill -- -PGID`) are for the parent,
  // which then closes the channels.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  std::signal(SIGPIPE, SIG_IGN);
  std::signal(SIGINT, SIG_IGN);
  std::signal(SIGHUP, SIG_IGN);
  std::signal(SIGTERM, SIG_IGN);
  if (::getppid() == 1) {
    return 1;  // the parent died before PDEATHSIG was armed
  }
  if (!reseed_rng_after_fork()) {
    std::fprintf(stderr, "kiteline key process: cannot seed the random generator\n");
    return 1;
  }
  if (argc < 3) {
    std::fprintf(stderr, "kiteline key process: usage: %s CHANNELS FILE...\n", argv[0]);
    return 2;
  }
  const int channels = std::atoi(argv[2]);
  if (channels <= 0 || channels > 256) {
    return 2;
  }
  std::vector<std::string> files(argv + 3, argv + argc);
  key_table keys;
  std::vector<std::thread> threads;
  threads.reserve(static_cast<std::size_t>(channels));
  for (int i = 0; i < channels; ++i) {
    threads.emplace_back(serve_channel, key_protocol::first_channel_fd + i, std::cref(files),
                         std::ref(keys));
  }
  for (auto& t : threads) {
    t.join();
  }
  return 0;
}

}  // namespace kiteline::keys
