// kiteline_tunnel_load: N simulated connectors against one relay (issue #23, item 7).
//
// Each tunnel is one TLS connection carrying one kite, kNNNNN.<domain>, signed with the relay's
// --domain secret in the two rounds of spec §4.5 (Flow B: the first request gets SignThis, the
// signed kite goes in a NOOP chunk). Once registered, a tunnel answers the relay's PINGs with
// PONGs, sends its own PING when nothing arrived for --ping seconds (the connector's rule,
// spec §5.8) and gives every stream the relay opens a tiny HTTP reply. A lost tunnel reconnects
// with the kiteline connector's jittered backoff (connector::backoff). New connections are
// bounded (--concurrency handshakes in flight), so the tool measures the relay, not a SYN flood.
//
// A probe sends `GET /` for one kite through the relay's visitor port every --probe_ms and
// records the latencies. Phases: register all (round 1), ping every tunnel once (liveness
// sweep), print READY; then, when tunnels are lost (the driver restarts the relay), time until
// all are registered again (round 2) and the probe's latencies once the probe kite is back.
//
// Usage: kiteline_tunnel_load --port=P --secret=S [--n=10000] [--host=127.0.0.1]
//          [--domain=load.test] [--concurrency=64] [--sources=1] [--sni=fe.test] [--plain]
//          [--probe=0|none] [--probe_ms=10] [--ping=116] [--settle=3] [--max_seconds=300]
//          [--round1_seconds=240] [--no_restart] [--first=0] [--hold]
// --first=K names the kites from kK on (a second instance beside a first one). --hold keeps
// probing after round 2 until SIGTERM/SIGINT, then reports: bench/tunnels.sh runs the probe
// as its own instance (--n=1 --hold) so that the probe's kite does not wait behind the
// load's 10 000 handshakes in this single-threaded tool, as a real connector would not.
// --sources=K binds tunnels to 127.0.0.2 .. 127.0.0.(K+1) in turn (loopback only). "RESULT "
// lines are for bench/tunnels.sh; a progress line goes to stdout once a second.
#include <openssl/ssl.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <functional>
#include <utility>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "tunnel_load_options.hpp"
#include "connector/backoff.hpp"
#include "connector/kite_signing.hpp"
#include "net/asio.hpp"
#include "wire/chunk_encoder.hpp"
#include "wire/frame_decoder.hpp"
#include "wire/handshake.hpp"
#include "wire/kite_auth.hpp"

namespace {

using kiteline::net::awaitable;
using kiteline::net::tcp;
using kiteline::net::use_tuple;
using clk = std::chrono::steady_clock;
using ssl_stream = asio::ssl::stream<tcp::socket>;

using kiteline_bench::options;

double secs(clk::duration d) { return std::chrono::duration<double>(d).count(); }
/// `n` random lower-case hex digits (n <= 16); the first is never 't' (spec §4.3).
std::string hex(std::mt19937_64& rng, int n) {
  char b[17];
  std::snprintf(b, sizeof b, "%016llx", static_cast<unsigned long long>(rng()));
  return std::string(b, static_cast<std::size_t>(n));
}

/// A one-slot-per-handshake gate, handed over in FIFO order.
class gate {
 public:
  gate(asio::any_io_executor ex, std::size_t cap) : ex_(std::move(ex)), cap_(cap) {}
  awaitable<void> acquire() {
    if (busy_ < cap_ && waiters_.empty()) {
      ++busy_;
      co_return;
    }
    asio::steady_timer t(ex_, clk::time_point::max());
    waiters_.push_back(&t);
    (void)co_await t.async_wait(use_tuple);  // woken by release(): the slot is ours
  }
  void release() {
    if (waiters_.empty()) {
      --busy_;
      return;
    }
    waiters_.front()->cancel();
    waiters_.pop_front();
  }
  [[nodiscard]] std::size_t busy() const { return busy_; }

