// An in-memory tunnel for tunnel::link: the link reads and writes one end (a
// tunnel::byte_stream), the test plays the far side and injects faults at any byte offset:
// an error, a stall until resumed, reads and writes of one byte at a time.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <tuple>
#include <utility>

#include "net/asio.hpp"
#include "net/signal.hpp"
#include "tunnel/byte_stream.hpp"

namespace kiteline::test {

/// Faults of one memory_transport. Offsets count the bytes the link read (reads) or the far
/// side took from its writes (writes) since the start.
struct memory_faults {
  std::size_t max_read = std::numeric_limits<std::size_t>::max();  ///< most bytes per read
  /// Most bytes a write hands over at once; the write yields to the executor between pieces.
  std::size_t max_write = std::numeric_limits<std::size_t>::max();
  std::optional<std::size_t> fail_read_at;   ///< the read at this offset gets read_error
  std::error_code read_error = asio::error::connection_reset;
  std::optional<std::size_t> fail_write_at;  ///< the write reaching it gets write_error
  std::error_code write_error = asio::error::broken_pipe;
  std::optional<std::size_t> stall_read_at;   ///< reads wait here until resume_reads()
  std::optional<std::size_t> stall_write_at;  ///< writes wait here until resume_writes()
};

/// Both ends of an in-memory tunnel. Everything on one executor.
class memory_transport {
 public:
  explicit memory_transport(const asio::any_io_executor& ex, memory_faults f = {})
      : st_(std::make_shared<state>(ex, f)) {}

  /// The link's end (take it once).
  [[nodiscard]] std::unique_ptr<tunnel::byte_stream> link_end() { return std::make_unique<end>(st_); }

  /// Bytes for the link to read.
  void send(std::string_view bytes) {
    st_->inbound.append(bytes);
    st_->readable.notify();
  }
  /// The far side ends the tunnel once the link read what was sent (a FIN).
  void finish() {
    st_->finished = true;
    st_->readable.notify();
  }
  /// What the link wrote since the last take().
  [[nodiscard]] std::string take() { return std::exchange(st_->outbound, {}); }

  void resume_reads() {
    st_->faults.stall_read_at.reset();
    st_->readable.notify();
  }
  void resume_writes() {
    st_->faults.stall_write_at.reset();
    st_->writable.notify();
  }
  [[nodiscard]] memory_faults& faults() noexcept { return st_->faults; }
  [[nodiscard]] std::size_t bytes_read() const noexcept { return st_->read; }  ///< by the link
  [[nodiscard]] std::size_t bytes_written() const noexcept { return st_->written; }
  [[nodiscard]] bool closed_by_link() const noexcept { return st_->closed; }
  /// A read or a write of the link waits (for bytes, or at a stall).
  [[nodiscard]] bool read_waiting() const noexcept { return st_->read_waiting; }
  [[nodiscard]] bool write_waiting() const noexcept { return st_->write_waiting; }

 private:
  struct state {
    state(const asio::any_io_executor& e, memory_faults f)
        : ex(e), faults(f), readable(e), writable(e) {}
    asio::any_io_executor ex;
    memory_faults faults;
    net::signal readable;
    net::signal writable;
    std::string inbound;   // sent by the test; [read, size) not read yet
    std::string outbound;  // written by the link, not taken yet
    std::size_t read = 0;
    std::size_t written = 0;
    bool finished = false;
    bool closed = false;
    bool read_waiting = false;
    bool write_waiting = false;
  };

  static std::size_t room_before(const std::optional<std::size_t>& at, std::size_t offset) {
    return at ? *at - std::min(*at, offset) : std::numeric_limits<std::size_t>::max();
  }

  class end final : public tunnel::byte_stream {
   public:
    explicit end(std::shared_ptr<state> st) : st_(std::move(st)) {}
    ~end() override { close(); }
    end(const end&) = delete;
    end& operator=(const end&) = delete;

    asio::any_io_executor get_executor() override { return st_->ex; }

    net::awaitable<std::tuple<std::error_code, std::size_t>> read_some(
        std::span<std::byte> buf) override {
      const auto st = st_;  // the state outlives this end while a read is pending
      for (;;) {
        if (st->closed) {
          co_return std::tuple{std::error_code(asio::error::operation_aborted), std::size_t{0}};
        }
        const memory_faults& f = st->faults;
        if (f.fail_read_at && st->read >= *f.fail_read_at) {
          co_return std::tuple{f.read_error, std::size_t{0}};
        }
        const std::size_t n = std::min({st->inbound.size() - st->read, buf.size(), f.max_read,
                                        room_before(f.fail_read_at, st->read),
                                        room_before(f.stall_read_at, st->read)});
        if (n > 0) {
          std::memcpy(buf.data(), st->inbound.data() + st->read, n);
          st->read += n;
          co_return std::tuple{std::error_code{}, n};
        }
        const bool stalled = f.stall_read_at && st->read >= *f.stall_read_at;
        if (!stalled && st->finished && st->read == st->inbound.size()) {
          co_return std::tuple{std::error_code(asio::error::eof), std::size_t{0}};
        }
        st->read_waiting = true;
        co_await st->readable.wait();
        st->read_waiting = false;
      }
    }

    net::awaitable<std::error_code> write(asio::const_buffer buf) override {
      const auto st = st_;
      const auto* p = static_cast<const char*>(buf.data());
      std::size_t done = 0;
      while (done < buf.size()) {
        if (st->closed) {
          co_return asio::error::operation_aborted;
        }
        const memory_faults& f = st->faults;
        if (f.fail_write_at && st->written >= *f.fail_write_at) {
          co_return f.write_error;
        }
        if (f.stall_write_at && st->written >= *f.stall_write_at) {
          st->write_waiting = true;
          co_await st->writable.wait();
          st->write_waiting = false;
          continue;
        }
        const std::size_t n = std::min({buf.size() - done, f.max_write,
                                        room_before(f.fail_write_at, st->written),
                                        room_before(f.stall_write_at, st->written)});
        st->outbound.append(p + done, n);
        st->written += n;
        done += n;
        if (done < buf.size()) {  // a short write: what else is ready runs before the rest
          co_await asio::post(st->ex, asio::use_awaitable);
        }
      }
      co_return std::error_code{};
    }

    void close() noexcept override {
      st_->closed = true;
      st_->readable.notify();
      st_->writable.notify();
    }

   private:
    std::shared_ptr<state> st_;
  };

  std::shared_ptr<state> st_;
};

}  // namespace kiteline::test
