// Helpers of the tunnel::link tests: loopback socket pairs for local sockets (and the socket
// tunnel of link_test.cpp), scripted reads and writes on them, test data, chunk encoding, and a
// decoder of what the link sent down its tunnel.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include <gtest/gtest.h>

#include "net/asio.hpp"
#include "net/prefixed_socket.hpp"
#include "tls/transport.hpp"
#include "tunnel/link.hpp"
#include "unit/tunnel/memory_transport.hpp"
#include "wire/chunk_encoder.hpp"
#include "wire/frame_decoder.hpp"

namespace kiteline::test {

struct socket_pair {
  net::tcp::socket ours;    // given to the link
  net::tcp::socket theirs;  // scripted by the test (non-blocking)
};

inline socket_pair make_socket_pair(asio::io_context& io, int buffer_size = 0) {
  net::tcp::acceptor acceptor(io, net::tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  net::tcp::socket ours(io);
  ours.open(net::tcp::v4());
  if (buffer_size > 0) {
    ours.set_option(asio::socket_base::send_buffer_size(buffer_size));
    acceptor.set_option(asio::socket_base::receive_buffer_size(buffer_size));
  }
  ours.connect(acceptor.local_endpoint());
  net::tcp::socket theirs = acceptor.accept();
  theirs.non_blocking(true);
  return {std::move(ours), std::move(theirs)};
}

inline tls::transport plain(net::tcp::socket&& s) {
  return tls::transport(net::prefixed_socket(std::move(s)));
}

inline std::span<const std::byte> bytes_of(const std::string& s) { return std::as_bytes(std::span(s)); }

inline std::string pattern(std::size_t n) {
  std::string s(n, '\0');
  std::uint32_t x = 12345;
  for (auto& c : s) {
    x = x * 1103515245 + 12345;
    c = static_cast<char>(x >> 24);
  }
  return s;
}

inline std::string encode_chunk(wire::sid_t sid, const std::string& data) {
  wire::chunk_headers h;
  h.sid = sid;
  std::vector<std::byte> head(wire::chunk_head_size_bound(h));
  head.resize(wire::encode_chunk_head(head, h, data.size()));
  return std::string(reinterpret_cast<const char*>(head.data()), head.size()) + data;
}

// Appends what is readable now; false once the socket reached EOF or failed.
inline bool read_available(net::tcp::socket& s, std::string& into) {
  std::array<char, 64 * 1024> buf{};
  for (;;) {
    std::error_code ec;
    const std::size_t n = s.read_some(asio::buffer(buf), ec);
    if (ec == asio::error::would_block) {
      return true;
    }
    if (ec || n == 0) {
      return false;
    }
    into.append(buf.data(), n);
  }
}

// Writes as much of `data` from `at` as the socket takes now.
inline void write_available(net::tcp::socket& s, const std::string& data, std::size_t& at) {
  while (at < data.size()) {
    std::error_code ec;
    const std::size_t n = s.write_some(asio::buffer(data.data() + at, data.size() - at), ec);
    if (ec) {
      return;
    }
    at += n;
  }
}

// What the link sent down the tunnel, decoded.
struct tunnel_reader {
  wire::frame_decoder decoder{wire::frame_limits{}, false};
  std::map<wire::sid_t, std::string> data;
  std::size_t pongs = 0;
  std::map<wire::sid_t, std::uint64_t> skb;  // the last SKB of each stream
  std::map<wire::sid_t, std::size_t> eofs;   // EOF chunks of each stream
  std::optional<wire::sid_t> sid;

  void feed(std::span<const std::byte> in) {
    for (;;) {
      auto step = decoder.feed(in);
      in = in.subspan(step.consumed);
      if (step.event == wire::frame_event::need_more) {
        return;
      }
      ASSERT_NE(step.event, wire::frame_event::error) << step.error.message();
      if (step.event == wire::frame_event::headers) {
        const auto& h = decoder.headers();
        sid = h.noop || h.eof ? std::nullopt : h.sid;  // an EOF chunk's data is filler
        if (h.pong) {
          ++pongs;
        }
        if (h.sid && h.skb) {
          skb[*h.sid] = *h.skb;
        }
        if (h.sid && h.eof) {
          ++eofs[*h.sid];
        }
      } else if (step.event == wire::frame_event::data && sid) {
        auto d = decoder.data();
        data[*sid].append(reinterpret_cast<const char*>(d.data()), d.size());
      }
    }
  }
  void read_from(net::tcp::socket& s) {
    std::string got;
    (void)read_available(s, got);
    feed(bytes_of(got));
  }
  void read_from(memory_transport& t) {
    const std::string got = t.take();
    feed(bytes_of(got));
  }
};

// What a test link reports through its hooks (a base of the test fixtures).
struct link_events {
  std::optional<std::string> closed_why;  // set when the link closed
  std::vector<wire::sid_t> ended;         // streams that left its table, in order

  // Hooks recording into this object (which must outlive the link).
  tunnel::link::hooks recording_hooks() {
    tunnel::link::hooks h;
    h.closed = [this](const std::string& why) { closed_why = why; };
    h.stream_ended = [this](wire::sid_t sid) { ended.push_back(sid); };
    return h;
  }
};

// Runs `io` until `done` holds (false after 10 s).
[[nodiscard]] inline bool run_until(asio::io_context& io, const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) {
      return false;
    }
    io.run_one_for(std::chrono::milliseconds(1));
  }
  return true;
}

// Closes the link and drops our reference; true once it was freed (nothing it ran still holds
// it).
[[nodiscard]] inline bool close_and_free(asio::io_context& io, std::shared_ptr<tunnel::link>& lk) {
  lk->close();
  std::weak_ptr<tunnel::link> w = lk;
  lk.reset();
  return run_until(io, [&] { return w.expired(); });
}

}  // namespace kiteline::test
