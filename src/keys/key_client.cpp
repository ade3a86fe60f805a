// The network side of key isolation: starts (and restarts) the key process and builds proxy
// keys whose private operations are requests to it.
//
// Why the legacy RSA_METHOD / EC_KEY_METHOD hooks and not an OpenSSL 3 provider: a key with a
// non-default method is "foreign" to OpenSSL 3, so every EVP operation on it (TLS 1.2 and 1.3
// CertificateVerify / ServerKeyExchange, PKCS#1 v1.5 and PSS, ECDSA) takes the legacy path and
// ends in exactly two hooks: RSA private encrypt/decrypt (PSS and DigestInfo encoding are done
// by libcrypto before the hook) and ECDSA sign. A provider needs keymgmt + signature + asym
// cipher implementations that redo that encoding. The hooks are deprecated in 3.0 but
// supported throughout 3.x; the deprecation warnings are silenced in this file only.
#define OPENSSL_SUPPRESS_DEPRECATED 1  // RSA_METHOD / EC_KEY_METHOD, see above

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/rsa.h>

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <thread>

#include "keys/key_protocol.hpp"
#include "keys/key_store.hpp"
#include "tls/openssl_error.hpp"

extern char** environ;  // NOLINT: POSIX, for fexecve

namespace kiteline::keys {

namespace {

using key_protocol::op;
using key_protocol::request_head;
using key_protocol::response_head;
using namespace std::chrono_literals;

/// A bound on every wait for the key process (one private-key operation takes microseconds).
constexpr auto reply_timeout = 5s;
constexpr auto yield_window = 2ms;  // an RSA-2048 signature takes ~0.3 ms, RSA-4096 ~2 ms

/// A channel's receive buffer: max_message bytes, allocated once and never zeroed, so only
/// the pages a reply touches become resident (a signature: one page).
using reply_buffer = std::unique_ptr<std::uint8_t[]>;
/// At most one restart attempt per this interval (a key process that cannot start must not
/// turn every handshake into a fork).
constexpr auto restart_interval = 200ms;

std::uint32_t get_u32(std::span<const std::uint8_t>& in, bool& ok) {
  std::uint32_t v = 0;
  if (in.size() < sizeof v) {
    ok = false;
    return 0;
  }
  std::memcpy(&v, in.data(), sizeof v);
  in = in.subspan(sizeof v);
  return v;
}

std::string describe_wait_status(int status) {
  if (WIFSIGNALED(status)) {
    return "was killed by signal " + std::to_string(WTERMSIG(status));
  }
  if (WIFEXITED(status)) {
    return "exited with status " + std::to_string(WEXITSTATUS(status));
  }
  return "stopped";
}

class key_client;

/// What a proxy key carries (RSA / EC_KEY app data, index 0): the client and the key id.
struct key_ref {
  std::shared_ptr<key_client> client;
  std::uint32_t id = 0;
};

/// One loaded key: its file (index into the allowed list) and its leaf certificate (DER), so a
/// restarted key process can be told to load it again and checked to hold the same pair.
struct loaded_key {
  std::uint32_t file = 0;
  std::vector<std::uint8_t> leaf_der;
};

class key_client final : public key_store, public std::enable_shared_from_this<key_client> {
 public:
  explicit key_client(key_process_options opts) : opts_(std::move(opts)) {}
  ~key_client() override;
  key_client(const key_client&) = delete;
  key_client& operator=(const key_client&) = delete;

  bool start(std::string& error);
  std::optional<tls::certified_key> load(const std::string& pem_file, std::string& error) override;
  [[nodiscard]] bool isolated() const noexcept override { return true; }
  [[nodiscard]] std::string status_for_test() override {
    std::vector<std::uint8_t> out;
    std::string error;
    if (!call(op::status, 0, 0, {}, out, error)) {
      return "error: " + error;
    }
    std::span<const std::uint8_t> in(out);
    bool ok = true;
    const std::uint32_t dumpable = get_u32(in, ok);
    const std::uint32_t pid = get_u32(in, ok);
    return "pid=" + std::to_string(pid) + " dumpable=" + std::to_string(dumpable);
  }

  /// One request/response, restarting the key process once if it died. Any thread.
  bool call(op what, std::uint32_t key_id, std::uint32_t param, std::span<const std::uint8_t> in,
            std::vector<std::uint8_t>& out, std::string& error, bool may_restart = true);
  /// Called from a proxy key's finish hook.
  void forget(std::uint32_t id);