 private:
  asio::any_io_executor ex_;
  std::size_t cap_;
  std::size_t busy_ = 0;
  std::deque<asio::steady_timer*> waiters_;
};

struct probe_sample {
  double at;  // seconds since start
  double ms;
  bool ok;
};

struct tunnel;

struct load_state {
  options opt;
  asio::io_context io{1};
  std::unique_ptr<asio::ssl::context> ctx;
  std::unique_ptr<gate> slots;
  std::mt19937_64 rng{std::random_device{}()};
  clk::time_point t0 = clk::now();
  std::vector<std::shared_ptr<tunnel>> tunnels;
  std::size_t up = 0;
  std::size_t target = 0;  // tunnels round 2 waits for: N, or what round 1 reached in time
  std::size_t ever_up = 0;
  std::map<std::string, std::size_t> failures;  // registration attempts that failed, by reason
  std::map<std::string, std::size_t> losses;    // registered tunnels lost, by reason
  std::uint64_t pongs = 0, pings_sent = 0, streams = 0;
  // phases: 0 round 1, 1 sweep, 2 ready (waiting for a restart), 3 round 2, 4 settle, 5 done
  int phase = 0;
  clk::time_point round2_start{};
  clk::time_point probe_back{};
  bool probe_up = false;
  std::vector<probe_sample> samples;
  bool ready = false;  // READY printed: the next lost tunnel starts round 2
  bool terminated = false;  // SIGTERM/SIGINT: report and stop
  bool stopping = false;
};

load_state* g = nullptr;

struct tunnel : std::enable_shared_from_this<tunnel> {
  std::size_t idx = 0;
  std::string kite;
  std::string bsalt;
  std::unique_ptr<ssl_stream> tls;
  std::unique_ptr<tcp::socket> raw;
  std::string outq, busy;
  bool writing = false;
  bool up = false;
  bool sweep_ok = false;
  clk::time_point last_rx{}, ping_at{};
  bool ping_out = false;

