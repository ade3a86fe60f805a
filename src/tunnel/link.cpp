#include "tunnel/link.hpp"

#include <algorithm>
#include <variant>

#include "core/memory.hpp"
#include "net/spawn.hpp"
#include "wire/chunk_encoder.hpp"

namespace kiteline::tunnel {

namespace {
mux::time_point now() { return std::chrono::steady_clock::now(); }

template <class... Ts>
struct overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
overloaded(Ts...) -> overloaded<Ts...>;

asio::any_io_executor executor_of(std::variant<tls::transport, std::unique_ptr<byte_stream>>& t) {
  if (auto* p = std::get_if<tls::transport>(&t)) {
    return p->socket().get_executor();
  }
  return std::get<1>(t)->get_executor();
}

}  // namespace

link::link(tls::transport&& t, link_options opts, hooks h, std::shared_ptr<spdlog::logger> log,
           std::string name)
    : link(tunnel_io(std::move(t)), std::move(opts), std::move(h), std::move(log),
           std::move(name)) {}

link::link(std::unique_ptr<byte_stream> t, link_options opts, hooks h,
           std::shared_ptr<spdlog::logger> log, std::string name)
    : link(tunnel_io(std::move(t)), std::move(opts), std::move(h), std::move(log),
           std::move(name)) {}

link::link(tunnel_io&& t, link_options opts, hooks h, std::shared_ptr<spdlog::logger> log,
           std::string name)
    : executor_(executor_of(t)),
      tunnel_(std::move(t)),
      opts_(std::move(opts)),
      hooks_(std::move(h)),
      log_(std::move(log)),
      name_(std::move(name)),
      decoder_(opts_.frames, opts_.accept_compressed),
      session_(opts_.role, opts_.session, now()),
      outbox_(outbox_options{opts_.send_compressed, opts_.compression_level,
                             opts_.limit_frame_density, opts_.outbox_high_water,
                             opts_.probation ? opts_.probation_outbox_limit : opts_.outbox_limit}),
      wake_tunnel_writer_(executor_),
      resume_tunnel_read_(executor_),
      tick_timer_(executor_),
      stall_timer_(executor_) {
  if (auto* tls = std::get_if<tls::transport>(&tunnel_)) {
    tls->release_libssl();  // the handshake's owner read what it needed from it
  }
  probation_ = opts_.probation;
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
  outbox_.set_limit(opts_.outbox_limit);
  decoder_.set_limits(opts_.frames, opts_.accept_compressed);
  resume_tunnel_read_.notify();  // the reader may be holding off at the small limit
}

link::~link() = default;

void link::start(std::span<const std::byte> leftover) {
  pending_leftover_.assign(leftover.begin(), leftover.end());
  auto self = shared_from_this();
  auto on_done = [self](const std::exception_ptr& e) {
    if (e) {
      net::log_exception(*self->log_, "tunnel=" + self->name_ + " coroutine failed", e);
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
    while ((session_.tunnel_read_paused() || outbox_.full()) && !closed_) {
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
    // TLS tunnels only (a relay's public ones): a plain tunnel keeps a read pending, which
    // meets a reset before any write of ours does (Link.TunnelLostMidFrame...).
    if (auto* t = std::get_if<tls::transport>(&tunnel_); t && t->is_tls() && read_wait_first_) {
      reader_waiting_ = true;
      (void)co_await t->wait_readable();  // an error comes back from the read below
      reader_waiting_ = false;
      if (closed_) {
        break;
      }
    }
    const std::size_t want = probation_ ? opts_.probation_read_buffer : opts_.tunnel_read_buffer;
    if (tunnel_rbuf_.size() != want) {
      tunnel_rbuf_.resize(want);
    }
    auto [ec, n] = co_await tunnel_read(tunnel_rbuf_);
    if (ec || n == 0) {
      close(ec == asio::error::eof || !ec ? "tunnel closed by peer" : ec.message());
      break;
    }
    stats_.bytes_in += n;
    read_wait_first_ = n < opts_.wait_first_below;
    session_.on_tunnel_bytes_received(now());
    feed(std::span<const std::byte>(tunnel_rbuf_.data(), n));
    ack_partial_frame();
  }
  co_return;
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
        auto z = wire::make_zrst(outbox_.take_reset_flag());
        outbox_.append_encoded(z.bytes());
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
    if (outbox_.full() && !in.empty()) {
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

void link::append_chunk(const wire::chunk_headers& h, std::span<const std::byte> data) {
  bool ok = false;
  if (outbox_.may_compress(h, data.size())) {
    auto it = streams_.find(*h.sid);
    ok = outbox_.append_compressible(h, data,
                                     it != streams_.end() ? &it->second->no_compress : nullptr);
  } else {
    ok = outbox_.append_plain(h, data);
  }
  if (!ok) {
    // The encoder refused the headers (CR/LF in a value): never send data without its head.
    log_->error("tunnel={} refused to encode a chunk head; closing the tunnel", name_);
    close("chunk encoding refused");
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
              if (s.note && s.bytes_delivered == 0) {
                note_head(s.note->head_delivered, d.data);
              }
              s.bytes_delivered += d.data.size();
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
                if (it->second->then != after_flush::close) {
                  it->second->then = after_flush::shutdown_send;
                }
                wake_writer(*it->second);
              }
            },
            [&](const mux::stop_local_read& x) {
              auto it = streams_.find(x.sid);
              if (it != streams_.end()) {
                it->second->gate = read_gate::stopped;
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
                s->then = after_flush::close;
                s->gate = read_gate::stopped;
                wake_writer(*s);
                wake_reader(*s);
              }
            },
            [&](const mux::open_local& o) {
              auto s = std::make_shared<local_stream>();
              s->sid = o.sid;
              s->no_compress = outbox_.start_stream_plain();
              if (opts_.stream_notes) {
                s->note =
                    make_note(o.proto, o.host, o.port.value_or(0), o.rip, o.rport.value_or(0));
              }
              streams_[o.sid] = s;
              ++stats_.streams_opened;
              if (hooks_.open_local) {
                hooks_.open_local(o);
              }
            },
            [&](const mux::pause_local_read& x) {
              auto it = streams_.find(x.sid);
              if (it != streams_.end() && it->second->gate == read_gate::open) {
                it->second->gate = read_gate::paused;
              }
            },
            [&](const mux::resume_local_read& x) {
              auto it = streams_.find(x.sid);
              if (it != streams_.end()) {
                if (it->second->gate == read_gate::paused) {
                  it->second->gate = read_gate::open;
                }
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
              outbox_.reset_compressor();
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
              if (it != streams_.end() && it->second->sock) {
                // RST, not FIN: what it got is truncated, and a FIN could pass for a complete
                // response without Content-Length.
                std::error_code ec;
                it->second->sock->socket().set_option(asio::socket_base::linger(true, 0), ec);
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
  if (!outbox_.empty()) {
    wake_tunnel_writer_.notify();
  }
}

net::awaitable<void> link::writer([[maybe_unused]] std::shared_ptr<link> self) {
  while (!closed_) {
    if (outbox_.empty()) {
      if (close_when_drained_) {
        close(drain_reason_);
        break;
      }
      note_outbox_drained();
      co_await wake_tunnel_writer_.wait();
      continue;
    }
    const auto batch = outbox_.begin_write();
    auto ec = co_await tunnel_write(asio::buffer(batch.data(), batch.size()));
    if (ec) {
      close("tunnel write failed: " + ec.message());
      break;
    }
    stats_.bytes_out += batch.size();
    outbox_.end_write();
    if (outbox_.below_high_water()) {
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
    if (moved == moved_at_last_tick_ && outbox_.empty() && !outbox_.writing()) {
      core::release(local_rbuf_);
      if (reader_waiting_) {
        core::release(tunnel_rbuf_);
      }
      outbox_.release();
      if (auto* t = std::get_if<tls::transport>(&tunnel_)) {
        t->release_idle_buffers();
      }
    }
    moved_at_last_tick_ = moved;
  }
  co_return;
}

net::awaitable<std::tuple<std::error_code, std::size_t>> link::tunnel_read(
    std::span<std::byte> buf) {
  if (auto* t = std::get_if<tls::transport>(&tunnel_)) {
    return t->read_some(buf);
  }
  return std::get<1>(tunnel_)->read_some(buf);
}

net::awaitable<std::error_code> link::tunnel_write(asio::const_buffer buf) {
  if (auto* t = std::get_if<tls::transport>(&tunnel_)) {
    return t->write(buf);
  }
  return std::get<1>(tunnel_)->write(buf);
}

bool link::attach_visitor(tls::transport&& visitor, const mux::stream_open& info,
                                 std::span<const std::byte> first) {
  if (closed_) {
    visitor.close();
    return false;
  }
  stats_.local_in += first.size();  // read while sniffing: the visitor's bytes all the same
  auto sid = session_.open_stream(info, first);
  if (!sid) {
    log_->warn("tunnel={} cannot open stream: {}", name_, sid.error().message());
    session_.clear_actions();
    visitor.close();
    return false;
  }
  auto s = std::make_shared<local_stream>();
  s->sid = *sid;
  s->adopt(std::move(visitor));
  s->no_compress = outbox_.start_stream_plain();
  s->bytes_read = first.size();
  if (opts_.stream_notes) {
    s->note = make_note(info.proto, info.host, info.port, info.rip, info.rport);
    note_head(s->note->head_read, first);
  }
  streams_[*sid] = s;
  ++stats_.streams_opened;
  perform_actions();
  start_local(s);
  return true;
}

void link::attach_local(wire::sid_t sid, tls::transport&& origin) {
  auto it = streams_.find(sid);
  if (it == streams_.end() || closed_) {
    origin.close();
    return;
  }
  it->second->adopt(std::move(origin));
  start_local(it->second);
}

void link::send_control(std::span<const std::byte> encoded_chunk) {
  outbox_.append_encoded(encoded_chunk);
  wake_tunnel_writer_.notify();
}

void link::close(const std::string& why) {
  if (closed_) {
    return;
  }
  closed_ = true;
  close_reason_ = why;
  tunnel_close();
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