  RSA_METHOD* rsa_method() const noexcept { return rsa_meth_; }
  EC_KEY_METHOD* ec_method() const noexcept { return ec_meth_; }

 private:
  bool spawn_locked(std::string& error);
  bool restart_locked(std::string& error);
  void stop_locked();
  tls::pkey_ptr make_proxy(X509* leaf, std::uint32_t id, std::string& error);

  key_process_options opts_;
  int exe_fd_ = -1;
  RSA_METHOD* rsa_meth_ = nullptr;
  EC_KEY_METHOD* ec_meth_ = nullptr;

  std::mutex mu_;
  std::condition_variable cv_;
  pid_t pid_ = -1;
  bool alive_ = false;
  std::uint64_t generation_ = 0;
  std::vector<int> idle_;  // channels of the current generation not in use
  struct channel_state {
    int cpu = -1;        // CPU of its last request (a placement hint)
    reply_buffer reply;  // used only by the caller holding the channel
  };
  std::map<int, channel_state> channels_;  // by fd
  std::map<std::uint32_t, loaded_key> loaded_;
  std::uint32_t next_id_ = 1;
  std::chrono::steady_clock::time_point last_spawn_{};
};

/// Sends one request on `fd` and waits (bounded) for its reply into `buf` (max_message
/// bytes). False + error on I/O failure (the key process is then considered dead); true with
/// `status` and `out` set otherwise.
bool exchange(int fd, std::uint8_t* buf, const request_head& h,
              std::span<const std::uint8_t> in, std::vector<std::uint8_t>& out,
              std::uint32_t& status, std::string& error) {
  iovec iov[2] = {{const_cast<request_head*>(&h), sizeof h},  // NOLINT: sendmsg does not write
                  {const_cast<std::uint8_t*>(in.data()), in.size()}};  // NOLINT
  msghdr m{};
  m.msg_iov = iov;
  m.msg_iovlen = in.empty() ? 1 : 2;
  if (::sendmsg(fd, &m, MSG_NOSIGNAL) != static_cast<ssize_t>(sizeof h + in.size())) {
    error = std::string("key process channel: ") + std::strerror(errno);
    return false;
  }
  // Wait for the reply without sleeping first: yield the CPU instead, for up to yield_window.
  // The channel's key-process thread follows this thread's CPU (request_head::cpu), so
  // yielding hands the CPU to it directly, and when the reply is sent this thread is still
  // runnable where it was: no wake-up of another CPU (an IPI, costly on a virtual machine),
  // no migration, three system calls per request. A long operation (RSA-4096) falls back to
  // poll().
  const auto start = std::chrono::steady_clock::now();
  ssize_t n = -1;
  for (;;) {
    n = ::recv(fd, buf, key_protocol::max_message, MSG_DONTWAIT);
    if (n >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) ||
        std::chrono::steady_clock::now() - start > yield_window) {
      break;
    }
    ::sched_yield();
  }
  pollfd p{fd, POLLIN, 0};
  const auto deadline = start + reply_timeout;
  while (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      error = "key process did not answer in time";
      return false;
    }
    if (::poll(&p, 1, static_cast<int>(left.count())) < 0 && errno != EINTR) {
      break;
    }
    n = ::recv(fd, buf, key_protocol::max_message, MSG_DONTWAIT);
  }
  response_head r;
  if (n < static_cast<ssize_t>(sizeof r)) {
    error = n == 0   ? "key process closed the channel"
            : n < 0 ? std::string("key process channel: ") + std::strerror(errno)
                    : "key process channel: short reply";
    return false;
  }
  std::memcpy(&r, buf, sizeof r);
  if (r.length != static_cast<std::size_t>(n) - sizeof r) {
    error = "key process channel: bad reply length";
    return false;
  }
  out.assign(buf + sizeof r, buf + n);
  status = r.status;
  return true;
}

// --- proxy hooks (C callbacks; they run inside libssl on a worker thread) -------------------

key_ref* rsa_ref(const RSA* rsa) { return static_cast<key_ref*>(::RSA_get_ex_data(rsa, 0)); }

