#include "relay/authority.hpp"

#include <ares.h>
#include <netdb.h>
#include <sys/socket.h>

#include <cstring>
#include <mutex>

#include <fmt/format.h>

#include "core/text.hpp"

namespace kiteline::relay {
namespace {

using namespace std::chrono_literals;

std::once_flag ares_init_once;

auth_grant failed(std::string detail) {
  auth_grant g;
  g.outcome = auth_grant::kind::failed;
  g.detail = std::move(detail);
  return g;
}

std::string without_dot(std::string_view s) {
  while (!s.empty() && s.back() == '.') {
    s.remove_suffix(1);
  }
  return to_lower(s);
}

/// One lookup's meeting point between c-ares's callback and the waiting coroutine.
struct pending {
  explicit pending(asio::any_io_executor ex) : wake(std::move(ex)) {
    wake.expires_at(asio::steady_timer::time_point::max());
  }
  asio::steady_timer wake;
  std::optional<auth_grant> result;
  std::string qname;
};

}  // namespace

/// One worker's c-ares channel. c-ares tells which sockets to watch (sock_state_cb); each gets
/// a non-owning stream_descriptor (released before c-ares closes the fd), and one timer runs
/// c-ares's own retries and timeouts.
struct authority::channel : std::enable_shared_from_this<authority::channel> {
  struct watch {
    asio::posix::stream_descriptor d;
    bool want_read = false;
    bool want_write = false;
    bool reading = false;
    bool writing = false;
    std::uint64_t generation = 0;
  };

  explicit channel(asio::io_context& io) : io_(io), timer_(io) {}

  ~channel() {
    for (auto& [fd, w] : watches_) {
      std::error_code ec;
      w->d.cancel(ec);
      (void)w->d.release();
    }
    watches_.clear();
    if (ares_) {
      closing_ = true;
      ares_destroy(ares_);
    }
  }

  /// Sets the channel up; "" on success, else what failed.
  std::string init(const config::relay_auth_config& cfg) {
    std::call_once(ares_init_once, [] { ares_library_init(ARES_LIB_INIT_ALL); });
    ares_options opts{};
    int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_LOOKUPS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES;
    opts.sock_state_cb = &channel::on_sock_state;
    opts.sock_state_cb_data = this;
    static char lookups[] = "b";  // DNS only: never /etc/hosts
    opts.lookups = lookups;
    // c-ares gives up by itself a little after our own deadline (which answers first).
    opts.timeout = static_cast<int>(std::max<std::int64_t>(cfg.timeout.count() / 2, 100));
    opts.tries = 2;
    if (const int rc = ares_init_options(&ares_, &opts, mask); rc != ARES_SUCCESS) {
      ares_ = nullptr;
      return std::string("ares_init_options: ") + ares_strerror(rc);
    }
    if (!cfg.dns_server.empty()) {
      if (const int rc = ares_set_servers_ports_csv(ares_, cfg.dns_server.c_str());
          rc != ARES_SUCCESS) {
        return "--authdns=" + cfg.dns_server + ": " + ares_strerror(rc);
      }
    }
    return {};
  }

  void start(const std::shared_ptr<pending>& p) {
    auto* arg = new std::shared_ptr<pending>(p);
    ares_gethostbyname(ares_, p->qname.c_str(), AF_INET, &channel::on_host, arg);
    rearm_timer();
  }

  static void on_host(void* arg, int status, int /*timeouts*/, hostent* host) {
    std::unique_ptr<std::shared_ptr<pending>> owned(static_cast<std::shared_ptr<pending>*>(arg));
    pending& p = **owned;
    if (p.result) {
      return;  // timed out already
    }
    if (status != ARES_SUCCESS) {
      p.result = failed(std::string("lookup failed: ") + ares_strerror(status));
    } else if (host == nullptr || host->h_addrtype != AF_INET || host->h_addr_list == nullptr ||
               host->h_addr_list[0] == nullptr) {
      p.result = failed("answer holds no A record");
    } else {
      std::array<std::uint8_t, 4> a{};
      std::memcpy(a.data(), host->h_addr_list[0], 4);
      const std::string canonical = host->h_name != nullptr ? host->h_name : "";
      const bool aliases = host->h_aliases != nullptr && host->h_aliases[0] != nullptr;
      const bool via_cname = aliases || without_dot(canonical) != without_dot(p.qname);
      p.result = decode_auth_answer(a, without_dot(canonical), via_cname);
    }
    p.wake.cancel();
  }

