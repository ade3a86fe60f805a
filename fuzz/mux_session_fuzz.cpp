// libFuzzer target: drives mux::session (both roles) with a random sequence of inputs and checks
// its invariants after every step (stream bound, budget accounting, SID references).
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <span>
#include <string_view>
#include <variant>
#include <vector>

#include "mux/session.hpp"

namespace {

using namespace kiteline;
using mux::sid_t;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "mux_session_fuzz invariant violated: %s\n", what);
  std::abort();
}

#define FUZZ_CHECK(cond)  \
  do {                    \
    if (!(cond)) {        \
      fail(#cond);        \
    }                     \
  } while (0)

class reader {
 public:
  explicit reader(std::span<const std::byte> in) : in_(in) {}
  bool empty() const { return pos_ >= in_.size(); }
  std::uint8_t u8() { return pos_ < in_.size() ? static_cast<std::uint8_t>(in_[pos_++]) : 0; }
  std::uint32_t u16() { return static_cast<std::uint32_t>(u8()) << 8U | u8(); }
  std::span<const std::byte> bytes(std::size_t n) {
    n = std::min(n, in_.size() - std::min(pos_, in_.size()));
    auto out = in_.subspan(std::min(pos_, in_.size()), n);
    pos_ += n;
    return out;
  }

 private:
  std::span<const std::byte> in_;
  std::size_t pos_ = 0;
};

constexpr std::array<std::string_view, 4> protos{"http", "raw", "", "https"};
constexpr std::array<std::string_view, 3> hosts{"foo.example", "", "a.b"};
constexpr std::array<std::string_view, 3> ping_values{
    "1", "1795342288.6446",
    "0123456789012345678901234567890123456789012345678901234567890123456789-long"};
constexpr std::array<kiteline::wire::header_field, 2> extra_fields{
    {{"X-PageKite-OK", "http:foo.example"}, {"X-Other", "v"}}};

struct checker {
  const mux::session& s;
  const mux::session_limits& l;
  std::set<sid_t> live;
  bool tunnel_paused = false;

  bool known(sid_t sid) const { return live.contains(sid); }

  void check(std::span<const mux::action> actions) {
    for (const auto& a : actions) {
      if (const auto* c = std::get_if<mux::send_chunk>(&a)) {
        FUZZ_CHECK(c->data.size() <= l.max_chunk_data || c->headers.eof);
        if (c->headers.ping) {
          FUZZ_CHECK(c->headers.ping->size() <= 64);
        } else if (!c->headers.proto.empty()) {
          FUZZ_CHECK(s.session_role() == mux::role::relay);
          FUZZ_CHECK(c->headers.sid && *c->headers.sid >= 1 && *c->headers.sid <= l.max_sid);
          FUZZ_CHECK(!known(*c->headers.sid));
          live.insert(*c->headers.sid);
        } else if (c->headers.eof) {
          FUZZ_CHECK(c->headers.sid.has_value());  // EOF replies may name unknown SIDs
        } else {
          FUZZ_CHECK(c->headers.sid && known(*c->headers.sid));  // data and SKB
        }
      } else if (const auto* p = std::get_if<mux::send_pong>(&a)) {
        FUZZ_CHECK(p->headers.pong && p->headers.pong->size() <= 64);
      } else if (const auto* o = std::get_if<mux::open_local>(&a)) {
        FUZZ_CHECK(s.session_role() == mux::role::connector);
        FUZZ_CHECK(!known(o->sid));
        live.insert(o->sid);
      } else if (const auto* d = std::get_if<mux::deliver>(&a)) {
        FUZZ_CHECK(known(d->sid) && !d->data.empty());
      } else if (const auto* x = std::get_if<mux::shutdown_local_write>(&a)) {
        FUZZ_CHECK(known(x->sid));
      } else if (const auto* y = std::get_if<mux::stop_local_read>(&a)) {
        FUZZ_CHECK(known(y->sid));
      } else if (const auto* pr = std::get_if<mux::pause_local_read>(&a)) {
        FUZZ_CHECK(known(pr->sid));
      } else if (const auto* rr = std::get_if<mux::resume_local_read>(&a)) {
        FUZZ_CHECK(known(rr->sid));
      } else if (const auto* cl = std::get_if<mux::close_local>(&a)) {
        FUZZ_CHECK(known(cl->sid));
        live.erase(cl->sid);
      } else if (const auto* ev = std::get_if<mux::evict_local>(&a)) {
        // Evicted when the budget overflowed (stalled share) or while the tunnel was paused
        // (budget full for evict_after): it held bytes, and the session forgot it.
        FUZZ_CHECK(known(ev->sid) && ev->held > 0);
        FUZZ_CHECK(tunnel_paused || ev->why == mux::evict_reason::stalled_share);
        live.erase(ev->sid);
      } else if (const auto* rp = std::get_if<mux::reap_local>(&a)) {
        FUZZ_CHECK(known(rp->sid));
        live.erase(rp->sid);
      } else if (std::holds_alternative<mux::pause_tunnel_read>(a)) {
        FUZZ_CHECK(!tunnel_paused);
        tunnel_paused = true;
      } else if (std::holds_alternative<mux::resume_tunnel_read>(a)) {
        FUZZ_CHECK(tunnel_paused);
        tunnel_paused = false;
      }
    }
    FUZZ_CHECK(s.check_invariants_for_test());
    FUZZ_CHECK(s.stream_count() <= l.max_streams);
    FUZZ_CHECK(s.stream_count() == live.size());
    for (sid_t sid : live) {
      FUZZ_CHECK(s.has_stream(sid));
    }
    FUZZ_CHECK(s.tunnel_read_paused() == tunnel_paused);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  reader r(std::as_bytes(std::span<const std::uint8_t>(data, size)));
  const std::uint8_t cfg = r.u8();
  const auto role = (cfg & 1U) != 0 ? mux::role::relay : mux::role::connector;
  mux::session_limits l;
  l.max_streams = 1U + (cfg >> 1U & 7U);
  l.max_sid = (cfg & 0x10U) != 0 ? 6 : 999999;
  l.stream_send_window = 64U + r.u8();
  l.ack_threshold = 1U + r.u8() % 64U;
  l.receive_budget = 32U + r.u8();
  l.max_chunk_data = 1U + r.u8() % 32U;
  l.max_refusals_per_tick = r.u8() % 8U;
  l.ping_interval = std::chrono::seconds(5);
  l.dead_after = std::chrono::seconds(3);
  l.stalled_after = std::chrono::seconds(1);
  l.half_closed_timeout = std::chrono::seconds(7);
  l.idle_timeout = (cfg & 0x20U) != 0 ? std::chrono::seconds(11) : mux::duration::zero();
  auto now = mux::time_point{} + std::chrono::hours(1);
  mux::session s(role, l, now);
  checker chk{s, l, {}, false};

  auto pick_sid = [&r]() -> sid_t {
    const std::uint8_t b = r.u8();
    return (b & 0x80U) != 0 ? 999999U - (b & 3U) : b % 10U;
  };

  while (!r.empty()) {
    const std::uint8_t op = r.u8();
    switch (op % 12U) {
      case 0: {
        const mux::stream_open o{protos[r.u8() % 2U], "foo.example", 80, "::1", 1, (op & 16U) != 0};
        auto res = s.open_stream(o, r.bytes(r.u8() % 80U));
        FUZZ_CHECK(res.has_value() || role == mux::role::connector ||
                   s.stream_count() == l.max_streams || s.stream_count() == l.max_sid);
        break;
      }
      case 1: {
        kiteline::wire::chunk_headers h;
        const std::uint32_t f = r.u16();
        if ((f & 1U) != 0) {
          h.noop = true;
        }
        if ((f & 2U) != 0) {
          h.sid = pick_sid();
        }
        if ((f & 4U) != 0) {
          h.proto = protos[r.u8() % protos.size()];
        }
        if ((f & 8U) != 0) {
          h.host = hosts[r.u8() % hosts.size()];
        }
        if ((f & 16U) != 0) {
          h.port = r.u16();
        }
        if ((f & 32U) != 0) {
          h.eof = static_cast<kiteline::wire::eof_flags>(1U + r.u8() % 3U);
        }
        if ((f & 64U) != 0) {
          h.ping = ping_values[r.u8() % ping_values.size()];
        }
        if ((f & 128U) != 0) {
          h.pong = ping_values[r.u8() % ping_values.size()];
        }
        if ((f & 256U) != 0) {
          const std::uint8_t k = r.u8();
          h.skb = (k & 0x80U) != 0 ? ~std::uint64_t{0} - k : k % 8U;
        }
        if ((f & 512U) != 0) {
          h.spd = 1;
        }
        if ((f & 1024U) != 0) {
          h.zrst = true;
        }
        if ((f & 2048U) != 0) {
          h.quota = -5;
        }
        if ((f & 4096U) != 0) {
          h.extra = extra_fields;
        }
        if ((f & 8192U) != 0) {
          h.rtls = true;
        }
        (void)s.on_chunk(h, r.bytes(r.u8() % 64U), (f & 16384U) == 0);
        break;
      }
      case 2:
        (void)s.on_chunk_data(r.bytes(r.u8() % 64U), (op & 16U) == 0);
        break;
      case 3: {
        const sid_t sid = pick_sid();
        if ((op & 16U) != 0) {  // framed in place by the driver (tunnel_link::read_in_place)
          (void)s.on_local_data_framed(sid, r.u8() % 128U);
        } else {
          (void)s.on_local_data(sid, r.bytes(r.u8() % 128U));
        }
        break;
      }
      case 4:
        (void)s.on_local_eof(pick_sid());
        break;
      case 5:
        (void)s.on_local_write_failed(pick_sid());
        break;
      case 6: {
        const sid_t sid = pick_sid();
        if (!s.close_stream(sid)) {
          chk.live.erase(sid);
        }
        break;
      }
      case 7: {
        const sid_t sid = pick_sid();
        (void)s.on_local_written(sid, r.u8() % 100U);
        break;
      }
      case 8:
        now += std::chrono::milliseconds(r.u16() * 10U);
        s.on_timer(now, (op & 16U) != 0 ? std::string_view{} : std::string_view{"tok"});
        break;
      case 9:
        now += std::chrono::milliseconds(r.u16());
        s.on_tunnel_bytes_received(now);
        break;
      case 10:
        s.on_tunnel_lost();
        break;
      default:
        break;  // no input: just re-check
    }
    chk.check(s.actions());
    s.clear_actions();
  }
  return 0;
}