int proxy_rsa_op(op what, int flen, const unsigned char* from, unsigned char* to, RSA* rsa,
                 int padding) {
  key_ref* ref = rsa_ref(rsa);
  if (ref == nullptr || flen < 0) {
    return -1;
  }
  std::vector<std::uint8_t> out;
  std::string error;
  if (!ref->client->call(what, ref->id, static_cast<std::uint32_t>(padding),
                         {from, static_cast<std::size_t>(flen)}, out, error) ||
      out.size() > static_cast<std::size_t>(::RSA_size(rsa))) {
    ERR_raise_data(ERR_LIB_RSA, ERR_R_INTERNAL_ERROR, "key process: %s", error.c_str());
    return -1;
  }
  std::memcpy(to, out.data(), out.size());
  return static_cast<int>(out.size());
}

int proxy_rsa_priv_enc(int flen, const unsigned char* from, unsigned char* to, RSA* rsa,
                       int padding) {
  return proxy_rsa_op(op::rsa_private_encrypt, flen, from, to, rsa, padding);
}

int proxy_rsa_priv_dec(int flen, const unsigned char* from, unsigned char* to, RSA* rsa,
                       int padding) {
  return proxy_rsa_op(op::rsa_private_decrypt, flen, from, to, rsa, padding);
}

int proxy_rsa_finish(RSA* rsa) {
  auto finish = ::RSA_meth_get_finish(::RSA_PKCS1_OpenSSL());
  const int r = finish != nullptr ? finish(rsa) : 1;
  if (key_ref* ref = rsa_ref(rsa)) {
    ::RSA_set_ex_data(rsa, 0, nullptr);
    ref->client->forget(ref->id);
    delete ref;
  }
  return r;
}

key_ref* ec_ref(const EC_KEY* ec) { return static_cast<key_ref*>(::EC_KEY_get_ex_data(ec, 0)); }

bool proxy_ecdsa(const unsigned char* dgst, int dlen, EC_KEY* ec, std::vector<std::uint8_t>& out) {
  key_ref* ref = ec_ref(ec);
  if (ref == nullptr || dlen < 0) {
    return false;
  }
  std::string error;
  if (!ref->client->call(op::ecdsa_sign, ref->id, 0, {dgst, static_cast<std::size_t>(dlen)}, out,
                         error)) {
    ERR_raise_data(ERR_LIB_EC, ERR_R_INTERNAL_ERROR, "key process: %s", error.c_str());
    return false;
  }
  return true;
}

int proxy_ec_sign(int /*type*/, const unsigned char* dgst, int dlen, unsigned char* sig,
                  unsigned int* siglen, const BIGNUM* /*kinv*/, const BIGNUM* /*r*/, EC_KEY* ec) {
  std::vector<std::uint8_t> out;
  if (!proxy_ecdsa(dgst, dlen, ec, out) ||
      out.size() > static_cast<std::size_t>(::ECDSA_size(ec))) {
    return 0;
  }
  std::memcpy(sig, out.data(), out.size());
  *siglen = static_cast<unsigned int>(out.size());
  return 1;
}

ECDSA_SIG* proxy_ec_sign_sig(const unsigned char* dgst, int dlen, const BIGNUM* /*kinv*/,
                             const BIGNUM* /*r*/, EC_KEY* ec) {
  std::vector<std::uint8_t> out;
  if (!proxy_ecdsa(dgst, dlen, ec, out)) {
    return nullptr;
  }
  const unsigned char* p = out.data();
  return ::d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(out.size()));
}

void proxy_ec_finish(EC_KEY* ec) {
  void (*finish)(EC_KEY*) = nullptr;
  ::EC_KEY_METHOD_get_init(::EC_KEY_OpenSSL(), nullptr, &finish, nullptr, nullptr, nullptr,
                           nullptr);
  if (finish != nullptr) {
    finish(ec);
  }
  if (key_ref* ref = ec_ref(ec)) {
    ::EC_KEY_set_ex_data(ec, 0, nullptr);
    ref->client->forget(ref->id);
    delete ref;
  }
}

// --- key_client ------------------------------------------------------------------------------

key_client::~key_client() {
  std::lock_guard lk(mu_);
  stop_locked();
  if (exe_fd_ >= 0) {
    ::close(exe_fd_);
  }
  ::RSA_meth_free(rsa_meth_);
  if (ec_meth_ != nullptr) {  // OpenSSL 3.0's EC_KEY_METHOD_free does not accept nullptr
    ::EC_KEY_METHOD_free(ec_meth_);
  }
}

