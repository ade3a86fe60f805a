#include "connector/tunnel_client.hpp"

#include <algorithm>

#include "accesslog/stream_record.hpp"
#include "connector/kite_signing.hpp"
#include "core/text.hpp"
#include "net/spawn.hpp"
#include "wire/drain_notice.hpp"

namespace kiteline::connector {

using namespace asio::experimental::awaitable_operators;
using net::tcp;
using net::use_tuple;

namespace {

/// "host:port", "[v6]:port".
std::string label_of(const std::string& host, std::uint16_t port) {
  return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
         std::to_string(port);
}

}  // namespace

tunnel_client::tunnel_client(asio::any_io_executor ex, std::shared_ptr<client_context> ctx,
                             std::string host, std::uint16_t port)
    : ex_(ex),
      ctx_(std::move(ctx)),
      host_(std::move(host)),
      port_(port),
      rng_(std::random_device{}()),
      link_closed_(ex),
      round_done_(ex),
      sleep_(ex),
      dialer_(ex, ctx_, label_of(host_, port_)) {
  label_ = label_of(host_, port_);
  const auto& services = ctx_->cfg.services;
  live_.assign(services.size(), false);
  for (std::size_t i = 0; i < services.size(); ++i) {
    bsalts_.push_back(
        make_bsalt(ctx_->process_secret, label_, services[i].kite_secret.reveal()));
  }
  status_.label = label_;
}

tunnel_client::~tunnel_client() = default;

void tunnel_client::start() {
  auto self = shared_from_this();
  asio::co_spawn(ex_, run(self),
                 net::log_failure(ctx_->log, "relay " + label_ + ": connector loop failed"));
}

void tunnel_client::retire(std::chrono::milliseconds grace, std::function<bool()> ready) {
  auto self = shared_from_this();
  asio::co_spawn(ex_, retire_when_idle(self, grace, std::move(ready)),
                 net::log_failure(ctx_->log, "relay " + label_ + ": retiring failed"));
}

net::awaitable<void> tunnel_client::retire_when_idle(
    [[maybe_unused]] std::shared_ptr<tunnel_client> self, std::chrono::milliseconds grace,
    std::function<bool()> ready) {
  {
    std::lock_guard lock(status_mu_);
    if (status_.retiring) {
      co_return;
    }
    status_.retiring = true;
  }
  ctx_->notify_tunnels_changed();
  ctx_->log->info("relay {}: no longer wanted; closing it once idle", label_);
  const auto until = std::chrono::steady_clock::now() + grace;
  asio::steady_timer timer(ex_);
  // Bounded by `grace` (250-ms steps).
  while (!stopped_) {
    const bool idle = !link_ || link_->stream_count() == 0;
    const bool late = std::chrono::steady_clock::now() >= until;
    if ((idle && ready()) || late) {
      ctx_->log->info("relay {}: retired ({})", label_, late ? "grace over" : "idle");
      stop();
      break;
    }
    timer.expires_after(std::chrono::milliseconds(250));
    (void)co_await timer.async_wait(use_tuple);
  }
  co_return;
}

void tunnel_client::stop() {
  {
    std::lock_guard lock(status_mu_);
    status_.stopped = true;
  }
  asio::post(ex_, [self = shared_from_this()] {
    self->stopped_ = true;
    self->sleep_.cancel();
    self->close_conn();
    if (self->link_) {
      self->link_->close("connector stopping");
    }
    self->round_done_.notify();
    self->link_closed_.notify();
  });
}

relay_status tunnel_client::status() const {
  std::lock_guard lock(status_mu_);
  return status_;
}

void tunnel_client::set_error(std::string why) {
  std::lock_guard lock(status_mu_);
  status_.last_error = std::move(why);
}

void tunnel_client::close_conn() {
  if (conn_) {
    conn_->close();
  }
}

net::awaitable<void> tunnel_client::run([[maybe_unused]] std::shared_ptr<tunnel_client> self) {
  backoff retry(ctx_->opts.retry);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  while (!stopped_) {
    const auto began = std::chrono::steady_clock::now();
    const outcome o = co_await attempt();
    {
      std::lock_guard lock(status_mu_);
      ++status_.finished;
    }
    if (stopped_ || status().stopped) {  // stop() may still be on its way (posted)
      break;
    }
    const auto lasted = std::chrono::steady_clock::now() - began;
    if (o == outcome::ended && lasted >= ctx_->opts.stable_after) {
      retry.reset();
    }
    if (o == outcome::ended) {
      // Tunnel lost: did the relay go away? If so, probe it while the backoff runs.
      unreachable_ = true;
      for (const auto& ep : probe_eps_) {
        auto p = co_await ping_relay(ex_, ep, ctx_->opts.probe_timeout);
        unreachable_ = unreachable_ && p.error;
      }
      if (stopped_) {
        break;
      }
    }
    std::chrono::milliseconds delay = retry.next(unit(rng_));
    if (o == outcome::rejected) {
      delay = std::max(delay, ctx_->opts.rejected_retry);
    }
    ++ctx_->counters.reconnects;
    ctx_->log->info("relay {}: reconnecting in {} ms", label_, delay.count());
    co_await retry_sleep(delay);
  }
  co_return;
}

net::awaitable<void> tunnel_client::retry_sleep(std::chrono::milliseconds delay) {
  const auto until = std::chrono::steady_clock::now() + delay;
  const bool probe = unreachable_ && !probe_eps_.empty() && delay > ctx_->opts.probe_after;
  std::uniform_real_distribution<double> jitter(0.75, 1.25);
  // Bounded: one step per probe_interval (at least 50 ms) until `until`.
  while (!stopped_) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= until) {
      break;
    }
    auto step = std::chrono::duration_cast<std::chrono::steady_clock::duration>(until - now);
    if (probe) {
      const auto interval = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
          std::max(ctx_->opts.probe_interval, std::chrono::milliseconds(50)) * jitter(rng_));
      step = std::min(step, interval);
    }
    sleep_.expires_after(step);
    (void)co_await sleep_.async_wait(use_tuple);
    if (!probe || stopped_ || std::chrono::steady_clock::now() >= until) {
      continue;
    }
    for (const auto& ep : probe_eps_) {
      auto p = co_await ping_relay(ex_, ep, ctx_->opts.probe_timeout);
      if (!p.error && !stopped_) {
        ctx_->log->info("relay {}: answers again, reconnecting now", label_);
        co_return;
      }
    }
  }
  co_return;
}

