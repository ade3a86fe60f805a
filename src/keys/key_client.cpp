// The key_client: a key_store whose keys live in the key process. Starting it, one request
// (picking a channel, restarting a dead key process once), loading a key as a proxy.
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "keys/key_client.hpp"

namespace kiteline::keys {

namespace {

using key_protocol::op;
using key_protocol::request_head;
using namespace std::chrono_literals;

/// At most one restart attempt per this interval (a key process that cannot start must not
/// turn every handshake into a fork).
constexpr auto restart_interval = 200ms;

}  // namespace

std::string key_client::status_for_test() {
  std::vector<std::uint8_t> out;
  if (const outcome<void> called = call(op::status, 0, 0, {}, out); !called) {
    return "error: " + called.error().message();
  }
  std::span<const std::uint8_t> in(out);
  bool ok = true;
  const std::uint32_t dumpable = get_u32(in, ok);
  const std::uint32_t pid = get_u32(in, ok);
  return "pid=" + std::to_string(pid) + " dumpable=" + std::to_string(dumpable);
}

outcome<void> key_client::start() {
  const std::string exe = opts_.executable.empty() ? "/proc/self/exe" : opts_.executable;
  exe_fd_ = ::open(exe.c_str(), O_RDONLY | O_CLOEXEC);
  if (exe_fd_ < 0) {
    return failure(errc::cannot_start,
                   "cannot open " + exe + " for the key process: " + std::strerror(errno));
  }
  if (opts_.channels == 0 || opts_.channels > 64) {
    return failure(errc::cannot_start, "key process channels must be 1-64");
  }
  if (!methods_.init()) {
    return failure(errc::cannot_start, "cannot create the key proxy methods");
  }
  std::lock_guard lk(mu_);
  return spawn_locked();
}

outcome<void> key_client::call(op what, std::uint32_t key_id, std::uint32_t param,
                               std::span<const std::uint8_t> in, std::vector<std::uint8_t>& out,
                               bool may_restart) {
  const int cpu = ::sched_getcpu();
  const request_head h{static_cast<std::uint32_t>(what), key_id, param,
                       static_cast<std::uint32_t>(in.size()), cpu};
  if (sizeof h + in.size() > key_protocol::max_message) {
    return failure(errc::request_too_large, "request too large");
  }
  failure last(errc::key_process_down, "");  // what the last attempt ran into
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
          return failure(errc::key_process_down, "key process is down");
        }
        // At most one start per restart_interval (a key process that dies at once must not
        // turn every handshake into a fork): wait, bounded by the interval, for it to pass or
        // for another thread's restart.
        cv_.wait_until(lk, last_spawn_ + restart_interval, [&] { return alive_; });
        if (!alive_) {
          if (outcome<void> restarted = restart_locked(); !restarted) {
            return restarted;
          }
          cv_.notify_all();
        }
      }
      if (!cv_.wait_for(lk, reply_timeout, [&] { return !idle_.empty() || !alive_; })) {
        return failure(errc::no_channel, "no key process channel free in time");
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
    const outcome<std::uint32_t> status = exchange(fd, buf, h, in, out);
    const bool ok = status.has_value();
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
            opts_.log->warn("key process pid={} failed: {}", pid_, status.error().message());
          }
        }
      }
    }
    cv_.notify_all();
    if (ok) {
      if (*status != 0) {
        return failure(errc::refused, std::string(out.begin(), out.end()));
      }
      return {};
    }
    last = status.error();
  }
  return last;
}

void key_client::forget(std::uint32_t id) {
  {
    std::lock_guard lk(mu_);
    if (loaded_.erase(id) == 0) {
      return;
    }
  }
  std::vector<std::uint8_t> out;
  (void)call(op::unload, id, 0, {}, out, false);  // best effort: it is gone on restart
}

outcome<tls::certified_key> key_client::load(const std::string& pem_file) {
  const auto it = std::find(opts_.pem_files.begin(), opts_.pem_files.end(), pem_file);
  if (it == opts_.pem_files.end()) {
    return failure(errc::not_allowed, pem_file + " is not one of the key process's files");
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
  if (const outcome<void> called = call(op::load, id, file, {}, out); !called) {
    forget(id);
    return called.error();
  }
  tls::certified_key pair;
  std::span<const std::uint8_t> in(out);
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
    forget(id);
    return failure(errc::bad_reply, "bad certificate chain from the key process");
  }
  outcome<tls::pkey_ptr> proxy = make_proxy_key(pair.leaf(), methods_, shared_from_this(), id);
  if (!proxy) {
    forget(id);
    return proxy.error();
  }
  pair.key = std::shared_ptr<EVP_PKEY>(proxy->release(), tls::pkey_deleter{});
  std::lock_guard lk(mu_);
  auto& entry = loaded_[id];
  const int n = ::i2d_X509(pair.leaf(), nullptr);
  entry.leaf_der.resize(static_cast<std::size_t>(std::max(n, 0)));
  unsigned char* p = entry.leaf_der.data();
  ::i2d_X509(pair.leaf(), &p);
  return pair;
}

outcome<std::shared_ptr<key_store>> start_key_process(key_process_options opts) {
  auto client = std::make_shared<key_client>(std::move(opts));
  if (outcome<void> started = client->start(); !started) {
    return started.error();
  }
  return std::shared_ptr<key_store>(std::move(client));
}

}  // namespace kiteline::keys
