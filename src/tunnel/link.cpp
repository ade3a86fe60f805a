#include "tunnel/link.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <variant>

#include "core/memory.hpp"
#include "wire/chunk_encoder.hpp"
#include "wire/frame_shaper.hpp"

namespace kiteline::tunnel {

namespace {
mux::time_point now() { return std::chrono::steady_clock::now(); }

template <class... Ts>
struct overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
overloaded(Ts...) -> overloaded<Ts...>;

void append_bytes(std::vector<std::byte>& v, std::span<const std::byte> b) {
  v.insert(v.end(), b.begin(), b.end());
}
void append_bytes(core::byte_buffer& v, std::span<const std::byte> b) {
  core::append(v, b.data(), b.size());
}

/// Most max_chunk_data slots one in-place read fills (one readv).
constexpr std::size_t max_read_slots = 32;
}  // namespace

link::link(tls::transport&& t, link_options opts, hooks h,
                         std::shared_ptr<spdlog::logger> log, std::string name)
    : executor_(t.socket().get_executor()),
      tunnel_(std::move(t)),
      opts_(std::move(opts)),
      hooks_(std::move(h)),
      log_(std::move(log)),
      name_(std::move(name)),
      decoder_(opts_.frames, opts_.accept_compressed),
      session_(opts_.role, opts_.session, now()),
      wake_tunnel_writer_(executor_),
      outbox_drained_(executor_),
      resume_tunnel_read_(executor_),
      tick_timer_(executor_),
      stall_timer_(executor_) {
  if (opts_.send_compressed) {
    zenc_.emplace(opts_.compression_level);
  }
  probation_ = opts_.probation;
  outbox_limit_ = probation_ ? opts_.probation_outbox_limit : opts_.outbox_limit;
  inflate_credit_ = static_cast<std::int64_t>(opts_.inflate_waste_allowance);
  if (probation_) {
    wire::frame_limits small = opts_.frames;
    small.max_frame_size = std::min(small.max_frame_size, opts_.probation_frame_size);
    decoder_.set_limits(small, false);
  }
}

void link::end_probation() {
  if (!probation_ || closed_) {
    return;
  }
  probation_ = false;
  outbox_limit_ = opts_.outbox_limit;
  decoder_.set_limits(opts_.frames, opts_.accept_compressed);
  resume_tunnel_read_.notify();  // the reader may be holding off at the small limit
}

link::~link() = default;

void link::start(std::span<const std::byte> leftover) {
  pending_leftover_.assign(leftover.begin(), leftover.end());
  auto self = shared_from_this();
  auto on_done = [self](const std::exception_ptr& e) {
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        self->log_->error("tunnel={} coroutine failed: {}", self->name_, ex.what());
      }
      self->close("internal error");
    }
  };
  asio::co_spawn(executor_, reader(self), on_done);
  asio::co_spawn(executor_, writer(self), on_done);
  asio::co_spawn(executor_, ticker(self), on_done);
}

void link::note_buffered(std::int64_t delta) {
  local_buffered_ = static_cast<std::uint64_t>(static_cast<std::int64_t>(local_buffered_) + delta);
  stats_.local_buffered_peak = std::max(stats_.local_buffered_peak, local_buffered_);
}