net::awaitable<tunnel_client::outcome> tunnel_client::attempt() {
  ++ctx_->counters.attempts;
  {
    std::lock_guard lock(status_mu_);
    ++status_.attempts;
  }
  if (ctx_->opts.tunnel_dialer) {
    co_return co_await attempt_at(tcp::endpoint());  // the same process: no name, no ping
  }
  // 1. Resolve (asynchronously: never a blocking resolver on the event loop).
  tcp::resolver resolver(ex_);
  auto [rec, results] = co_await resolver.async_resolve(host_, std::to_string(port_), use_tuple);
  if (rec || results.empty()) {
    set_error("cannot resolve " + host_ + ": " + rec.message());
    ctx_->log->warn("relay {}: cannot resolve: {}", label_, rec.message());
    co_return outcome::failed;
  }
  // 2. Relay ping (§3): the first address that answers is the one we connect to.
  std::optional<tcp::endpoint> chosen;
  std::string ping_error;
  unreachable_ = false;
  probe_eps_.clear();
  for (const auto& r : results) {
    probe_eps_.push_back(r.endpoint());
  }
  for (const auto& r : results) {
    auto p = co_await ping_relay(ex_, r.endpoint(), ctx_->opts.ping_timeout);
    if (stopped_) {
      co_return outcome::failed;
    }
    if (!p.error) {
      if (p.overloaded) {
        // As pagekite.py: a --frontend relay that answers is used even when overloaded (only
        // the pool's choice, client::discover, moves away from overloaded relays).
        ctx_->log->info("relay {}: says it is overloaded; connecting to it anyway", label_);
      }
      chosen = r.endpoint();
      uuid_ = p.uuid;
      std::lock_guard lock(status_mu_);
      status_.uuid = p.uuid;
      status_.ping_rtt = p.rtt;
      break;
    }
    ping_error = p.why;
  }
  if (!chosen) {
    unreachable_ = true;
    set_error(ping_error);
    ctx_->log->warn("relay {}: {}", label_, ping_error);
    co_return outcome::failed;
  }
  co_return co_await attempt_at(*chosen);
}