  void close() {
    std::error_code ec;
    if (tls) tls->lowest_layer().close(ec);
    if (raw) raw->close(ec);
  }
  template <class Buf>
  awaitable<std::tuple<std::error_code, std::size_t>> read_some(const Buf& b) {
    if (tls) co_return co_await tls->async_read_some(b, use_tuple);
    co_return co_await raw->async_read_some(b, use_tuple);
  }
  awaitable<std::error_code> write_all(const std::string& s) {
    // (No co_await inside a conditional expression: GCC 12 miscompiles it.)
    std::tuple<std::error_code, std::size_t> r;
    if (tls) {
      r = co_await asio::async_write(*tls, asio::buffer(s), use_tuple);
    } else {
      r = co_await asio::async_write(*raw, asio::buffer(s), use_tuple);
    }
    co_return std::get<0>(r);
  }
  void send(std::string_view bytes) {
    outq.append(bytes);
    if (writing) return;
    writing = true;
    asio::co_spawn(g->io, flush(shared_from_this()), asio::detached);
  }
  static awaitable<void> flush(std::shared_ptr<tunnel> self) {
    while (!self->outq.empty()) {
      self->busy.clear();
      std::swap(self->busy, self->outq);
      const std::error_code ec = co_await self->write_all(self->busy);
      if (ec) {
        self->close();
        break;
      }
    }
    self->writing = false;
  }
};

void count(std::map<std::string, std::size_t>& m, std::string why) { ++m[std::move(why)]; }

/// Connects, runs TLS and both handshake rounds. "" once the kite is OK, else the reason.
awaitable<std::string> register_kite(std::shared_ptr<tunnel> t, std::string& leftover) {
  auto& o = g->opt;
  auto ex = co_await asio::this_coro::executor;
  tcp::socket sock(ex);
  std::error_code ec;
  sock.open(tcp::v4(), ec);
  if (o.sources > 0) {
    const auto src = asio::ip::make_address_v4(
        static_cast<asio::ip::address_v4::uint_type>(0x7f000002U + t->idx % o.sources));
    sock.bind({src, 0}, ec);
    if (ec) co_return "bind: " + ec.message();
  }
  tcp::endpoint relay(asio::ip::make_address(o.host), static_cast<unsigned short>(o.port));
  auto [cec] = co_await sock.async_connect(relay, use_tuple);
  if (cec) co_return "connect: " + cec.message();
  sock.set_option(tcp::no_delay(true), ec);
  if (o.plain) {
    t->raw = std::make_unique<tcp::socket>(std::move(sock));
  } else {
    t->tls = std::make_unique<ssl_stream>(std::move(sock), *g->ctx);
    if (!o.sni.empty()) {
      SSL_ctrl(t->tls->native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
               const_cast<char*>(o.sni.c_str()));
    }
    auto [hec] = co_await t->tls->async_handshake(asio::ssl::stream_base::client, use_tuple);
    if (hec) co_return "tls: " + hec.message();
  }
  namespace w = kiteline::wire;
  const auto version = std::string(kiteline::connector::kiteline_pagekite_version);
  w::kite_request k{"http", t->kite, t->bsalt, "", ""};
  k.signature = w::make_kite_signature(o.secret, k.proto, k.domain, k.bsalt, "", hex(g->rng, 8));
  w::handshake_request req;
  req.add_kites = true;
  req.versions = {version, version};
  req.kites = {k};
  std::error_code wec = co_await t->write_all(w::format_handshake_request(req));
  if (wec) co_return "write: request (" + wec.message() + ")";
  std::string in;
  std::size_t end = 0;
  while ((end = in.find("\r\n\r\n")) == std::string::npos) {
    char buf[4096];
    auto [rec, n] = co_await t->read_some(asio::buffer(buf));
    if (rec) co_return "read: response (" + rec.message() + ")";
    in.append(buf, n);
    if (in.size() > 16384) co_return "response: too large";
  }
  auto resp = w::parse_handshake_response(std::string_view(in).substr(0, end + 4));
  if (!resp) co_return "response: " + in.substr(0, std::min(in.find('\r'), std::size_t{40}));
  std::string fsalt;
  for (const auto& r : resp->results) {
    if (r.status == w::kite_status::sign_this) fsalt = r.fsalt;
    if (r.status == w::kite_status::ok) co_return "";
    if (r.status == w::kite_status::invalid) co_return "invalid: " + r.why;
    if (r.status == w::kite_status::duplicate) co_return "duplicate";
  }
  if (fsalt.empty()) co_return "response: no SignThis";
  if (!resp->add_kites) co_return "response: no AddKites";
  // Round two in the tunnel: the challenge token is the FSALT, signed again.
  k.fsalt = fsalt;
  k.signature = w::make_kite_signature(o.secret, k.proto, k.domain, k.bsalt, k.fsalt,
                                       hex(g->rng, 8));
  const auto payload = w::format_kite_round_payload(version, std::span(&k, 1));
  wec = co_await t->write_all(w::frame_control_payload(payload));
  if (wec) co_return "write: round two (" + wec.message() + ")";
  leftover = in.substr(end + 4);
  co_return std::string("round2");  // the answer is a chunk: serve() reads it
}

/// The tunnel after round one: reads frames, completes round two (calls `on_ok` when the result
/// chunk says OK), answers PINGs and streams. Returns why the tunnel ended.
awaitable<std::string> serve(std::shared_ptr<tunnel> t, std::string leftover,
                             std::function<void()> on_ok) {
  namespace w = kiteline::wire;
  w::frame_decoder dec(w::frame_limits{}, false);
  std::vector<std::byte> buf(16384);
  std::span<const std::byte> in(reinterpret_cast<const std::byte*>(leftover.data()),
                                leftover.size());
  static const std::string reply =
      "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n";
  for (;;) {
    for (;;) {
      auto step = dec.feed(in);
      in = in.subspan(step.consumed);
      if (step.event == w::frame_event::need_more) break;
      if (step.event == w::frame_event::error || step.event == w::frame_event::corrupt_frame) {
        co_return "framing: " + step.error.message();
      }
      if (step.event != w::frame_event::headers) continue;
      const auto& h = dec.headers();
      if (h.ping) {
        auto pong = w::make_pong(*h.ping);
        t->send(pong.text());
      }
      if (h.pong) {
        ++g->pongs;
        t->ping_out = false;
        if (h.pong->starts_with("sweep")) t->sweep_ok = true;
      }
      if (on_ok && !h.extra.empty() && w::has_handshake_fields(h.extra)) {
        auto res = w::parse_result_fields(h.extra);
        if (!res) co_return "round two: " + res.error().message();
        bool ok = false;
        for (const auto& r : res->results) {
          ok = ok || r.status == w::kite_status::ok;
          if (r.status == w::kite_status::invalid) co_return "round two: invalid: " + r.why;
          if (r.status == w::kite_status::duplicate) co_return "round two: duplicate";
        }
        if (!ok) co_return "round two: no OK";
        std::exchange(on_ok, nullptr)();
      }
      if (h.sid && !h.host.empty() && !h.eof) {
        ++g->streams;
        const std::string sid = std::to_string(*h.sid);
        t->send(w::frame_control_payload("SID: " + sid + "\r\n\r\n" + reply));
        t->send(w::make_eof(*h.sid, w::eof_flags::both).text());
      }
    }
    auto [ec, n] = co_await t->read_some(asio::buffer(buf));
    if (ec) co_return ec == asio::error::eof ? std::string("eof") : ec.message();
    if (n == 0) co_return "eof";
    t->last_rx = clk::now();
    in = std::span<const std::byte>(buf.data(), n);
  }
}

void mark_up(tunnel& t) {
  t.up = true;
  ++g->up;
  ++g->ever_up;
  t.last_rx = clk::now();
  t.ping_out = false;
  if (t.idx == g->opt.probe) {
    if (g->phase >= 3) g->probe_back = clk::now();
    g->probe_up = true;
  }
}

awaitable<void> run_tunnel(std::shared_ptr<tunnel> t) {
  kiteline::connector::backoff bo;
  std::uniform_real_distribution<double> u01(0.0, 1.0);
  asio::steady_timer wait(g->io);
  while (!g->stopping) {
    co_await g->slots->acquire();
    t->tls.reset();
    t->raw.reset();
    t->outq.clear();
    std::string leftover;
    // A registration that takes 30 s (pagekite.py's handshake timeout) is given up.
    asio::steady_timer deadline(g->io, std::chrono::seconds(30));
    bool timed_out = false;
    deadline.async_wait([&timed_out, t](std::error_code ec) {
      if (!ec) {
        timed_out = true;
        t->close();
      }
    });
    bool slot = true;
    bool registered = false;
    auto now_up = [&] {
      registered = true;
      mark_up(*t);
      slot = false;
      deadline.cancel();
      g->slots->release();
    };
    std::string why = co_await register_kite(t, leftover);
    if (why.empty()) now_up();
    if (why.empty() || why == "round2") {
      std::function<void()> on_ok;
      if (!registered) on_ok = now_up;
      why = co_await serve(t, leftover, std::move(on_ok));
    }
    if (slot) {
      deadline.cancel();
      g->slots->release();
    }
    if (registered) {
      t->up = false;
      --g->up;
      if (t->idx == g->opt.probe) g->probe_up = false;
      if (g->ready && g->phase == 2) {
        g->phase = 3;
        g->round2_start = clk::now();
        std::printf("lost first tunnel at t=%.3f: %s\n", secs(clk::now() - g->t0), why.c_str());
      }
      count(g->losses, why);
    } else {
      count(g->failures, timed_out ? std::string("timeout (30 s)") : why);
    }
    t->close();
    wait.expires_after(bo.next(u01(g->rng)));
    (void)co_await wait.async_wait(use_tuple);
  }
}

awaitable<void> probe() {
  auto ex = co_await asio::this_coro::executor;
  asio::steady_timer pace(ex);
  const auto& o = g->opt;
  char name[64];
  std::snprintf(name, sizeof name, "k%05zu.%s", o.probe + o.first, o.domain.c_str());
  const std::string req =
      std::string("GET / HTTP/1.1\r\nHost: ") + name + "\r\nConnection: close\r\n\r\n";
  tcp::endpoint relay(asio::ip::make_address(o.host), static_cast<unsigned short>(o.port));
  while (g->phase < 5) {
    const auto start = clk::now();
    tcp::socket s(ex);
    asio::steady_timer limit(ex, std::chrono::seconds(2));
    limit.async_wait([&s](std::error_code ec) {
      if (!ec) s.close(ec);
    });
    std::string got;
    auto [ec] = co_await s.async_connect(relay, use_tuple);
    if (!ec) {
      auto [wec, wn] = co_await asio::async_write(s, asio::buffer(req), use_tuple);
      ec = wec;
    }
    while (!ec) {
      char b[1024];
      auto [rec, n] = co_await s.async_read_some(asio::buffer(b), use_tuple);
      got.append(b, n);
      ec = rec;
    }
    limit.cancel();
    const bool ok = got.starts_with("HTTP/1.1 200") && got.ends_with("ok\n");
    g->samples.push_back({secs(start - g->t0), secs(clk::now() - start) * 1000.0, ok});
    pace.expires_at(start + std::chrono::milliseconds(o.probe_ms));
    (void)co_await pace.async_wait(use_tuple);
  }
}

void probe_report(const char* label, double from, double to) {
  std::vector<double> ok;
  std::size_t bad = 0;
  for (const auto& s : g->samples) {
    if (s.at < from || s.at > to) continue;
    if (s.ok) ok.push_back(s.ms);
    else ++bad;
  }
  std::sort(ok.begin(), ok.end());
  auto pct = [&](double p) {
    return ok.empty() ? 0.0 : ok[std::min(ok.size() - 1, static_cast<std::size_t>(p * static_cast<double>(ok.size())))];
  };
  std::printf("RESULT probe_%s ok=%zu failed=%zu p50_ms=%.2f p99_ms=%.2f max_ms=%.2f\n", label,
              ok.size(), bad, pct(0.50), pct(0.99), ok.empty() ? 0.0 : ok.back());
}

void print_failures(const char* label, const std::map<std::string, std::size_t>& m) {
  std::printf("RESULT %s", label);
  for (const auto& [k, v] : m) std::printf(" [%s]=%zu", k.c_str(), v);
  std::printf("\n");
}

void print_progress() {
  std::size_t f = 0;
  for (const auto& [k, v] : g->failures) f += v;
  std::printf("t=%.1f phase=%d up=%zu handshaking=%zu failures=%zu pongs=%llu streams=%llu\n",
              secs(clk::now() - g->t0), g->phase, g->up, g->slots->busy(), f,
              static_cast<unsigned long long>(g->pongs),
              static_cast<unsigned long long>(g->streams));
  std::fflush(stdout);
}

/// The connector's keepalive (PING after --ping s without input; dead 40 s after an unanswered
/// PING), the phases, and the progress line.
awaitable<void> monitor() {
  asio::steady_timer tick(g->io);
  const auto& o = g->opt;
  clk::time_point phase_at = clk::now();
  for (int n = 0;; ++n) {
    tick.expires_after(std::chrono::milliseconds(100));
    (void)co_await tick.async_wait(use_tuple);
    const auto now = clk::now();
    if (n % 10 == 0) print_progress();
    for (auto& t : g->tunnels) {
      if (!t->up) continue;
      if (t->ping_out && now - t->ping_at > std::chrono::seconds(40)) {
        t->close();  // dead: the reader ends and the tunnel reconnects
      } else if (!t->ping_out && now - t->last_rx > std::chrono::seconds(o.ping_s)) {
        t->ping_out = true;
        t->ping_at = now;
        ++g->pings_sent;
        t->send(kiteline::wire::make_ping("keepalive").text());
      }
    }
    if (secs(now - g->t0) > o.max_seconds) {
      std::printf("RESULT gave_up_after_s=%d up=%zu\n", o.max_seconds, g->up);
      if (o.probing && g->phase >= 3 && g->probe_back != clk::time_point{}) {
        probe_report("after_restart", secs(g->probe_back - g->t0), secs(now - g->t0));
      }
      break;
    }
    const bool round1_late = secs(now - g->t0) > o.round1_seconds;
    if (g->phase == 0 && (g->up == o.n || round1_late)) {
      std::printf("RESULT round1_registered=%zu seconds=%.3f%s\n", g->up, secs(now - g->t0),
                  g->up == o.n ? "" : " incomplete");
      g->target = g->up;
      g->phase = 1;
      phase_at = now;
      for (auto& t : g->tunnels) {
        t->sweep_ok = false;
        if (t->up) t->send(kiteline::wire::make_ping("sweep").text());
      }
    } else if (g->phase == 1) {
      std::size_t alive = 0;
      for (auto& t : g->tunnels) alive += t->up && t->sweep_ok ? 1U : 0U;
      if (alive == g->target || now - phase_at > std::chrono::seconds(20)) {
        std::printf("RESULT alive=%zu of=%zu sweep_seconds=%.3f\n", alive, g->target,
                    secs(now - phase_at));
        phase_at = now;
        g->phase = 2;
      }
    } else if (g->phase == 2 && !g->ready && now - phase_at > std::chrono::seconds(o.settle_s)) {
      if (o.probing) probe_report("steady", secs(phase_at - g->t0), secs(now - g->t0));
      print_failures("failures_round1", g->failures);
      std::printf("READY\n");
      std::fflush(stdout);
      g->ready = true;
      if (!o.restart) break;
    } else if (g->phase == 3 && g->up >= g->target) {
      std::printf("RESULT round2_registered=%zu seconds=%.3f", g->up, secs(now - g->round2_start));
      if (o.probing) std::printf(" probe_back_after_s=%.3f", secs(g->probe_back - g->round2_start));
      std::printf("\n");
      g->phase = 4;
      phase_at = now;
    } else if (g->phase == 4 && (o.hold ? g->terminated
                                        : now - phase_at > std::chrono::seconds(o.settle_s))) {
      if (o.probing) probe_report("after_restart", secs(g->probe_back - g->t0), secs(now - g->t0));
      break;
    }
    if (g->terminated && g->phase != 4) {
      std::printf("RESULT terminated_in_phase=%d\n", g->phase);
      if (o.probing && g->phase >= 3 && g->probe_back != clk::time_point{}) {
        probe_report("after_restart", secs(g->probe_back - g->t0), secs(now - g->t0));
      }
      break;
    }
  }
  print_progress();
  print_failures("failures", g->failures);
  print_failures("losses", g->losses);
  std::printf("RESULT ever_registered=%zu pings_sent=%llu pongs=%llu streams=%llu\n",
              g->ever_up, static_cast<unsigned long long>(g->pings_sent),
              static_cast<unsigned long long>(g->pongs),
              static_cast<unsigned long long>(g->streams));
  std::fflush(stdout);
  g->phase = 5;
  g->stopping = true;
  g->io.stop();
}

}  // namespace

