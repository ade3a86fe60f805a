// The stream pump: moves bytes between a tunnel's streams and their local sockets. One reader
// (arm_reader -> on_readable -> read_in_place or a read into the shared buffer) and one writer
// (kick_writer -> next_write -> local_written) drive plain and TLS sockets alike through
// local_socket's completion-handler operations, over one local_stream state. An idle stream
// holds one pending wait and no buffer (a TLS one: its pending read).
#include <algorithm>
#include <array>
#include <cstring>

#include "core/memory.hpp"
#include "tunnel/link.hpp"
#include "wire/chunk_encoder.hpp"

namespace kiteline::tunnel {

namespace {
void append_bytes(std::vector<std::byte>& v, std::span<const std::byte> b) {
  v.insert(v.end(), b.begin(), b.end());
}

/// Most max_chunk_data slots one in-place read fills (one readv).
constexpr std::size_t max_read_slots = 32;
}  // namespace

void link::start_local(const stream_ptr& s) {
  if (s->sock->writes_now() && !s->sock->socket().non_blocking()) {
    // Plain sockets are read and written without waiting (the relay's accept set it already).
    std::error_code ec;
    s->sock->socket().non_blocking(true, ec);
  }
  arm_reader(s);
  kick_writer(s);
}

void link::wake_writer(local_stream& s) {
  if (s.state == local_state::open) {
    kick_writer(s.shared_from_this());
  }
}

void link::wake_reader(local_stream& s) {
  if (s.state == local_state::open) {
    arm_reader(s.shared_from_this());
  }
}

void link::note_outbox_drained() {
  if (!outbox_.full()) {
    resume_tunnel_read_.notify();  // a reader holding off for the outbox goes on
  }
  // Bounded: each blocked reader is re-armed once (it blocks again if the outbox refills).
  auto blocked = std::move(blocked_readers_);
  blocked_readers_.clear();
  for (auto& s : blocked) {
    s->wait = read_wait::none;
    arm_reader(s);
  }
}

void link::arm_reader(const stream_ptr& s, bool read_again) {
  if (s->wait != read_wait::none || s->state != local_state::open || closed_ ||
      s->gate != read_gate::open) {
    return;
  }
  if (outbox_.above_high_water()) {
    s->wait = read_wait::outbox;
    blocked_readers_.push_back(s);
    return;
  }
  s->wait = read_wait::readable;
  if (read_again) {
    asio::post(executor_, [self = shared_from_this(), s] { self->on_readable(s, {}); });
    return;
  }
  s->sock->async_wait_readable([self = shared_from_this(), s](std::error_code ec) {
    self->on_readable(s, ec);
  });
}

bool link::reads_in_place(const local_stream& s) const noexcept {
  // With ZChunks on, only streams judged not worth compressing, and not while a plain chunk
  // must carry the compressor's reset flag.
  return outbox_.frames_in_place(s.no_compress);
}

void link::read_in_place(const stream_ptr& s) {
  const wire::sid_t sid = s->sid;
  const std::size_t slot = session_.max_chunk_data();
  wire::chunk_headers h;
  h.sid = sid;
  std::array<std::byte, 64> head{};  // a SID-only head is about 20 bytes
  const std::size_t full_head = wire::encode_chunk_head(head, h, slot);
  if (full_head == 0) {  // never for a valid SID; as append_plain: no data without its head
    log_->error("tunnel={} refused to encode a chunk head; closing the tunnel", name_);
    close("chunk encoding refused");
    return;
  }
  const std::size_t stride = full_head + slot;
  // No more than the outbox has room for below its high-water mark (at least one slot): several
  // streams armed while the outbox was low must not each add a full read on top of it. Past
  // 4x the mark the drained outbox is freed and reallocated on every pass (page faults,
  // relocation; docs/benchmarks.md).
  const std::size_t slots = std::clamp<std::size_t>(
      std::min(opts_.local_read_buffer / slot, outbox_.room() / stride), 1, max_read_slots);
  core::byte_buffer& out = outbox_.queued();
  const std::size_t at = out.size();
  out.resize(at + slots * stride);  // uninitialised: the read and the heads fill it
  stats_.outbox_peak = std::max<std::uint64_t>(stats_.outbox_peak, out.size());
  std::array<asio::mutable_buffer, max_read_slots> iov;
  for (std::size_t i = 0; i < slots; ++i) {
    iov[i] = asio::buffer(out.data() + at + i * stride + full_head, slot);
  }
  std::error_code ec;
  const std::size_t n =
      s->sock->read_now(std::span<asio::mutable_buffer>(iov.data(), slots), ec);
  if (ec || n == 0) {
    out.resize(at);
    read_ended(s, ec);
    return;
  }
  stats_.local_in += n;
  if (session_.on_local_data_framed(sid, n)) {
    out.resize(at);  // the stream is gone or done reading: the data is dropped, as before
    perform_actions();
    return;
  }
  if (s->note && s->bytes_read == 0) {
    note_head(s->note->head_read,
              std::span<const std::byte>(out.data() + at + full_head, std::min(n, slot)));
  }
  s->bytes_read += n;
  // Heads in front of the full slots; the last, partial slot gets its own (maybe shorter) head,
  // its bytes moved up to meet it (at most one slot's worth, and only on a short read).
  const std::size_t full = n / slot;
  const std::size_t rest = n % slot;
  std::size_t end = at;
  for (std::size_t i = 0; i < full; ++i) {
    std::memcpy(out.data() + end, head.data(), full_head);
    end += stride;
    outbox_.note_frame(stride);
  }
  if (rest > 0) {
    std::array<std::byte, 64> last{};
    const std::size_t m = wire::encode_chunk_head(last, h, rest);
    if (m != full_head) {
      std::memmove(out.data() + end + m, out.data() + end + full_head, rest);
    }
    std::memcpy(out.data() + end, last.data(), m);
    end += m + rest;
    outbox_.note_frame(m + rest);
  }
  out.resize(end);
  perform_actions();  // wakes the tunnel writer
  arm_reader(s, n == slots * slot);
}

void link::read_ended(const stream_ptr& s, std::error_code ec) {
  const wire::sid_t sid = s->sid;
  if (ec == asio::error::would_block) {
    arm_reader(s);
  } else if (!ec || ec == asio::error::eof) {  // a read of 0 bytes is an end too
    (void)session_.on_local_eof(sid);
    perform_actions();
  } else {
    (void)session_.close_stream(sid);
    perform_actions();
    drop_stream(sid, true);
  }
}

void link::on_readable(const stream_ptr& s, std::error_code ec) {
  s->wait = read_wait::none;
  if (s->state == local_state::gone || closed_ || s->gate == read_gate::stopped) {
    return;
  }
  if (!ec && reads_in_place(*s)) {
    read_in_place(s);
    return;
  }
  const wire::sid_t sid = s->sid;
  std::size_t n = 0;
  std::size_t want = 0;
  if (!ec) {
    if (local_rbuf_.size() != opts_.local_read_buffer) {
      local_rbuf_.resize(opts_.local_read_buffer);
    }
    // As read_in_place: what the outbox has room for, at least one chunk's worth.
    want = std::min(local_rbuf_.size(), std::max(outbox_.room(), session_.max_chunk_data()));
    n = s->sock->read_now(asio::buffer(local_rbuf_.data(), want), ec);
  }
  if (ec || n == 0) {
    read_ended(s, ec);
    return;
  }
  stats_.local_in += n;
  if (s->note && s->bytes_read == 0) {
    note_head(s->note->head_read, std::span<const std::byte>(local_rbuf_.data(), n));
  }
  s->bytes_read += n;
  (void)session_.on_local_data(sid, std::span<const std::byte>(local_rbuf_.data(), n));
  perform_actions();
  stats_.outbox_peak = std::max<std::uint64_t>(stats_.outbox_peak, outbox_.size());
  arm_reader(s, n == want);
}

void link::release_write_buffers(local_stream& s) {
  // A stream with nothing more queued is idle: it holds no payload buffer (10 000 idle
  // visitors must fit in a few KiB each). One with more queued keeps the spare for the swap,
  // unless it grew huge.
  if (s.wbuf.empty() || s.wbuf_busy.capacity() > 256 * 1024) {
    core::release(s.wbuf_busy);
  } else {
    s.wbuf_busy.clear();
  }
  if (s.wbuf.empty()) {
    core::release(s.wbuf);
  }
}

void link::queue_local(local_stream& s, std::span<const std::byte> data) {
  if (data.empty()) {
    return;
  }
  append_bytes(s.wbuf, data);
  s.wbuf_delivered += data.size();
  wake_writer(s);
}

void link::write_now_or_queue(local_stream& s, std::span<const std::byte> data) {
  // Inside feed() (acks applied at its end), a plain socket with nothing queued takes the
  // bytes now (non-blocking); only the rest is copied to the queue. Inflated ZChunk data of
  // many streams at once would otherwise sit in as many heap buffers until their writers ran.
  if (!feed_input_.empty() && !data.empty() && writes_now(s)) {
    std::error_code ec;
    const std::size_t n = s.sock->write_now(asio::buffer(data.data(), data.size()), ec);
    if (!ec && n > 0) {
      written_now_.emplace_back(s.sid, n);
      data = data.subspan(n);
    }
  }
  queue_local(s, data);
}

bool link::gatherable(const local_stream& s, std::span<const std::byte> data) const {
  // Bytes of the tunnel read being fed, for a plain socket with nothing queued or in flight:
  // they can go to the kernel straight from the read buffer at the end of this feed().
  // (Inflated ZChunk data lives in the decoder and is overwritten by the next chunk.)
  return !feed_input_.empty() && data.data() >= feed_input_.data() &&
         data.data() + data.size() <= feed_input_.data() + feed_input_.size() && writes_now(s);
}

bool link::writes_now(const local_stream& s) noexcept {
  // Open, nothing queued or being written (the bytes would overtake them), and a socket that
  // takes bytes without waiting (plain).
  return s.state == local_state::open && s.writing == write_wait::none && s.wbuf.empty() &&
         s.sock->writes_now();
}

void link::flush_gathered() {
  // One gather write per stream (the socket is non-blocking); what the kernel does not take
  // now is copied to the stream's queue for its writer. Saves a copy of every payload byte
  // and a writer wake-up per chunk.
  constexpr std::size_t max_iov = 64;
  std::size_t i = 0;
  while (i < gathered_.size()) {
    const auto& first = gathered_[i];
    local_stream& s = *first.stream;
    std::array<asio::const_buffer, max_iov> iov{};
    std::size_t j = i;
    std::size_t k = 0;
    for (; j < gathered_.size() && gathered_[j].stream == first.stream && k < max_iov; ++j) {
      iov[k++] = asio::buffer(gathered_[j].data.data(), gathered_[j].data.size());
    }
    std::size_t written = 0;
    if (writes_now(s)) {
      std::error_code ec;
      written = s.sock->write_now(std::span<const asio::const_buffer>(iov.data(), k), ec);
      if (ec) {
        written = 0;  // would block, or an error the writer meets and reports
      }
    }
    if (written > 0) {
      written_now_.emplace_back(first.sid, written);
    }
    for (std::size_t x = i; x < j; ++x) {
      auto d = gathered_[x].data;
      const std::size_t w = std::min(written, d.size());
      written -= w;
      if (s.state == local_state::gone) {
        note_buffered(-static_cast<std::int64_t>(d.size() - w));
        continue;
      }
      queue_local(s, d.subspan(w));
    }
    i = j;
  }
  gathered_.clear();
}

void link::apply_written_now() {
  // Bounded: on_local_written() emits acks and resumes, never deliveries (no new entries).
  while (!written_now_.empty() && !closed_) {
    auto done = std::move(written_now_);
    written_now_.clear();
    for (const auto& [sid, n] : done) {
      note_buffered(-static_cast<std::int64_t>(n));
      stats_.local_out += n;
      (void)session_.on_local_written(sid, n);
    }
    perform_actions();
  }
  written_now_.clear();
}

link::write_step link::next_write(local_stream& s, std::uint64_t& delivered) {
  if (!s.wbuf.empty()) {
    std::swap(s.wbuf, s.wbuf_busy);
    delivered = s.wbuf_delivered;
    s.wbuf_delivered = 0;
    return write_step::write;
  }
  if (s.then == after_flush::close) {
    return write_step::close;
  }
  if (s.then == after_flush::shutdown_send) {
    s.then = after_flush::keep_open;
    return write_step::shutdown_send;
  }
  return write_step::idle;
}

bool link::local_written(const stream_ptr& s, std::uint64_t delivered, std::error_code ec) {
  release_write_buffers(*s);
  note_buffered(-static_cast<std::int64_t>(delivered));
  if (s->state == local_state::gone || closed_) {
    return false;
  }
  const wire::sid_t sid = s->sid;
  if (ec) {
    note_buffered(-static_cast<std::int64_t>(s->wbuf_delivered));
    core::release(s->wbuf);
    s->wbuf_delivered = 0;
    (void)session_.on_local_write_failed(sid);
    perform_actions();
    if (!session_.has_stream(sid)) {
      drop_stream(sid, true);
      return false;
    }
  } else {
    stats_.local_out += delivered;
    (void)session_.on_local_written(sid, delivered);
    perform_actions();
  }
  return true;
}

void link::kick_writer(const stream_ptr& s) {
  if (s->state != local_state::open || closed_ || s->writing != write_wait::none) {
    return;
  }
  std::uint64_t delivered = 0;
  switch (next_write(*s, delivered)) {
    case write_step::write:
      s->writing = write_wait::write;
      s->sock->async_write(
          asio::buffer(s->wbuf_busy.data(), s->wbuf_busy.size()),
          [self = shared_from_this(), s, delivered](std::error_code ec, std::size_t) {
            s->writing = write_wait::none;
            if (self->local_written(s, delivered, ec)) {
              self->kick_writer(s);
            }
          });
      return;
    case write_step::close:
      drop_stream(s->sid, false);
      return;
    case write_step::shutdown_send:
      // Plain: done at once; TLS: once the close_notify was sent. What was queued meanwhile
      // (a close) is taken then.
      s->writing = write_wait::shutdown;
      s->sock->async_shutdown_send([self = shared_from_this(), s](std::error_code) {
        s->writing = write_wait::none;
        self->kick_writer(s);
      });
      return;
    case write_step::idle:
      return;
  }
}

void link::drop_stream(wire::sid_t sid, bool abortive) {
  auto it = streams_.find(sid);
  if (it == streams_.end()) {
    return;
  }
  auto s = it->second;
  streams_.erase(it);
  s->state = local_state::gone;
  if (s->note && hooks_.stream_finished) {
    hooks_.stream_finished(*s->note, s->bytes_read, s->bytes_delivered - s->wbuf_delivered);
  }
  if (hooks_.stream_ended) {
    hooks_.stream_ended(sid);
  }
  // Bytes still queued (wbuf) or in flight (wbuf_busy, accounted when its write returns).
  note_buffered(-static_cast<std::int64_t>(s->wbuf_delivered));
  s->wbuf_delivered = 0;
  core::release(s->wbuf);
  if (s->sock) {
    (void)abortive;
    s->sock->close();  // its pending wait and write end with an error and find it gone
  }
}

void link::refuse_local(wire::sid_t sid, std::span<const std::byte> reply) {
  if (!reply.empty()) {
    if (auto it = streams_.find(sid); it != streams_.end()) {
      auto& s = *it->second;
      if (s.note && s.bytes_read == 0) {
        note_head(s.note->head_read, reply);
      }
      s.bytes_read += reply.size();
    }
    (void)session_.on_local_data(sid, reply);
  }
  (void)session_.close_stream(sid);
  perform_actions();
  drop_stream(sid, true);
}

void link::set_filter(wire::sid_t sid, std::unique_ptr<delivery_filter> f) {
  auto it = streams_.find(sid);
  if (it != streams_.end()) {
    it->second->filter = std::move(f);
  }
}

std::unique_ptr<stream_note> link::make_note(std::string_view proto, std::string_view host,
                                             std::uint32_t port, std::string_view rip,
                                             std::uint32_t rport) {
  auto n = std::make_unique<stream_note>();
  n->proto = proto;
  n->host = host;
  n->port = port;
  n->rip = rip;
  n->rport = rport;
  n->opened = std::chrono::system_clock::now();
  n->opened_steady = std::chrono::steady_clock::now();
  return n;
}

void link::note_head(std::string& head, std::span<const std::byte> data) {
  if (head.empty()) {
    const std::size_t n = std::min(data.size(), stream_note::head_bytes);
    head.assign(reinterpret_cast<const char*>(data.data()), n);
  }
}

}  // namespace kiteline::tunnel