net::awaitable<tunnel_client::outcome> tunnel_client::attempt_at(tcp::endpoint chosen) {
  // 3. Connect (+TLS) and the handshake: connector::handshake decides, this loop moves bytes.
  salts_.resize(2 * ctx_->cfg.services.size());
  for (auto& salt : salts_) {
    salt = rng_();
  }
  handshake_params hp;
  hp.services = ctx_->cfg.services;
  hp.bsalts = bsalts_;
  hp.salts = salts_;
  hp.nozchunks = ctx_->cfg.process.nozchunks;
  hp.force_flow_a = ctx_->opts.force_flow_a_for_test;
  hp.session_id = session_id_;
  hs_.emplace(std::move(hp));
  if (auto ec = co_await open(chosen); ec) {
    co_return outcome::failed;
  }
  handshake::step st = hs_->start();
  while (st == handshake::step::write || st == handshake::step::reconnect) {
    if (st == handshake::step::reconnect) {
      // Flow A (§4.5): close, reconnect and send the signed request.
      close_conn();
      conn_.reset();
      if (auto ec = co_await open(chosen); ec) {
        co_return outcome::failed;
      }
      st = hs_->on_reconnected();
      continue;
    }
    auto next = co_await exchange();
    if (!next) {
      close_conn();
      co_return outcome::failed;
    }
    st = *next;
  }
  const bool use_b = st == handshake::step::start_link;
  const std::string flow(hs_->flow());
  if (!use_b) {
    const round_outcome& round = hs_->round();
    apply_results(round);
    if (round.ok == 0) {
      // §4.5: a response mentioning kites with zero OK: give up on this relay for a while.
      close_conn();
      conn_.reset();
      set_error(round.any_invalid ? "every kite was refused" : "no kite accepted");
      co_return round.any_invalid ? outcome::rejected
                                  : (round.any_duplicate ? outcome::duplicate : outcome::failed);
    }
  }
  // 4. The tunnel link. Bytes read past the response head are tunnel bytes.
  kiteline::tunnel::link_options lo;
  lo.role = mux::role::connector;
  lo.session.ping_interval =
      ctx_->cfg.keepalive ? std::chrono::duration_cast<mux::duration>(*ctx_->cfg.keepalive)
                          : std::chrono::duration_cast<mux::duration>(std::chrono::seconds(116));
  lo.session.receive_budget = std::max<std::size_t>(ctx_->cfg.process.buffers_kib, 64) * 1024;
  lo.session.evict_after = std::chrono::seconds(ctx_->cfg.process.evict_after_s);
  lo.session.stalled_after = std::chrono::seconds(ctx_->cfg.process.stalled_after_s);
  lo.session.half_closed_timeout =
      std::chrono::seconds(ctx_->cfg.process.half_closed_timeout_s);
  lo.session.idle_timeout = ctx_->cfg.origin_idle_timeout;
  lo.accept_compressed = !ctx_->cfg.process.nozchunks;
  lo.send_compressed = hs_->relay_zchunks() && !ctx_->cfg.process.nozchunks;
  lo.compression_level = ctx_->opts.compression_level;
  lo.outbox_high_water = ctx_->opts.outbox_high_water;
  std::weak_ptr<tunnel_client> weak = weak_from_this();
  kiteline::tunnel::link::hooks hooks;
  hooks.open_local = [weak](const mux::open_local& o) {
    if (auto s = weak.lock()) {
      s->dialer_.open(o, s->link_, s->uuid_);
    }
  };
  hooks.control = [weak](const mux::control_chunk& c) {
    if (auto s = weak.lock()) {
      s->on_control(c);
    }
  };
  // Every stream the relay opens counts against --max_conns from open_local until it leaves the
  // link's table (whatever ends it), so the gauge cannot drift.
  hooks.stream_ended = [dialer = dialer_](wire::sid_t) mutable { dialer.stream_ended(); };
  if (ctx_->opts.access_log) {
    lo.stream_notes = true;
    hooks.stream_finished = [sink = ctx_->opts.access_log, relay = label_](
                                const kiteline::tunnel::stream_note& n, std::uint64_t read,
                                std::uint64_t delivered) {
      sink->write(accesslog::stream_record(accesslog::side::connector, n, read, delivered, relay));
    };
  }
  hooks.closed = [weak](const std::string& why) {
    if (auto s = weak.lock()) {
      s->round_error_ = why.empty() ? "tunnel closed" : why;
      s->round_done_.notify();
      s->link_closed_.notify();
    }
  };
  const std::vector<std::byte> leftover(hs_->leftover().begin(), hs_->leftover().end());
  tls::transport t = std::move(*conn_);
  conn_.reset();
  link_ = std::make_shared<kiteline::tunnel::link>(std::move(t), lo, std::move(hooks), ctx_->log,
                                             "relay " + label_);
  round_error_.clear();
  link_->start(leftover);
  if (use_b) {
    // Flow B: the signed kites in one NOOP chunk; the results come back as a control chunk.
    link_->send_control(as_bytes(hs_->to_write()));
    asio::steady_timer timer(ex_);
    timer.expires_after(ctx_->opts.handshake_timeout);
    while (hs_->awaiting_result() && round_error_.empty() && !stopped_) {
      auto w = co_await (round_done_.wait() || timer.async_wait(use_tuple));
      if (w.index() == 1) {
        round_error_ = "timed out waiting for the kite round result";
      }
    }
    if (hs_->verdict() == handshake_verdict::pending ||
        hs_->verdict() == handshake_verdict::bad_result) {
      const std::string why =
          round_error_.empty()
              ? "stopped"
              : round_error_ + " before the kite round result (kites refused by the relay?)";
      set_error(why);
      ctx_->log->warn("relay {}: handshake failed: {}", label_, why);
      link_->close(why);
      link_.reset();
      co_return outcome::failed;
    }
    const round_outcome& round = hs_->round();
    apply_results(round);
    if (round.ok == 0) {
      link_->close("no kite accepted");
      link_.reset();
      set_error(round.any_invalid ? "every kite was refused" : "no kite accepted");
      co_return round.any_invalid ? outcome::rejected
                                  : (round.any_duplicate ? outcome::duplicate : outcome::failed);
    }
  }
  ++ctx_->counters.tunnels_up;
  {
    std::lock_guard lock(status_mu_);
    status_.live = true;
    status_.address = ctx_->opts.tunnel_dialer ? "" : chosen.address().to_string();
    status_.draining = false;
    status_.flow = flow;
    status_.session_id = session_id_;
    ++status_.tunnels;
    status_.live_kites = static_cast<std::size_t>(std::count(live_.begin(), live_.end(), true));
    status_.live_services = live_indexes();
  }
  ctx_->notify_tunnels_changed();
  ctx_->log->info("relay {}: tunnel up (flow {}, {} kite(s), zchunks {})", label_, flow,
                  hs_->round().ok,
                  lo.send_compressed ? "on" : "off");
  // 5. Serve until the tunnel ends (lost, dead after PING, or stop()).
  while (!link_->closed() && !stopped_) {
    co_await link_closed_.wait();
  }
  const std::string why = round_error_.empty() ? "tunnel closed" : round_error_;
  link_->close("connector stopping");
  link_.reset();
  std::fill(live_.begin(), live_.end(), false);
  ++ctx_->counters.tunnels_lost;
  {
    std::lock_guard lock(status_mu_);
    status_.live = false;
    status_.live_kites = 0;
    status_.live_services.clear();
    status_.quota = {};  // the relay states its limits again on the next tunnel
    status_.last_error = why;
    status_.address.clear();
  }
  ctx_->notify_tunnels_changed();
  if (!stopped_) {
    // After a drain notice the relay closing the tunnel is the expected end, not a fault.
    ctx_->log->log(status().draining ? spdlog::level::info : spdlog::level::warn,
                   "relay {}: tunnel lost: {}", label_, why);
  }
  co_return outcome::ended;
}