void key_client::stop_locked() {
  for (int fd : idle_) {
    ::close(fd);
    channels_.erase(fd);  // a channel in use keeps its buffer: its holder closes and erases it
  }
  idle_.clear();
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
  }
  alive_ = false;
}

bool key_client::start(std::string& error) {
  const std::string exe = opts_.executable.empty() ? "/proc/self/exe" : opts_.executable;
  exe_fd_ = ::open(exe.c_str(), O_RDONLY | O_CLOEXEC);
  if (exe_fd_ < 0) {
    error = "cannot open " + exe + " for the key process: " + std::strerror(errno);
    return false;
  }
  if (opts_.channels == 0 || opts_.channels > 64) {
    error = "key process channels must be 1-64";
    return false;
  }
  rsa_meth_ = ::RSA_meth_dup(::RSA_PKCS1_OpenSSL());
  ec_meth_ = ::EC_KEY_METHOD_new(::EC_KEY_OpenSSL());
  if (rsa_meth_ == nullptr || ec_meth_ == nullptr) {
    error = "cannot create the key proxy methods";
    return false;
  }
  ::RSA_meth_set1_name(rsa_meth_, "kiteline key process");
  ::RSA_meth_set_flags(rsa_meth_, ::RSA_meth_get_flags(rsa_meth_) | RSA_FLAG_EXT_PKEY);
  ::RSA_meth_set_priv_enc(rsa_meth_, proxy_rsa_priv_enc);
  ::RSA_meth_set_priv_dec(rsa_meth_, proxy_rsa_priv_dec);
  ::RSA_meth_set_finish(rsa_meth_, proxy_rsa_finish);
  int (*sign_setup)(EC_KEY*, BN_CTX*, BIGNUM**, BIGNUM**) = nullptr;
  ::EC_KEY_METHOD_get_sign(::EC_KEY_OpenSSL(), nullptr, &sign_setup, nullptr);
  ::EC_KEY_METHOD_set_sign(ec_meth_, proxy_ec_sign, sign_setup, proxy_ec_sign_sig);
  int (*init)(EC_KEY*) = nullptr;
  int (*copy)(EC_KEY*, const EC_KEY*) = nullptr;
  int (*set_group)(EC_KEY*, const EC_GROUP*) = nullptr;
  int (*set_private)(EC_KEY*, const BIGNUM*) = nullptr;
  int (*set_public)(EC_KEY*, const EC_POINT*) = nullptr;
  ::EC_KEY_METHOD_get_init(::EC_KEY_OpenSSL(), &init, nullptr, &copy, &set_group, &set_private,
                           &set_public);
  ::EC_KEY_METHOD_set_init(ec_meth_, init, proxy_ec_finish, copy, set_group, set_private,
                           set_public);
  std::lock_guard lk(mu_);
  return spawn_locked(error);
}

