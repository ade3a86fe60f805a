// Test helper: loads pagekite.py capture files (support/vectors.hpp) and decodes their chunk stream into owned values.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "support/vectors.hpp"
#include "wire/chunk_headers.hpp"
#include "wire/frame_decoder.hpp"
#include "wire/limits.hpp"

namespace kiteline::wire::test {

using kiteline::test::vectors_dir;

inline std::vector<std::byte> read_file(const std::filesystem::path& p) {
  return kiteline::test::read_vector_bytes(p);
}

inline std::span<const std::byte> as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

inline std::string to_string(std::span<const std::byte> b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

/// Offset just after the first "\r\n\r\n" (the end of the HTTP-like handshake head), or npos.
inline std::size_t handshake_head_end(std::span<const std::byte> b) {
  const std::string_view s(reinterpret_cast<const char*>(b.data()), b.size());
  const auto p = s.find("\r\n\r\n");
  return p == std::string_view::npos ? p : p + 4;
}

/// chunk_headers with every view copied into owned strings.
struct owned_headers {
  bool noop = false;
  std::optional<sid_t> sid;
  std::string proto, host, rip;
  std::optional<std::uint32_t> port, rport;
  bool rtls = false;
  std::optional<eof_flags> eof;
  std::optional<std::string> ping, pong;
  std::optional<std::uint64_t> skb, spd;
  bool zrst = false;
  std::optional<std::int64_t> quota;
  std::vector<std::pair<std::string, std::string>> extra;

  static owned_headers from(const chunk_headers& h) {
    owned_headers o;
    o.noop = h.noop;
    o.sid = h.sid;
    o.proto = std::string(h.proto);
    o.host = std::string(h.host);
    o.rip = std::string(h.rip);
    o.port = h.port;
    o.rport = h.rport;
    o.rtls = h.rtls;
    o.eof = h.eof;
    if (h.ping) {
      o.ping = std::string(*h.ping);
    }
    if (h.pong) {
      o.pong = std::string(*h.pong);
    }
    o.skb = h.skb;
    o.spd = h.spd;
    o.zrst = h.zrst;
    o.quota = h.quota;
    for (const auto& f : h.extra) {
      o.extra.emplace_back(std::string(f.name), std::string(f.value));
    }
    return o;
  }
  /// A view-based chunk_headers over this object (valid while it lives; `fields` is storage).
  chunk_headers view(std::vector<header_field>& fields) const {
    chunk_headers h;
    h.noop = noop;
    h.sid = sid;
    h.proto = proto;
    h.host = host;
    h.rip = rip;
    h.port = port;
    h.rport = rport;
    h.rtls = rtls;
    h.eof = eof;
    if (ping) {
      h.ping = *ping;
    }
    if (pong) {
      h.pong = *pong;
    }
    h.skb = skb;
    h.spd = spd;
    h.zrst = zrst;
    h.quota = quota;
    fields.clear();
    for (const auto& [n, v] : extra) {
      fields.push_back(header_field{n, v});
    }
    h.extra = fields;
    return h;
  }
  /// Value of the first extra header with this exact name, if any.
  [[nodiscard]] std::optional<std::string> extra_value(std::string_view name) const {
    for (const auto& [n, v] : extra) {
      if (n == name) {
        return v;
      }
    }
    return std::nullopt;
  }
  bool operator==(const owned_headers&) const = default;
};

/// One decoded chunk. Plain-frame data is recorded as the range [data_begin, data_begin +
/// data_len) of the decoded buffer (the decoder hands out views into it, so no copy is needed
/// to compare decodes); Z-frame data is copied into `zdata`.
struct decoded_chunk {
  owned_headers headers;
  bool compressed = false;
  std::size_t data_begin = 0;
  std::size_t data_len = 0;
  std::string zdata;
  std::size_t data_events = 0;  // not compared: depends on the split
  std::size_t frame_end = 0;    // not compared: offset just past this frame in the input

  bool operator==(const decoded_chunk& o) const {
    return headers == o.headers && compressed == o.compressed && data_begin == o.data_begin &&
           data_len == o.data_len && zdata == o.zdata;
  }
  /// The chunk's data bytes; `buf` is the buffer that was decoded.
  [[nodiscard]] std::string data(std::span<const std::byte> buf) const {
    if (compressed) {
      return zdata;
    }
    return to_string(buf.subspan(data_begin, data_len));
  }
};

struct decode_result {
  std::vector<decoded_chunk> chunks;
  std::error_code error;          // first fatal error, if any
  std::size_t corrupt_frames = 0;
  bool at_boundary = false;       // the input ended between frames
  bool views_ok = true;           // every plain data piece was a contiguous view into the input
  std::size_t feed_calls = 0;
};

/// Decodes `buf` (already past the handshake head), handing the decoder pieces whose lengths
/// come from `piece_len(offset)`. Plain data pieces must be views into `buf` (checked).
inline decode_result decode_chunks(std::span<const std::byte> buf, bool accept_compressed,
                                   const std::function<std::size_t(std::size_t)>& piece_len,
                                   const frame_limits& limits = {}) {
  decode_result r;
  frame_decoder dec(limits, accept_compressed);
  std::size_t pos = 0;
  bool open = false;  // a chunk is awaiting more data
  while (pos < buf.size() && !r.error) {
    const std::size_t len = std::min(std::max<std::size_t>(piece_len(pos), 1), buf.size() - pos);
    auto in = buf.subspan(pos, len);
    pos += len;
    for (;;) {
      const auto s = dec.feed(in);
      ++r.feed_calls;
      in = in.subspan(s.consumed);
      if (s.event == frame_event::headers) {
        decoded_chunk c;
        c.headers = owned_headers::from(dec.headers());
        c.compressed = dec.frame_compressed();
        open = !dec.chunk_complete();
        c.frame_end = pos - in.size() +
                      (open && !c.compressed ? static_cast<std::size_t>(dec.data_remaining()) : 0);
        r.chunks.push_back(std::move(c));
      } else if (s.event == frame_event::data) {
        if (r.chunks.empty() || !open || dec.data().empty()) {
          r.views_ok = false;
          break;
        }
        decoded_chunk& c = r.chunks.back();
        ++c.data_events;
        const auto piece = dec.data();
        if (c.compressed) {
          c.zdata.append(to_string(piece));
        } else {
          const auto off = static_cast<std::size_t>(piece.data() - buf.data());
          const bool inside = piece.data() >= buf.data() && off + piece.size() <= buf.size();
          if (!inside || (c.data_len != 0 && off != c.data_begin + c.data_len)) {
            r.views_ok = false;
          }
          if (c.data_len == 0) {
            c.data_begin = off;
          }
          c.data_len += piece.size();
        }
        open = !dec.chunk_complete();
      } else if (s.event == frame_event::corrupt_frame) {
        ++r.corrupt_frames;
      } else if (s.event == frame_event::error) {
        r.error = s.error;
        break;
      } else {  // need_more
        if (!in.empty()) {
          r.views_ok = false;  // need_more must consume everything
        }
        break;
      }
    }
  }
  r.at_boundary = !r.error && !open && dec.at_frame_boundary();
  return r;
}

/// Decodes `buf` in one piece.
inline decode_result decode_whole(std::span<const std::byte> buf, bool accept_compressed,
                                  const frame_limits& limits = {}) {
  return decode_chunks(
      buf, accept_compressed, [&](std::size_t) { return buf.size(); }, limits);
}

/// A capture file loaded and its post-handshake bytes decoded.
struct vector_file {
  std::filesystem::path path;
  std::vector<std::byte> bytes;   // whole file
  std::size_t head_end = 0;       // start of the chunk stream
  decode_result decoded;

  [[nodiscard]] std::span<const std::byte> stream() const {
    return std::span<const std::byte>(bytes).subspan(head_end);
  }
  [[nodiscard]] std::string data(const decoded_chunk& c) const { return c.data(stream()); }
};

inline bool is_zchunks_set(const std::filesystem::path& p) {
  return p.parent_path().filename() == "zchunks";
}

/// Loads `path` (relative to vectors_dir() or absolute) and decodes it.
inline vector_file load_vector(const std::filesystem::path& path) {
  vector_file v;
  v.path = path.is_absolute() ? path : vectors_dir() / path;
  v.bytes = read_file(v.path);
  const auto end = handshake_head_end(v.bytes);
  v.head_end = end == std::string_view::npos ? v.bytes.size() : end;
  v.decoded = decode_whole(v.stream(), is_zchunks_set(v.path));
  return v;
}

inline std::ostream& operator<<(std::ostream& os, const decoded_chunk& c) {
  os << "{" << (c.compressed ? "Z " : "");
  if (c.headers.noop) {
    os << "NOOP ";
  }
  if (c.headers.sid) {
    os << "SID=" << *c.headers.sid << " ";
  }
  if (c.headers.eof) {
    os << "EOF=" << static_cast<int>(*c.headers.eof) << " ";
  }
  if (c.headers.skb) {
    os << "SKB=" << *c.headers.skb << " ";
  }
  return os << "data=" << (c.compressed ? c.zdata.size() : c.data_len) << "}";
}

}  // namespace kiteline::wire::test