std::vector<std::size_t> tunnel_client::live_indexes() const {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < live_.size(); ++i) {
    if (live_[i]) {
      out.push_back(i);
    }
  }
  return out;
}

std::pair<kiteline::tunnel::link_stats, std::size_t> tunnel_client::link_stats() const {
  if (!link_) {
    return {};
  }
  return {link_->stats(), link_->stream_count()};
}

net::awaitable<std::optional<handshake::step>> tunnel_client::exchange() {
  const std::string_view text = hs_->to_write();
  asio::steady_timer timer(ex_);
  timer.expires_after(ctx_->opts.handshake_timeout);
  auto w = co_await (conn_->write(asio::buffer(text.data(), text.size())) ||
                     timer.async_wait(use_tuple));
  if (w.index() == 1 || std::get<0>(w)) {
    set_error("handshake: write failed");
    ctx_->log->warn("relay {}: handshake: write failed", label_);
    co_return std::nullopt;
  }
  handshake::step st = hs_->on_written();
  timer.expires_after(ctx_->opts.handshake_timeout);
  std::array<std::byte, 4096> buf{};
  // Bounded by the handshake's max_head bytes and the handshake timeout.
  std::error_code ec;
  while (st == handshake::step::read) {
    auto r = co_await (conn_->read_some(buf) || timer.async_wait(use_tuple));
    if (r.index() == 1) {
      ec = asio::error::timed_out;
      break;
    }
    auto [rec, n] = std::get<0>(r);
    if (rec || n == 0) {
      ec = rec ? rec : std::error_code(asio::error::eof);
      break;
    }
    st = hs_->on_bytes(std::span<const std::byte>(buf).first(n));
  }
  if (!ec && hs_->verdict() == handshake_verdict::bad_reply) {
    ec = hs_->error();
  }
  if (ec) {
    const std::string why = hs_->has_reply_bytes() ? "handshake: bad reply: " + ec.message()
                                                   : "handshake: " + ec.message();
    set_error(why);
    ctx_->log->warn("relay {}: {}", label_, why);
    co_return std::nullopt;
  }
  session_id_ = hs_->session_id();
  if (hs_->verdict() == handshake_verdict::refused) {
    set_error("handshake refused: " + hs_->refusal_line());
    ctx_->log->warn("relay {}: handshake refused: {} ({})", label_, hs_->refusal_line(),
                    hs_->error().message());
    co_return std::nullopt;
  }
  co_return st;
}