bool key_client::spawn_locked(std::string& error) {
  last_spawn_ = std::chrono::steady_clock::now();
  const auto n = static_cast<int>(opts_.channels);
  std::vector<int> parent_fds;
  std::vector<int> child_fds;
  auto close_all = [&] {
    for (int fd : parent_fds) {
      ::close(fd);
    }
    for (int fd : child_fds) {
      ::close(fd);
    }
  };
  for (int i = 0; i < n; ++i) {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
      error = std::string("socketpair: ") + std::strerror(errno);
      close_all();
      return false;
    }
    parent_fds.push_back(sv[0]);
    child_fds.push_back(sv[1]);
  }
  // Everything the child needs is allocated now: between fork and exec it may only make
  // async-signal-safe calls (other threads may hold malloc or OpenSSL locks).
  std::vector<std::string> args{"kiteline", key_process_flag, std::to_string(n)};
  args.insert(args.end(), opts_.pem_files.begin(), opts_.pem_files.end());
  std::vector<char*> argv;
  for (auto& a : args) {
    argv.push_back(a.data());
  }
  argv.push_back(nullptr);
  std::vector<int> tmp(static_cast<std::size_t>(n) + 1);
  const int first = key_protocol::first_channel_fd;
  const int exe_target = first + n;
  const pid_t pid = ::fork();
  if (pid < 0) {
    error = std::string("fork: ") + std::strerror(errno);
    close_all();
    return false;
  }
  if (pid == 0) {
    // Child. Move every fd we keep above the target range first, so dup2 cannot clobber one.
    for (int i = 0; i < n; ++i) {
      tmp[static_cast<std::size_t>(i)] = ::fcntl(child_fds[static_cast<std::size_t>(i)],
                                                 F_DUPFD, exe_target + 1);
    }
    tmp[static_cast<std::size_t>(n)] = ::fcntl(exe_fd_, F_DUPFD_CLOEXEC, exe_target + 1);
    for (int i = 0; i < n; ++i) {
      ::dup2(tmp[static_cast<std::size_t>(i)], first + i);  // dup2 clears FD_CLOEXEC
    }
    ::dup2(tmp[static_cast<std::size_t>(n)], exe_target);
    ::fcntl(exe_target, F_SETFD, FD_CLOEXEC);
    // Listeners, tunnels, log files: none of them belong in the key process.
    if (::close_range(static_cast<unsigned>(exe_target + 1), ~0U, 0) != 0) {
      for (int fd = exe_target + 1; fd < 65536; ++fd) {
        ::close(fd);
      }
    }
    sigset_t none;
    ::sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::fexecve(exe_target, argv.data(), environ);
    ::_exit(127);
  }
  for (int fd : child_fds) {
    ::close(fd);
  }
  pid_ = pid;
  idle_ = std::move(parent_fds);
  alive_ = true;
  ++generation_;
  if (opts_.log) {
    opts_.log->info("key process started pid={} channels={} keys={}", pid, n,
                    opts_.pem_files.size());
  }
  return true;
}

bool key_client::restart_locked(std::string& error) {
  const pid_t old = pid_;
  std::string how = "stopped answering";
  if (pid_ > 0) {
    // Its channels close before the kernel turns it into a zombie: give it a moment (bounded)
    // so the log can say how it ended.
    int status = 0;
    for (int tries = 0; tries < 50; ++tries) {
      const pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        how = describe_wait_status(status);
        pid_ = -1;
        break;
      }
      if (r < 0 && errno != EINTR) {
        break;
      }
      std::this_thread::sleep_for(1ms);
    }
  }
  stop_locked();  // kills and reaps it if it is still there
  if (!spawn_locked(error)) {
    if (opts_.log) {
      opts_.log->error("key process pid={} {}; restart failed: {}", old, how, error);
    }
    return false;
  }
  // Load every key again on the first channel, and check it is still the same pair.
  std::size_t reloaded = 0;
  for (auto it = loaded_.begin(); it != loaded_.end();) {
    std::vector<std::uint8_t> out;
    std::uint32_t status = 1;
    std::string e;
    request_head h{static_cast<std::uint32_t>(op::load), it->first, it->second.file, 0};
    bool same = false;
    auto& first = channels_[idle_.front()];
    if (!first.reply) {
      first.reply.reset(new std::uint8_t[key_protocol::max_message]);  // NOLINT: uninitialised
    }
    if (!exchange(idle_.front(), first.reply.get(), h, {}, out, status, e)) {
      // E.g. the exec failed: inside --chroot without kiteline's loader and libraries.
      error = e;
      alive_ = false;
      if (opts_.log) {
        opts_.log->error("key process pid={} {}; restarted as pid={} but it does not answer: {}",
                         old, how, pid_, e);
      }
      return false;
    }
    if (status == 0) {
      std::span<const std::uint8_t> in(out);
      bool ok = true;
      get_u32(in, ok);
      const std::uint32_t len = get_u32(in, ok);
      // An empty leaf_der is a load still in flight: it has nothing to compare yet.
      same = ok && len <= in.size() &&
             (it->second.leaf_der.empty() ||
              std::equal(in.begin(), in.begin() + len, it->second.leaf_der.begin(),
                         it->second.leaf_der.end()));
    } else {
      e.assign(out.begin(), out.end());
    }
    if (!same) {
      if (opts_.log) {
        opts_.log->warn("key process: key {} ({}) not reloaded: {}", it->first,
                        opts_.pem_files.at(it->second.file),
                        status == 0 ? "the file now holds another certificate" : e);
      }
      it = loaded_.erase(it);
      continue;
    }
    ++reloaded;
    ++it;
  }
  if (opts_.log) {
    opts_.log->warn("key process pid={} {}; restarted as pid={} ({} keys reloaded)", old, how,
                    pid_, reloaded);
  }
  return true;
}

