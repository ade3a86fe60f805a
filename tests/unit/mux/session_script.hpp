// Scripted-expectation helper for mux::session tests (style §10, after Boost.MySQL algo_test).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <variant>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/text.hpp"
#include "mux/session.hpp"

#include <gtest/gtest.h>

namespace kiteline::mux::test {

inline std::span<const std::byte> bytes_of(std::string_view s) {
  return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

inline std::string text_of(std::span<const std::byte> b) {
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

inline std::string escape(std::span<const std::byte> b) {
  std::string out;
  for (std::byte x : b) {
    const auto c = static_cast<unsigned char>(x);
    if (c == '\r') {
      out += "\\r";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20 || c >= 0x7f || c == '\\') {
      out += "\\x";
      out += hex_digit(c >> 4U);
      out += hex_digit(c);
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

inline std::string describe_headers(const outgoing_headers& h) {
  std::string out;
  auto add = [&out](std::string_view name, const std::string& value) {
    out += std::string(name) + ": " + value + " | ";
  };
  if (h.noop) {
    add("NOOP", "1");
  }
  if (h.sid) {
    add("SID", std::to_string(*h.sid));
  }
  if (!h.proto.empty()) {
    add("Proto", h.proto);
  }
  if (!h.host.empty()) {
    add("Host", h.host);
  }
  if (h.port) {
    add("Port", std::to_string(*h.port));
  }
  if (!h.rip.empty()) {
    add("RIP", h.rip);
  }
  if (h.rport) {
    add("RPort", std::to_string(*h.rport));
  }
  if (h.rtls) {
    add("RTLS", "1");
  }
  if (h.eof) {
    std::string v = "1";
    if (wire::has_read(*h.eof)) {
      v += "R";
    }
    if (wire::has_write(*h.eof)) {
      v += "W";
    }
    add("EOF", v);
  }
  if (h.ping) {
    add("PING", *h.ping);
  }
  if (h.pong) {
    add("PONG", *h.pong);
  }
  if (h.skb) {
    add("SKB", std::to_string(*h.skb));
  }
  return out;
}

template <class... F>
struct overloaded : F... {
  using F::operator()...;
};
template <class... F>
overloaded(F...) -> overloaded<F...>;

inline std::string describe(const action& a) {
  return std::visit(
      overloaded{
          [](const send_chunk& c) {
            return "send_chunk{" + describe_headers(c.headers) + escape(c.data) + "}";
          },
          [](const send_pong& c) {
            return "send_pong{" + describe_headers(c.headers) + escape(c.data) + "}";
          },
          [](const deliver& d) {
            return "deliver{" + std::to_string(d.sid) + ", " + escape(d.data) + "}";
          },
          [](const shutdown_local_write& x) {
            return "shutdown_local_write{" + std::to_string(x.sid) + "}";
          },
          [](const stop_local_read& x) { return "stop_local_read{" + std::to_string(x.sid) + "}"; },
          [](const close_local& x) { return "close_local{" + std::to_string(x.sid) + "}"; },
          [](const open_local& o) {
            return "open_local{" + std::to_string(o.sid) + " " + o.proto + " " + o.host + " " +
                   (o.port ? std::to_string(*o.port) : "-") + " " + o.rip + " " +
                   (o.rport ? std::to_string(*o.rport) : "-") + (o.rtls ? " rtls" : "") + "}";
          },
          [](const pause_local_read& x) {
            return "pause_local_read{" + std::to_string(x.sid) + "}";
          },
          [](const resume_local_read& x) {
            return "resume_local_read{" + std::to_string(x.sid) + "}";
          },
          [](const pause_tunnel_read&) { return std::string("pause_tunnel_read"); },
          [](const resume_tunnel_read&) { return std::string("resume_tunnel_read"); },
          [](const reset_compressor&) { return std::string("reset_compressor"); },
          [](const control_chunk& c) {
            std::string out = "control_chunk{";
            if (c.quota) {
              out += "Quota: " + std::to_string(*c.quota) + " | ";
            }
            for (const auto& f : c.fields) {
              out += f.name + ": " + f.value + " | ";
            }
            return out + "}";
          },
          [](const evict_local& e) {
            return "evict_local{" + std::to_string(e.sid) + ", " + std::to_string(e.held) +
                   (e.why == evict_reason::stalled_share ? ", stalled_share}" : "}");
          },
          [](const reap_local& r) {
            return "reap_local{" + std::to_string(r.sid) +
                   (r.why == reap_reason::idle ? ", idle}" : ", half_closed}");
          },
          [](const tunnel_dead&) { return std::string("tunnel_dead"); },
      },
      a);
}

inline std::vector<std::string> describe_all(std::span<const action> as,
                                             bool coalesce = false) {
  std::vector<std::string> out;
  std::string merged;
  std::optional<sid_t> merging;
  auto flush = [&] {
    if (merging) {
      out.push_back("deliver{" + std::to_string(*merging) + ", " + merged + "}");
      merging.reset();
      merged.clear();
    }
  };
  for (const auto& a : as) {
    const auto* d = std::get_if<deliver>(&a);
    if (coalesce && d != nullptr) {
      if (merging && *merging != d->sid) {
        flush();
      }
      merging = d->sid;
      merged += escape(d->data);
      continue;
    }
    flush();
    out.push_back(describe(a));
  }
  flush();
  return out;
}

inline send_chunk data_chunk(sid_t sid, std::string_view data) {
  send_chunk c;
  c.headers.sid = sid;
  c.data = bytes_of(data);
  return c;
}

inline send_chunk first_chunk(sid_t sid, std::string_view proto, std::string_view host,
                              std::uint32_t port, std::string_view rip, std::uint32_t rport,
                              bool rtls, std::string_view data) {
  send_chunk c = data_chunk(sid, data);
  c.headers.proto = proto;
  c.headers.host = host;
  c.headers.port = port;
  c.headers.rip = rip;
  c.headers.rport = rport;
  c.headers.rtls = rtls;
  return c;
}

inline send_chunk eof_chunk(sid_t sid, wire::eof_flags f) {
  send_chunk c = data_chunk(sid, "Bye!");
  c.headers.eof = f;
  return c;
}

inline send_chunk skb_chunk(sid_t sid, std::uint64_t skb) {
  send_chunk c;
  c.headers.noop = true;
  c.headers.sid = sid;
  c.headers.skb = skb;
  return c;
}

inline send_chunk ping_chunk(std::string_view value) {
  send_chunk c;
  c.headers.noop = true;
  c.headers.ping = std::string(value);
  c.data = bytes_of("!");
  return c;
}

inline send_pong pong_chunk(std::string_view value) {
  send_pong c;
  c.headers.noop = true;
  c.headers.pong = std::string(value);
  c.data = bytes_of("!");
  return c;
}

inline deliver deliver_of(sid_t sid, std::string_view data) { return deliver{sid, bytes_of(data)}; }

/// Drives one session and checks the exact actions each step produces.
class session_script {
 public:
  static constexpr time_point t0 = time_point{} + std::chrono::hours(1000);

  explicit session_script(role r, session_limits limits = {}) : s_(r, limits, t0) {}

  session& s() { return s_; }

  /// Feeds a whole chunk (one piece). A `deliver` action points into the bytes fed until the
  /// actions are cleared, so the script keeps its own copy: a test may pass a temporary.
  std::error_code feed_chunk(const wire::chunk_headers& h, std::string_view data = {}) {
    const std::string& kept = fed_.emplace_back(data);
    return s_.on_chunk(h, bytes_of(kept), true);
  }

  /// Asserts the outbox equals `expected` exactly (order included), then clears it.
  void expect(const std::vector<action>& expected, const char* where = "") {
    SCOPED_TRACE(where);
    EXPECT_EQ(describe_all(s_.actions()), describe_all(expected));
    ASSERT_EQ(s_.actions().size(), expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) {
      EXPECT_TRUE(s_.actions()[i] == expected[i]) << "action " << i << ": "
                                                  << describe(s_.actions()[i]);
    }
    EXPECT_TRUE(s_.check_invariants_for_test());
    s_.clear_actions();
  }
  void expect_none(const char* where = "") { expect({}, where); }

 private:
  session s_;
  std::deque<std::string> fed_;  // stable addresses: deliver actions point into them
};

}  // namespace kiteline::mux::test