void tunnel_client::on_control(const mux::control_chunk& c) {
  std::vector<wire::header_field> fields;
  fields.reserve(c.fields.size());
  for (const auto& f : c.fields) {
    fields.push_back({f.name, f.value});
  }
  if (const auto grace = wire::drain_notice_grace(fields)) {
    on_relay_draining(*grace);
  }
  if (c.quota) {
    on_quota_chunk(*c.quota);
  }
  if (!wire::has_handshake_fields(fields) || !hs_) {
    return;
  }
  std::error_code bad;
  if (hs_->awaiting_result()) {
    (void)hs_->on_result_fields(fields);
    if (hs_->verdict() == handshake_verdict::bad_result) {
      bad = hs_->error();
    } else {
      session_id_ = hs_->session_id();
      round_done_.notify();
      return;
    }
  } else if (auto r = wire::parse_result_fields(fields); r) {
    // A later round (the relay re-sent results): keep the session id current.
    apply_results(hs_->classify(*r));
    return;
  } else {
    bad = r.error();
  }
  ctx_->log->warn("relay {}: bad result chunk: {}", label_, bad.message());
  round_error_ = "bad result chunk";
  if (link_) {
    link_->close("bad result chunk");
  }
}

void tunnel_client::on_relay_draining(std::uint32_t grace) {
  {
    std::lock_guard lock(status_mu_);
    if (status_.draining) {
      return;
    }
    status_.draining = true;
  }
  ctx_->notify_tunnels_changed();
  ctx_->log->info("relay {}: the relay is draining (going away within {} s): its {} stream(s) "
                  "in flight stay on it, new ones go to the other relays",
                  label_, grace, link_ ? link_->stream_count() : 0);
  if (ctx_->relay_going) {
    ctx_->relay_going(label_, uuid_, grace);
  }
}

std::uint64_t tunnel_client::outbox_peak() const {
  return link_ ? link_->stats().outbox_peak : 0;
}

}  // namespace kiteline::connector