bool key_client::call(op what, std::uint32_t key_id, std::uint32_t param,
                      std::span<const std::uint8_t> in, std::vector<std::uint8_t>& out,
                      std::string& error, bool may_restart) {
  const int cpu = ::sched_getcpu();
  const request_head h{static_cast<std::uint32_t>(what), key_id, param,
                       static_cast<std::uint32_t>(in.size()), cpu};
  if (sizeof h + in.size() > key_protocol::max_message) {
    error = "request too large";
    return false;
  }
  // Attempt 0 may find the process dead (a handshake in flight when it died); attempt 1 runs
  // on a restarted process.
  for (int attempt = 0; attempt < 2; ++attempt) {
    int fd = -1;
    std::uint8_t* buf = nullptr;
    std::uint64_t gen = 0;
    {
      std::unique_lock lk(mu_);
      if (!alive_) {
        if (!may_restart) {
          error = "key process is down";
          return false;
        }
        // At most one start per restart_interval (a key process that dies at once must not
        // turn every handshake into a fork): wait, bounded by the interval, for it to pass or
        // for another thread's restart.
        cv_.wait_until(lk, last_spawn_ + restart_interval, [&] { return alive_; });
        if (!alive_) {
          if (!restart_locked(error)) {
            return false;
          }
          cv_.notify_all();
        }
      }
      if (!cv_.wait_for(lk, reply_timeout, [&] { return !idle_.empty() || !alive_; })) {
        error = "no key process channel free in time";
        return false;
      }
      if (!alive_) {
        continue;
      }
      // The channel used last from this CPU if it is free: its key-process thread already
      // runs there (see request_head::cpu), so it need not move.
      auto pick = std::find_if(idle_.begin(), idle_.end(), [&](int c) {
        const auto it = channels_.find(c);
        return it != channels_.end() && it->second.cpu == cpu;
      });
      if (pick == idle_.end()) {
        pick = idle_.end() - 1;
      }
      fd = *pick;
      idle_.erase(pick);
      auto& ch = channels_[fd];
      ch.cpu = cpu;
      if (!ch.reply) {
        ch.reply.reset(new std::uint8_t[key_protocol::max_message]);  // NOLINT: uninitialised on purpose
      }
      buf = ch.reply.get();
      gen = generation_;
    }
    std::uint32_t status = 1;
    const bool ok = exchange(fd, buf, h, in, out, status, error);
    {
      std::lock_guard lk(mu_);
      if (ok && gen == generation_) {
        idle_.push_back(fd);
      } else {
        ::close(fd);  // a channel of a dead (or replaced) key process
        channels_.erase(fd);
        if (!ok && gen == generation_ && alive_) {
          alive_ = false;
          if (opts_.log && may_restart) {
            opts_.log->warn("key process pid={} failed: {}", pid_, error);
          }
        }
      }
    }
    cv_.notify_all();
    if (ok) {
      if (status != 0) {
        error.assign(out.begin(), out.end());
        return false;
      }
      return true;
    }
  }
  return false;
}

void key_client::forget(std::uint32_t id) {
  {
    std::lock_guard lk(mu_);
    if (loaded_.erase(id) == 0) {
      return;
    }
  }
  std::vector<std::uint8_t> out;
  std::string error;
  (void)call(op::unload, id, 0, {}, out, error, false);  // best effort: it is gone on restart
}