int main(int argc, char** argv) {
  load_state st;
  g = &st;
  if (!kiteline_bench::parse(argc, argv, st.opt)) return 2;
  st.ctx = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
  st.ctx->set_verify_mode(asio::ssl::verify_none);  // a load tool on loopback: no CA to check
  SSL_CTX_set_mode(st.ctx->native_handle(), SSL_MODE_RELEASE_BUFFERS);
  st.slots = std::make_unique<gate>(st.io.get_executor(), st.opt.concurrency);
  st.tunnels.reserve(st.opt.n);
  for (std::size_t i = 0; i < st.opt.n; ++i) {
    auto t = std::make_shared<tunnel>();
    t->idx = i;
    char name[64];
    std::snprintf(name, sizeof name, "k%05zu.%s", i + st.opt.first, st.opt.domain.c_str());
    t->kite = name;
    t->bsalt = hex(st.rng, 16) + hex(st.rng, 16);
    st.tunnels.push_back(t);
    asio::co_spawn(st.io, run_tunnel(t), asio::detached);
  }
  asio::co_spawn(st.io, monitor(), asio::detached);
  if (st.opt.probing) asio::co_spawn(st.io, probe(), asio::detached);
  asio::signal_set stop(st.io, SIGTERM, SIGINT);
  stop.async_wait([](std::error_code ec, int) {
    if (!ec) g->terminated = true;
  });
  st.io.run();
  return 0;
}