  static void on_sock_state(void* data, ares_socket_t fd, int readable, int writable) {
    auto* self = static_cast<channel*>(data);
    if (self->closing_) {
      return;
    }
    auto it = self->watches_.find(fd);
    if (!readable && !writable) {
      if (it != self->watches_.end()) {
        std::error_code ec;
        it->second->d.cancel(ec);
        (void)it->second->d.release();
        self->watches_.erase(it);
      }
      return;
    }
    if (it == self->watches_.end()) {
      auto w = std::make_unique<watch>(watch{asio::posix::stream_descriptor(self->io_, fd)});
      w->generation = ++self->generation_;
      it = self->watches_.emplace(fd, std::move(w)).first;
    }
    it->second->want_read = readable != 0;
    it->second->want_write = writable != 0;
    self->arm(fd);
  }

  void arm(int fd) {
    auto it = watches_.find(fd);
    if (it == watches_.end()) {
      return;
    }
    watch& w = *it->second;
    std::weak_ptr<channel> weak = weak_from_this();
    const std::uint64_t gen = w.generation;
    if (w.want_read && !w.reading) {
      w.reading = true;
      w.d.async_wait(asio::posix::descriptor_base::wait_read, [weak, fd, gen](std::error_code ec) {
        if (auto self = weak.lock()) {
          self->ready(fd, gen, ec, true);
        }
      });
    }
    if (w.want_write && !w.writing) {
      w.writing = true;
      w.d.async_wait(asio::posix::descriptor_base::wait_write, [weak, fd, gen](std::error_code ec) {
        if (auto self = weak.lock()) {
          self->ready(fd, gen, ec, false);
        }
      });
    }
  }

  void ready(int fd, std::uint64_t gen, std::error_code ec, bool read) {
    auto it = watches_.find(fd);
    if (it == watches_.end() || it->second->generation != gen) {
      return;  // a stale wait for a socket c-ares has closed (the fd may be reused)
    }
    (read ? it->second->reading : it->second->writing) = false;
    if (ec) {
      return;
    }
    ares_process_fd(ares_, read ? fd : ARES_SOCKET_BAD, read ? ARES_SOCKET_BAD : fd);
    arm(fd);
    rearm_timer();
  }

  void rearm_timer() {
    timeval tv{};
    timeval max{1, 0};
    if (ares_timeout(ares_, &max, &tv) == nullptr) {
      return;
    }
    timer_.expires_after(std::chrono::seconds(tv.tv_sec) + std::chrono::microseconds(tv.tv_usec));
    std::weak_ptr<channel> weak = weak_from_this();
    timer_.async_wait([weak](std::error_code ec) {
      auto self = weak.lock();
      if (!ec && self) {
        ares_process_fd(self->ares_, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
        self->rearm_timer();
      }
    });
  }

  asio::io_context& io_;
  asio::steady_timer timer_;
  ares_channel ares_ = nullptr;
  bool closing_ = false;
  std::uint64_t generation_ = 0;
  std::map<int, std::unique_ptr<watch>> watches_;
};

authority::authority(const config::relay_auth_config& cfg, std::vector<asio::io_context*> contexts)
    : cfg_(cfg), contexts_(std::move(contexts)), channels_(contexts_.size()) {}

authority::~authority() = default;

net::awaitable<auth_grant> authority::ask(std::size_t worker, std::string qname, bool fresh) {
  if (!fresh) {
    if (auto hit = cache_.find(qname)) {
      co_return *hit;
    }
  }
  // The bound on lookups in flight, relay-wide: beyond it a kite is refused at once (fail
  // closed) rather than queued behind a slow authority.
  std::size_t taken = 0;
  const auto slot = in_flight_slot::take(in_flight_, cfg_.max_in_flight, taken);
  if (!slot) {
    co_return failed("authority queue full (" + std::to_string(taken) +
                     " lookups in flight, --auththreads)");
  }

  auto& ch = channels_.at(worker);
  if (!ch) {
    auto fresh_ch = std::make_shared<channel>(*contexts_.at(worker));
    if (auto err = fresh_ch->init(cfg_); !err.empty()) {
      co_return failed(err);
    }
    ch = std::move(fresh_ch);
  }
  auto ex = co_await asio::this_coro::executor;
  auto p = std::make_shared<pending>(ex);
  p->qname = std::move(qname);
  asio::steady_timer deadline(ex);
  deadline.expires_after(cfg_.timeout);
  std::weak_ptr<pending> weak = p;
  const auto secs = std::chrono::duration<double>(cfg_.timeout).count();
  deadline.async_wait([weak, secs](std::error_code ec) {
    auto pp = weak.lock();
    if (!ec && pp && !pp->result) {
      pp->result = failed(fmt::format("authority timeout after {:g} s", secs));
      pp->wake.cancel();
    }
  });
  ch->start(p);
  if (!p->result) {
    (void)co_await p->wake.async_wait(net::use_tuple);
  }
  deadline.cancel();
  auth_grant g = p->result ? *p->result : failed("lookup abandoned");
  if (g.outcome != auth_grant::kind::failed) {
    cache_.put(p->qname, g);
  }
  co_return g;
}

}  // namespace kiteline::relay