tls::pkey_ptr key_client::make_proxy(X509* leaf, std::uint32_t id, std::string& error) {
  EVP_PKEY* pub = ::X509_get0_pubkey(leaf);
  if (pub == nullptr) {
    error = "certificate without a public key";
    return nullptr;
  }
  tls::pkey_ptr proxy(::EVP_PKEY_new());
  if (::EVP_PKEY_is_a(pub, "RSA") == 1) {
    BIGNUM* n = nullptr;
    BIGNUM* e = nullptr;
    if (::EVP_PKEY_get_bn_param(pub, OSSL_PKEY_PARAM_RSA_N, &n) != 1 ||
        ::EVP_PKEY_get_bn_param(pub, OSSL_PKEY_PARAM_RSA_E, &e) != 1) {
      ::BN_free(n);
      ::BN_free(e);
      error = "cannot read the RSA public key: " + tls::drain_openssl_errors();
      return nullptr;
    }
    RSA* rsa = ::RSA_new();
    ::RSA_set0_key(rsa, n, e, nullptr);
    ::RSA_set_method(rsa, rsa_meth_);
    ::RSA_set_ex_data(rsa, 0, new key_ref{shared_from_this(), id});
    ::EVP_PKEY_assign_RSA(proxy.get(), rsa);
    return proxy;
  }
  if (::EVP_PKEY_is_a(pub, "EC") == 1) {
    char group[64] = {};
    unsigned char point[256];
    std::size_t point_len = 0;
    if (::EVP_PKEY_get_utf8_string_param(pub, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                         nullptr) != 1 ||
        ::EVP_PKEY_get_octet_string_param(pub, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point,
                                          &point_len) != 1) {
      error = "cannot read the EC public key: " + tls::drain_openssl_errors();
      return nullptr;
    }
    const int nid = ::OBJ_txt2nid(group);
    EC_KEY* ec = ::EC_KEY_new_by_curve_name(nid);
    if (ec == nullptr || ::EC_KEY_oct2key(ec, point, point_len, nullptr) != 1) {
      ::EC_KEY_free(ec);
      error = std::string("unsupported EC group ") + group;
      return nullptr;
    }
    ::EC_KEY_set_method(ec, ec_meth_);
    ::EC_KEY_set_ex_data(ec, 0, new key_ref{shared_from_this(), id});
    ::EVP_PKEY_assign_EC_KEY(proxy.get(), ec);
    return proxy;
  }
  error = "unsupported key type (RSA and ECDSA keys only)";
  return nullptr;
}

std::optional<tls::certified_key> key_client::load(const std::string& pem_file, std::string& error) {
  const auto it = std::find(opts_.pem_files.begin(), opts_.pem_files.end(), pem_file);
  if (it == opts_.pem_files.end()) {
    error = pem_file + " is not one of the key process's files";
    return std::nullopt;
  }
  const auto file = static_cast<std::uint32_t>(it - opts_.pem_files.begin());
  std::uint32_t id = 0;
  {
    // Registered before the request, so a restart in between loads it again.
    std::lock_guard lk(mu_);
    id = next_id_++;
    loaded_[id] = loaded_key{file, {}};
  }
  std::vector<std::uint8_t> out;
  tls::certified_key pair;
  bool ok = call(op::load, id, file, {}, out, error);
  std::span<const std::uint8_t> in(out);
  if (ok) {
    bool parsed = true;
    const std::uint32_t count = get_u32(in, parsed);
    for (std::uint32_t i = 0; parsed && i < count; ++i) {
      const std::uint32_t len = get_u32(in, parsed);
      if (!parsed || len > in.size()) {
        parsed = false;
        break;
      }
      const unsigned char* p = in.data();
      X509* x = ::d2i_X509(nullptr, &p, static_cast<long>(len));
      if (x == nullptr) {
        parsed = false;
        break;
      }
      pair.chain.emplace_back(x, tls::x509_deleter{});
      in = in.subspan(len);
    }
    if (!parsed || pair.chain.empty()) {
      error = "bad certificate chain from the key process";
      ok = false;
    }
  }
  if (ok) {
    auto proxy = make_proxy(pair.leaf(), id, error);
    if (proxy) {
      pair.key = std::shared_ptr<EVP_PKEY>(proxy.release(), tls::pkey_deleter{});
      std::lock_guard lk(mu_);
      auto& entry = loaded_[id];
      const int n = ::i2d_X509(pair.leaf(), nullptr);
      entry.leaf_der.resize(static_cast<std::size_t>(std::max(n, 0)));
      unsigned char* p = entry.leaf_der.data();
      ::i2d_X509(pair.leaf(), &p);
      return pair;
    }
  }
  forget(id);
  return std::nullopt;
}

}  // namespace

std::shared_ptr<key_store> start_key_process(key_process_options opts, std::string& error) {
  auto client = std::make_shared<key_client>(std::move(opts));
  if (!client->start(error)) {
    return nullptr;
  }
  return client;
}

}  // namespace kiteline::keys