net::awaitable<void> link::reader([[maybe_unused]] std::shared_ptr<link> self) {
  if (!pending_leftover_.empty()) {
    auto left = std::move(pending_leftover_);
    session_.on_tunnel_bytes_received(now());
    feed(left);
  }
  while (!closed_) {
    // Hold off while the receive budget is full (local sockets behind) or the outbox is (the
    // peer does not read what its chunks make us send).
    while ((session_.tunnel_read_paused() || outbox_full()) && !closed_) {
      if (!session_.tunnel_read_paused()) {
        co_await resume_tunnel_read_.wait();
        continue;
      }
      // Paused by the receive budget: look again for stalled holders of their share every
      // stall_check until the tunnel resumes (the ticker's second would keep every other
      // stream waiting that long).
      using namespace asio::experimental::awaitable_operators;
      stall_timer_.expires_after(opts_.stall_check);
      (void)co_await (resume_tunnel_read_.wait() || stall_timer_.async_wait(net::use_tuple));
      if (!closed_ && session_.tunnel_read_paused()) {
        session_.check_stalled(now());
        perform_actions();
      }
    }
    if (closed_) {
      break;
    }
    if (!paused_rest_.empty()) {
      // Bytes read before the last pause_tunnel_read (see feed()).
      auto rest = std::move(paused_rest_);
      paused_rest_.clear();
      feed(rest);
      continue;
    }
    const std::size_t want = probation_ ? opts_.probation_read_buffer : opts_.tunnel_read_buffer;
    if (tunnel_rbuf_.size() != want) {
      tunnel_rbuf_.resize(want);
    }
    auto [ec, n] = co_await tunnel_.read_some(tunnel_rbuf_);
    if (ec || n == 0) {
      close(ec == asio::error::eof || !ec ? "tunnel closed by peer" : ec.message());
      break;
    }
    stats_.bytes_in += n;
    session_.on_tunnel_bytes_received(now());
    feed(std::span<const std::byte>(tunnel_rbuf_.data(), n));
  }
  co_return;
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
  if (!feed_input_.empty() && !data.empty() && s.t && !s.t->is_tls() && !s.gone &&
      s.wbuf.empty() && s.wbuf_busy.empty()) {
    std::error_code ec;
    const std::size_t n = s.t->socket().write_some(asio::buffer(data.data(), data.size()), ec);
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
         data.data() + data.size() <= feed_input_.data() + feed_input_.size() &&
         s.wbuf.empty() && s.wbuf_busy.empty() && s.t && !s.t->is_tls() && !s.gone;
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
    if (!s.gone && s.wbuf.empty() && s.wbuf_busy.empty()) {
      std::error_code ec;
      written = s.t->socket().write_some(std::span<const asio::const_buffer>(iov.data(), k), ec);
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
      if (s.gone) {
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
      (void)session_.on_local_written(sid, n);
    }
    perform_actions();
  }
  written_now_.clear();
}

void link::feed(std::span<const std::byte> in) {
  feed_input_ = in;
  feed_frames(in);
  flush_gathered();
  feed_input_ = {};
  // Acknowledge what went straight to local sockets once per tunnel read, not per chunk.
  apply_written_now();
}

void link::feed_frames(std::span<const std::byte> in) {
  while (!closed_) {
    auto step = decoder_.feed(in);
    in = in.subspan(step.consumed);
    switch (step.event) {
      case wire::frame_event::need_more:
        return;
      case wire::frame_event::headers: {
        const bool z = decoder_.frame_compressed();
        const std::uint64_t before = delivered_total_;
        (void)session_.on_chunk(decoder_.headers(), {}, decoder_.chunk_complete());
        perform_actions();
        if (z && !decoder_.chunk_complete()) {
          z_frame_open_ = true;  // its data (the whole frame, one piece) comes next
          z_delivered_before_ = before;
        } else if (z && !note_inflated(decoder_.frame_size(), decoder_.frame_zsize(), 0)) {
          return;
        }
        break;
      }
      case wire::frame_event::data:
        (void)session_.on_chunk_data(decoder_.data(), decoder_.chunk_complete());
        perform_actions();
        if (z_frame_open_ && decoder_.chunk_complete()) {
          z_frame_open_ = false;
          if (!note_inflated(decoder_.frame_size(), decoder_.frame_zsize(),
                             delivered_total_ - z_delivered_before_)) {
            return;
          }
        }
        break;
      case wire::frame_event::corrupt_frame: {
        log_->warn("tunnel={} corrupt compressed chunk ({}), sent ZRST", name_,
                   step.error.message());
        auto z = wire::make_zrst(zenc_ ? zenc_->take_reset_flag() : false);
        append_bytes(out_, z.bytes());
        note_frame(z.bytes().size());
        wake_tunnel_writer_.notify();
        break;
      }
      case wire::frame_event::error:
        log_->warn("tunnel={} framing error: {}", name_, step.error.message());
        close("framing error: " + step.error.message());
        return;
    }
    // The receive budget is full (pause_tunnel_read, emitted at a chunk boundary): keep the
    // rest of this read for later instead of delivering up to a whole tunnel read beyond the
    // budget (RelayTransfer.SlowVisitorStaysWithinBudget saw budget + 256 KiB).
    if (session_.tunnel_read_paused() && decoder_.chunk_complete() && !in.empty() &&
        (step.event == wire::frame_event::headers || step.event == wire::frame_event::data)) {
      paused_rest_.assign(in.begin(), in.end());
      return;
    }
    // The outbox is full (the peer does not read what its chunks make us send): keep the rest
    // of this read until the writer drained it, instead of answering a whole read's worth of
    // PINGs at once (up to ~30x the bytes read once pagekite.py's frame filler is added).
    if (outbox_full() && !in.empty()) {
      ++stats_.reads_held;
      paused_rest_.assign(in.begin(), in.end());
      return;
    }
  }
}

bool link::note_inflated(std::uint64_t size, std::uint64_t zsize,
                                std::uint64_t delivered) {
  const std::uint64_t waste = size - std::min(size, delivered);
  stats_.inflated += size;
  stats_.inflated_wasted += waste;
  inflate_credit_ += static_cast<std::int64_t>(opts_.inflate_waste_ratio * zsize) -
                     static_cast<std::int64_t>(waste);
  if (inflate_credit_ >= 0) {
    return true;
  }
  log_->warn("tunnel={} closed: {} bytes inflated from ZChunks reached no stream ({} inflated "
             "in all), more than {}x the compressed bytes plus {} per second",
             name_, stats_.inflated_wasted, stats_.inflated, opts_.inflate_waste_ratio,
             opts_.inflate_waste_allowance);
  close("inflated data wasted (ZChunk bomb)");
  return false;
}

void link::note_frame(std::size_t frame_bytes) {
  if (!opts_.limit_frame_density) {
    return;
  }
  const std::size_t fill = wire::filler_after_frame(density_, frame_bytes);
  if (fill == 0) {
    return;
  }
  wire::chunk_headers noop;
  noop.noop = true;
  std::size_t at = out_.size();
  out_.resize(at + wire::chunk_head_size_bound(noop));
  const bool reset = zenc_ ? zenc_->take_reset_flag() : false;
  std::size_t n =
      wire::encode_chunk_head(std::span<std::byte>(out_).subspan(at), noop, fill, reset);
  out_.resize(at + n);
  out_.resize(out_.size() + fill);
  std::memset(out_.data() + out_.size() - fill, wire::density_filler_byte, fill);
}

void link::append_plain(const wire::chunk_headers& h, std::span<const std::byte> data) {
  std::size_t bound = wire::chunk_head_size_bound(h);
  std::size_t at = out_.size();
  out_.resize(at + bound);
  const bool reset = zenc_ ? zenc_->take_reset_flag() : false;
  std::size_t n =
      wire::encode_chunk_head(std::span<std::byte>(out_).subspan(at), h, data.size(), reset);
  out_.resize(at + n);
  if (n == 0) {
    // The encoder refused the headers (CR/LF in a value): never send data without its head.
    log_->error("tunnel={} refused to encode a chunk head; closing the tunnel", name_);
    close("chunk encoding refused");
    return;
  }
  append_bytes(out_, data);
  note_frame(n + data.size());
}

void link::append_chunk(const wire::chunk_headers& h, std::span<const std::byte> data) {
  // ZChunks (spec §5.5): only stream data chunks over 64 bytes, and only while compressing a
  // stream's chunks does not make them bigger.
  const bool stream_chunk = h.sid && !h.noop && !h.eof;
  if (!zenc_ || !stream_chunk ||
      wire::header_block_size(h) + data.size() < wire::zchunk_min_payload) {
    append_plain(h, data);
    return;
  }
  auto it = streams_.find(*h.sid);
  if (it != streams_.end() && it->second->no_compress) {
    append_plain(h, data);
    return;
  }
  const std::size_t at = out_.size();
  out_.resize(at + wire::zchunk_encoder::frame_bound(h, data.size()));
  auto n = zenc_->encode(std::span<std::byte>(out_).subspan(at), h, data);
  if (!n || *n == 0) {
    out_.resize(at);
    append_plain(h, data);
    return;
  }
  out_.resize(at + *n);
  note_frame(*n);
  if (!zpolicy_.worth_it(wire::header_block_size(h) + data.size(), *n) && it != streams_.end()) {
    it->second->no_compress = true;
  }
}

void link::perform_actions() {
  // Actions may re-enter the session (never here: every handler below only records work), so
  // iterate over the current outbox and clear it afterwards.
  for (const auto& a : session_.actions()) {
    std::visit(
        overloaded{
            [&](const mux::send_chunk& c) { append_chunk(c.headers.view(), c.data); },
            [&](const mux::send_pong& c) { append_chunk(c.headers.view(), c.data); },
            [&](const mux::deliver& d) {
              auto it = streams_.find(d.sid);
              if (it == streams_.end()) {
                return;
              }
              auto& s = *it->second;
              delivered_total_ += d.data.size();
              note_buffered(static_cast<std::int64_t>(d.data.size()));
              if (s.filter) {
                s.filter->transform(d.data, s.wbuf);
                s.wbuf_delivered += d.data.size();
                wake_writer(s);
                return;
              }
              if (gatherable(s, d.data)) {
                gathered_.push_back(gathered{d.sid, it->second, d.data});
                return;
              }
              flush_gathered();
              write_now_or_queue(s, d.data);
            },
            [&](const mux::shutdown_local_write& x) {
              flush_gathered();
              auto it = streams_.find(x.sid);
              if (it != streams_.end()) {
                it->second->shutdown_after_flush = true;
                wake_writer(*it->second);
              }
            },
            [&](const mux::stop_local_read& x) {
              auto it = streams_.find(x.sid);
              if (it != streams_.end()) {
                it->second->read_stopped = true;
                wake_reader(*it->second);
              }
            },
            [&](const mux::close_local& x) {
              flush_gathered();
              auto it = streams_.find(x.sid);
              if (it != streams_.end()) {
                // wake_writer may drop the stream (nothing left to flush): that erases `it`,
                // so keep the stream alive through a reference of our own.
                const stream_ptr s = it->second;
                s->close_after_flush = true;
                s->read_stopped = true;
                wake_writer(*s);
                wake_reader(*s);
              }
            },
            [&](const mux::open_local& o) {
              auto s = std::make_shared<local_stream>();
              s->sid = o.sid;
              s->no_compress = zenc_ && !zpolicy_.start_stream();
              streams_[o.sid] = s;
              ++stats_.streams_opened;
              if (hooks_.open_local) {
                hooks_.open_local(o);
              }
            },
            [&](const mux::pause_local_read& x) {
              auto it = streams_.find(x.sid);
              if (it != streams_.end()) {
                it->second->read_paused = true;
              }
            },
            [&](const mux::resume_local_read& x) {
              auto it = streams_.find(x.sid);
              if (it != streams_.end()) {
                it->second->read_paused = false;
                wake_reader(*it->second);
              }
            },
            [&](const mux::pause_tunnel_read&) {
              log_->debug("tunnel={} reading paused: {} bytes wait for local sockets ({} streams)",
                          name_, session_.receive_budget_used(), session_.stream_count());
            },
            [&](const mux::resume_tunnel_read&) {
              log_->debug("tunnel={} reading resumed: {} bytes wait for local sockets", name_,
                          session_.receive_budget_used());
              resume_tunnel_read_.notify();
            },
            [&](const mux::reset_compressor&) {
              if (zenc_) {
                zenc_->reset();
              }
            },
            [&](const mux::control_chunk& c) {
              if (hooks_.control) {
                hooks_.control(c);
              }
            },
            [&](const mux::evict_local& e) {
              ++stats_.streams_evicted;
              if (e.why == mux::evict_reason::stalled_share) {
                log_->warn("tunnel={} sid={} evicted: the receive budget ({} bytes) is full and "
                           "this stream held at least its share of it ({} bytes unwritten) "
                           "without draining for {} ms; its local socket is reset",
                           name_, e.sid, opts_.session.receive_budget, e.held,
                           std::chrono::duration_cast<std::chrono::milliseconds>(
                               opts_.session.stalled_after)
                               .count());
              } else {
                log_->warn("tunnel={} sid={} evicted: the receive budget ({} bytes) stayed full "
                           "for {} ms and this stream held the most of it ({} bytes "
                           "unwritten); its local socket is reset",
                           name_, e.sid, opts_.session.receive_budget,
                           std::chrono::duration_cast<std::chrono::milliseconds>(
                               opts_.session.evict_after)
                               .count(),
                           e.held);
              }
              auto it = streams_.find(e.sid);
              if (it != streams_.end() && it->second->t) {
                // RST, not FIN: what it got is truncated, and a FIN could pass for a complete
                // response without Content-Length.
                std::error_code ec;
                it->second->t->socket().set_option(asio::socket_base::linger(true, 0), ec);
              }
              drop_stream(e.sid, true);
            },
            [&](const mux::reap_local& r) {
              ++stats_.streams_reaped;
              const bool half = r.why == mux::reap_reason::half_closed;
              const auto limit = half ? opts_.session.half_closed_timeout
                                      : opts_.session.idle_timeout;
              log_->info("tunnel={} sid={} closed: {} for {} s", name_, r.sid,
                         half ? "half-closed and silent" : "idle",
                         std::chrono::duration_cast<std::chrono::seconds>(limit).count());
              drop_stream(r.sid, false);
            },
            [&](const mux::tunnel_dead&) {
              log_->warn("tunnel={} dead: no reply to PING", name_);
              close("no reply to PING");
            },
        },
        a);
    if (closed_) {
      break;
    }
  }
  session_.clear_actions();
  if (!out_.empty()) {
    wake_tunnel_writer_.notify();
  }
}

net::awaitable<void> link::writer([[maybe_unused]] std::shared_ptr<link> self) {
  while (!closed_) {
    if (out_.empty()) {
      if (close_when_drained_) {
        close(drain_reason_);
        break;
      }
      note_outbox_drained();
      co_await wake_tunnel_writer_.wait();
      continue;
    }
    std::swap(out_, out_writing_);
    auto ec = co_await tunnel_.write(asio::buffer(out_writing_.data(), out_writing_.size()));
    if (ec) {
      close("tunnel write failed: " + ec.message());
      break;
    }
    stats_.bytes_out += out_writing_.size();
    out_writing_.clear();  // empty = no write in flight (the ticker's test)
    if (out_writing_.capacity() > 4 * opts_.outbox_high_water) {
      core::release(out_writing_);
    }
    if (out_.size() < opts_.outbox_high_water) {
      note_outbox_drained();
    }
  }
  co_return;
}

net::awaitable<void> link::ticker([[maybe_unused]] std::shared_ptr<link> self) {
  while (!closed_) {
    tick_timer_.expires_after(opts_.tick);
    (void)co_await tick_timer_.async_wait(net::use_tuple);
    if (closed_) {
      break;
    }
    if (close_when_drained_ && std::chrono::steady_clock::now() >= drain_deadline_) {
      close(drain_reason_ + " (flush timed out)");
      break;
    }
    session_.on_timer(now());
    perform_actions();
    inflate_credit_ =
        std::max(inflate_credit_, static_cast<std::int64_t>(opts_.inflate_waste_allowance));
    // A tunnel quiet for a whole tick gives back the buffers of its last burst (a relay may
    // hold thousands of tunnels; a busy one keeps them, so bursts do not churn the heap).
    const std::uint64_t moved = stats_.bytes_in + stats_.bytes_out;
    if (moved == moved_at_last_tick_ && out_.empty() && out_writing_.empty()) {
      core::release(local_rbuf_);
      core::release(out_);
      core::release(out_writing_);
      tunnel_.release_idle_buffers();
    }
    moved_at_last_tick_ = moved;
  }
  co_return;
}

void link::close_when_flushed(const std::string& why, std::chrono::milliseconds limit) {
  if (closed_ || close_when_drained_) {
    return;
  }
  close_when_drained_ = true;
  drain_reason_ = why;
  drain_deadline_ = std::chrono::steady_clock::now() + limit;
  wake_tunnel_writer_.notify();
}

bool link::attach_visitor(tls::transport&& visitor, const mux::stream_open& info,
                                 std::span<const std::byte> first) {
  if (closed_) {
    visitor.close();
    return false;
  }
  auto sid = session_.open_stream(info, first);
  if (!sid) {
    log_->warn("tunnel={} cannot open stream: {}", name_, sid.error().message());
    session_.clear_actions();
    visitor.close();
    return false;
  }
  auto s = std::make_shared<local_stream>();
  s->sid = *sid;
  s->t.emplace(std::move(visitor));
  s->no_compress = zenc_ && !zpolicy_.start_stream();
  streams_[*sid] = s;
  ++stats_.streams_opened;
  perform_actions();
  start_local(*sid, s);
  return true;
}

void link::attach_local(wire::sid_t sid, tls::transport&& origin) {
  auto it = streams_.find(sid);
  if (it == streams_.end() || closed_) {
    origin.close();
    return;
  }
  it->second->t.emplace(std::move(origin));
  start_local(sid, it->second);
}

void link::refuse_local(wire::sid_t sid, std::span<const std::byte> reply) {
  if (!reply.empty()) {
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

void link::send_control(std::span<const std::byte> encoded_chunk) {
  append_bytes(out_, encoded_chunk);
  note_frame(encoded_chunk.size());
  wake_tunnel_writer_.notify();
}

void link::start_local(wire::sid_t sid, const stream_ptr& s) {
  if (!s->t->is_tls()) {
    // Plain local sockets are driven by completion handlers: an idle stream holds a pending
    // wait and nothing else (no coroutine frames, no buffers).
    if (!s->t->socket().non_blocking()) {  // the relay's accept set it already
      std::error_code ec;
      s->t->socket().non_blocking(true, ec);
    }
    arm_reader(s);
    kick_writer(s);
    return;
  }
  if (!s->sig) {
    s->sig = std::make_unique<stream_signals>(executor_);
  }
  auto self = shared_from_this();
  auto on_done = [self, sid](const std::exception_ptr& e) {
    if (e) {
      self->log_->error("tunnel={} sid={} stream coroutine failed", self->name_, sid);
      self->drop_stream(sid, true);
    }
  };
  if (!s->reader_running) {
    s->reader_running = true;
    asio::co_spawn(executor_, local_reader(self, sid, s), on_done);
  }
  if (!s->writer_running) {
    s->writer_running = true;
    asio::co_spawn(executor_, local_writer(self, sid, s), on_done);
  }
}

void link::wake_writer(local_stream& s) {
  if (s.sig) {
    s.sig->wake_writer.notify();
  } else if (s.t && !s.gone) {
    kick_writer(s.shared_from_this());
  }
}

void link::wake_reader(local_stream& s) {
  if (s.sig) {
    s.sig->wake_reader.notify();
  } else if (s.t && !s.gone) {
    arm_reader(s.shared_from_this());
  }
}

void link::note_outbox_drained() {
  outbox_drained_.notify();
  if (!outbox_full()) {
    resume_tunnel_read_.notify();  // a reader holding off for the outbox goes on
  }
  // Bounded: each blocked reader is re-armed once (it blocks again if the outbox refills).
  auto blocked = std::move(blocked_readers_);
  blocked_readers_.clear();
  for (auto& s : blocked) {
    s->read_blocked = false;
    arm_reader(s);
  }
}

void link::arm_reader(const stream_ptr& s, bool read_again) {
  if (s->read_armed || s->read_blocked || s->gone || closed_ || s->read_stopped ||
      s->read_paused) {
    return;
  }
  if (out_.size() >= opts_.outbox_high_water) {
    s->read_blocked = true;
    blocked_readers_.push_back(s);
    return;
  }
  s->read_armed = true;
  if (read_again) {
    asio::post(executor_, [self = shared_from_this(), s] { self->on_readable(s, {}); });
    return;
  }
  s->t->socket().async_wait(net::tcp::socket::wait_read,
                            [self = shared_from_this(), s](std::error_code ec) {
                              self->on_readable(s, ec);
                            });
}

std::size_t link::outbox_room() const noexcept {
  return out_.size() < opts_.outbox_high_water ? opts_.outbox_high_water - out_.size() : 0;
}

bool link::reads_in_place(const local_stream& s) const noexcept {
  // With ZChunks on, only streams judged not worth compressing, and not while a plain chunk
  // must carry the compressor's reset flag.
  return s.t && !s.t->is_tls() && !opts_.limit_frame_density &&
         (!zenc_ || (s.no_compress && !zenc_->reset_pending()));
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
  // relocation), which halved throughput_8 when local reads first grew to 512 KiB.
  const std::size_t slots = std::clamp<std::size_t>(
      std::min(opts_.local_read_buffer / slot, outbox_room() / stride), 1, max_read_slots);
  const std::size_t at = out_.size();
  out_.resize(at + slots * stride);  // uninitialised: the read and the heads fill it
  stats_.outbox_peak = std::max<std::uint64_t>(stats_.outbox_peak, out_.size());
  std::array<asio::mutable_buffer, max_read_slots> iov;
  for (std::size_t i = 0; i < slots; ++i) {
    iov[i] = asio::buffer(out_.data() + at + i * stride + full_head, slot);
  }
  std::error_code ec;
  const std::size_t n =
      s->t->socket().read_some(std::span<asio::mutable_buffer>(iov.data(), slots), ec);
  if (ec || n == 0) {
    out_.resize(at);
    read_ended(s, ec);
    return;
  }
  if (session_.on_local_data_framed(sid, n)) {
    out_.resize(at);  // the stream is gone or done reading: the data is dropped, as before
    perform_actions();
    return;
  }
  // Heads in front of the full slots; the last, partial slot gets its own (maybe shorter) head,
  // its bytes moved up to meet it (at most one slot's worth, and only on a short read).
  const std::size_t full = n / slot;
  const std::size_t rest = n % slot;
  std::size_t end = at;
  for (std::size_t i = 0; i < full; ++i) {
    std::memcpy(out_.data() + end, head.data(), full_head);
    end += stride;
    note_frame(stride);
  }
  if (rest > 0) {
    std::array<std::byte, 64> last{};
    const std::size_t m = wire::encode_chunk_head(last, h, rest);
    if (m != full_head) {
      std::memmove(out_.data() + end + m, out_.data() + end + full_head, rest);
    }
    std::memcpy(out_.data() + end, last.data(), m);
    end += m + rest;
    note_frame(m + rest);
  }
  out_.resize(end);
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
  s->read_armed = false;
  if (s->gone || closed_ || s->read_stopped) {
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
    want = std::min(local_rbuf_.size(), std::max(outbox_room(), session_.max_chunk_data()));
    n = s->t->socket().read_some(asio::buffer(local_rbuf_.data(), want), ec);
  }
  if (ec || n == 0) {
    read_ended(s, ec);
    return;
  }
  (void)session_.on_local_data(sid, std::span<const std::byte>(local_rbuf_.data(), n));
  perform_actions();
  stats_.outbox_peak = std::max<std::uint64_t>(stats_.outbox_peak, out_.size());
  arm_reader(s, n == want);
}

void link::kick_writer(const stream_ptr& s) {
  if (s->gone || closed_ || !s->t || !s->wbuf_busy.empty()) {
    return;
  }
  if (!s->wbuf.empty()) {
    std::swap(s->wbuf, s->wbuf_busy);
    const std::uint64_t delivered = s->wbuf_delivered;
    s->wbuf_delivered = 0;
    asio::async_write(s->t->socket(), asio::buffer(s->wbuf_busy.data(), s->wbuf_busy.size()),
                      net::transfer_whole{},
                      [self = shared_from_this(), s, delivered](std::error_code ec, std::size_t) {
                        self->on_written(s, delivered, ec);
                      });
    return;
  }
  if (s->close_after_flush) {
    drop_stream(s->sid, false);
    return;
  }
  if (s->shutdown_after_flush) {
    s->shutdown_after_flush = false;
    std::error_code ec;
    s->t->socket().shutdown(net::tcp::socket::shutdown_send, ec);
  }
}

void link::on_written(const stream_ptr& s, std::uint64_t delivered, std::error_code ec) {
  release_write_buffers(*s);
  note_buffered(-static_cast<std::int64_t>(delivered));
  if (s->gone || closed_) {
    return;
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
      return;
    }
  } else {
    (void)session_.on_local_written(sid, delivered);
    perform_actions();
  }
  kick_writer(s);
}

net::awaitable<void> link::local_reader([[maybe_unused]] std::shared_ptr<link> self, wire::sid_t sid,
                                          stream_ptr s) {
  while (!s->gone && !closed_) {
    if (s->read_stopped) {
      break;
    }
    if (s->read_paused || out_.size() >= opts_.outbox_high_water) {
      if (s->read_paused) {
        co_await s->sig->wake_reader.wait();
      } else {
        co_await outbox_drained_.wait();
        // Several readers may wait for the drain; pass the wake-up on.
        if (out_.size() < opts_.outbox_high_water) {
          outbox_drained_.notify();
        }
      }
      continue;
    }
    // TLS streams are few (terminated https visitors); each read uses its own buffer.
    std::vector<std::byte> buf(16 * 1024);
    auto [ec, n] = co_await s->t->read_some(buf);
    if (s->gone || closed_) {
      break;
    }
    if (ec == asio::error::eof || (!ec && n == 0)) {
      (void)session_.on_local_eof(sid);
      perform_actions();
      break;
    }
    if (ec) {
      (void)session_.close_stream(sid);
      perform_actions();
      drop_stream(sid, true);
      break;
    }
    (void)session_.on_local_data(sid, std::span<const std::byte>(buf.data(), n));
    perform_actions();
  }
  co_return;
}

net::awaitable<void> link::local_writer([[maybe_unused]] std::shared_ptr<link> self, wire::sid_t sid,
                                          stream_ptr s) {
  while (!s->gone && !closed_) {
    if (!s->wbuf.empty()) {
      // Swap so that deliveries during the write append to the other buffer (the one being
      // written must not move).
      std::swap(s->wbuf, s->wbuf_busy);
      const std::size_t len = s->wbuf_busy.size();
      const std::uint64_t delivered = s->wbuf_delivered;
      s->wbuf_delivered = 0;
      auto ec = co_await s->t->write(asio::buffer(s->wbuf_busy.data(), len));
      release_write_buffers(*s);
      note_buffered(-static_cast<std::int64_t>(delivered));
      if (s->gone || closed_) {
        break;
      }
      if (ec) {
        note_buffered(-static_cast<std::int64_t>(s->wbuf_delivered));
        s->wbuf.clear();
        s->wbuf_delivered = 0;
        (void)session_.on_local_write_failed(sid);
        perform_actions();
        if (!session_.has_stream(sid)) {
          drop_stream(sid, true);
          break;
        }
        continue;
      }
      (void)session_.on_local_written(sid, delivered);
      perform_actions();
      continue;
    }
    if (s->close_after_flush) {
      drop_stream(sid, false);
      break;
    }
    if (s->shutdown_after_flush) {
      s->shutdown_after_flush = false;
      (void)co_await s->t->shutdown_send();
      continue;
    }
    co_await s->sig->wake_writer.wait();
  }
  co_return;
}

void link::drop_stream(wire::sid_t sid, bool abortive) {
  auto it = streams_.find(sid);
  if (it == streams_.end()) {
    return;
  }
  auto s = it->second;
  streams_.erase(it);
  s->gone = true;
  if (hooks_.stream_ended) {
    hooks_.stream_ended(sid);
  }
  // Bytes still queued (wbuf) or in flight (wbuf_busy, accounted when its write returns).
  note_buffered(-static_cast<std::int64_t>(s->wbuf_delivered));
  s->wbuf_delivered = 0;
  core::release(s->wbuf);
  if (s->t) {
    (void)abortive;
    s->t->close();
  }
  if (s->sig) {
    s->sig->wake_reader.notify();
    s->sig->wake_writer.notify();
  }
}

void link::close(const std::string& why) {
  if (closed_) {
    return;
  }
  closed_ = true;
  close_reason_ = why;
  tunnel_.close();
  tick_timer_.cancel();
  stall_timer_.cancel();
  session_.on_tunnel_lost();
  session_.clear_actions();
  std::vector<wire::sid_t> sids;
  sids.reserve(streams_.size());
  for (const auto& [sid, s] : streams_) {
    sids.push_back(sid);
  }
  for (auto sid : sids) {
    drop_stream(sid, true);
  }
  wake_tunnel_writer_.notify();
  outbox_drained_.notify();
  resume_tunnel_read_.notify();
  if (!closed_notified_) {
    closed_notified_ = true;
    if (hooks_.closed) {
      auto h = hooks_.closed;
      h(why);
    }
  }
}

}  // namespace kiteline::tunnel
