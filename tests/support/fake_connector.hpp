// A scripted PageKite connector for tests, built on the codec (handshake, kite_auth, frame
// decoder, chunk encoder) over a test_socket: Flow A/B handshakes, pluggable per-stream
// behaviour, SKB acks and PONGs like pagekite.py, and hostile-byte injection.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "support/test_env.hpp"
#include "support/test_socket.hpp"
#include "wire/chunk_headers.hpp"
#include "wire/handshake.hpp"

namespace kiteline::test {

/// One kite to register: "http" / "raw-22" / "https", a domain, and the secret to sign with.
struct kite_spec {
  std::string proto;
  std::string domain;
  std::string secret{"s3cret"};
};

class fake_connector;

/// One stream the relay opened on the fake connector. Thread-safe. Handlers and test threads
/// may call send()/send_eof(); received bytes are recorded (up to record_limit).
class fake_stream {
 public:
  wire::sid_t sid = 0;
  std::string proto, host, rip;
  std::uint32_t port = 0, rport = 0;
  bool rtls = false;

  /// Sends data chunks (split at the connector's chunk_size). Called from a thread other than
  /// the connector's reader, it blocks while the stream's unacked bytes reach send_window
  /// (waiting for the relay's SKB), like pagekite.py; from the reader thread (a handler) it never
  /// waits for the window (the reader is what processes SKBs). False when the tunnel is gone.
  bool send(std::span<const std::byte> data);
  bool send(std::string_view text) { return send(as_bytes(text)); }
  /// Sends `EOF: 1R` / `1W` / `1WR`.
  bool send_eof(wire::eof_flags flags);
  /// Sends `n` bytes of pattern(seed) from a background thread owned by the connector.
  void send_pattern_async(std::uint64_t n, std::uint64_t seed, std::string prefix = {},
                          bool eof_after = true);

  /// Bytes received so far (at most record_limit are kept) and their total count.
  [[nodiscard]] std::vector<std::byte> received() const;
  [[nodiscard]] std::uint64_t received_total() const;
  /// EOF flags the relay sent for this stream (nullopt: none yet).
  [[nodiscard]] std::optional<wire::eof_flags> eof() const;
  /// Highest SKB value (KiB) the relay sent for this stream.
  [[nodiscard]] std::uint64_t skb_kib() const;
  /// Data bytes sent toward the relay.
  [[nodiscard]] std::uint64_t sent_total() const;
  /// Waits until at least n bytes were received.
  [[nodiscard]] testing::AssertionResult wait_received(std::uint64_t n) const;
  /// Waits until the relay sent EOF for this stream.
  [[nodiscard]] testing::AssertionResult wait_eof() const;

  /// Free-form state a handler may keep (e.g. a running hash); guarded by the stream mutex.
  std::string note() const;
  void set_note(std::string s);

 private:
  friend class fake_connector;
  fake_connector* owner_ = nullptr;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::vector<std::byte> received_;
  std::uint64_t received_total_ = 0;
  std::uint64_t acked_kib_sent_ = 0;  // our last SKB to the relay
  std::optional<wire::eof_flags> eof_;
  std::uint64_t sent_ = 0;
  std::uint64_t relay_skb_ = 0;
  std::string note_;
};

/// Per-stream behaviour. Callbacks run on the connector's reader thread, in wire order.
class stream_handler {
 public:
  virtual ~stream_handler() = default;
  /// The first chunk arrived (its data follows through on_data).
  virtual void on_open(fake_stream&) {}
  virtual void on_data(fake_stream&, std::span<const std::byte>) {}
  /// The relay sent EOF for the stream.
  virtual void on_eof(fake_stream&, wire::eof_flags) {}
};
using handler_factory = std::function<std::unique_ptr<stream_handler>(fake_stream&)>;

/// Ready-made behaviours (each documented at its factory).
namespace behaviour {
/// Records only (tests drive the stream themselves).
handler_factory record();
/// Echoes every byte; answers EOF R with EOF R.
handler_factory echo();
/// After the first complete request head (or the first bytes if `wait_head` is false), sends
/// `reply`, then EOF R if `eof_after`.
handler_factory fixed_reply(std::string reply, bool eof_after = true, bool wait_head = true);
/// HTTP: after the request head sends "HTTP/1.1 200 OK" + Content-Length n + n bytes of
/// pattern(seed) from a background thread (window-respecting), then EOF R.
handler_factory serve_pattern(std::uint64_t n, std::uint64_t seed);
/// HTTP upload: reads the head's Content-Length L, hashes the L body bytes, answers
/// "HTTP/1.1 200 OK" with the SHA-256 hex as body, then EOF R.
handler_factory hash_upload();
}  // namespace behaviour

/// Options of a fake connector.
struct connector_options {
  std::vector<kite_spec> kites;
  bool advertise_zchunks = false;  ///< ask the relay for ZChunks (we inflate with the codec)
  bool add_kites = true;           ///< X-PageKite-Features: AddKites
  std::string replace;             ///< X-PageKite-Replace for the (last) request
  std::string version = "1.5.2.201011";
  /// BSALT for every kite; "" = a random one per kite. Two connectors with the same BSALT are
  /// the same connector to the relay (a reconnecting process), which then answers Duplicate.
  std::string bsalt;
  /// TLS tunnel: `tls_connect_name` non-empty → send "CONNECT name:443" first (pagekite.py
  /// --fe_certname); `tls` → TLS handshake with SNI tls_sni (may be empty) verified by ca_file.
  bool tls = false;
  std::string tls_connect_name;
  std::string tls_sni;
  std::string ca_file;
  std::string tls_verify_name;  ///< name checked in the certificate; "" = tls_sni, else connect name
  std::uint64_t send_window = 256 * 1024;  ///< 0: ignore SKB (a hostile connector)
  std::size_t chunk_size = 16 * 1024;
  bool send_skb = true;                    ///< ack delivered bytes with SKB like pagekite.py
  handler_factory handler = behaviour::record();
};

/// Options with these kites and every other field at its default.
inline connector_options with_kites(std::vector<kite_spec> kites) {
  connector_options o;
  o.kites = std::move(kites);
  return o;
}

/// What a handshake produced.
struct handshake_outcome {
  bool connected = false;                 ///< the TCP/TLS connection(s) worked
  std::string first_head;                 ///< response head of round one
  std::string head;                       ///< response head of the last connection
  wire::handshake_response response;      ///< results of the final round (head or NOOP chunk)
  bool tunnel_up = false;                 ///< at least one OK: the connector now serves streams
  std::string error;
  [[nodiscard]] std::size_t count(wire::kite_status s) const;
  [[nodiscard]] std::string why() const;  ///< the first Invalid reason ("signature", ...)
};

/// A fake PageKite connector. Lives on the test thread; owns a reader thread (started once a
/// tunnel is up) and any background sender threads. The destructor kills the tunnel and joins.
class fake_connector {
 public:
  fake_connector(std::uint16_t relay_port, connector_options opts);
  ~fake_connector();
  fake_connector(const fake_connector&) = delete;
  fake_connector& operator=(const fake_connector&) = delete;

  /// Flow A (§4.1-4.4): request → SignThis → close; second connection with the signed kites
  /// (and X-PageKite-Replace = round one's session id, as pagekite.py) → OK.
  handshake_outcome connect_flow_a();
  /// Flow B (§4.5): request → SignThis; signed kites in a NOOP chunk on the same connection →
  /// result chunk.
  handshake_outcome connect_flow_b();
  /// Sends a kite round (Flow B / AddKites) for `kites` on the live tunnel, signing with the
  /// `fsalt` tokens we learned (SignThis in a response head or an earlier result chunk; a kite
  /// without one goes with an empty FSALT and gets a new challenge); returns the result
  /// chunk's parsed response.
  handshake_outcome add_kites(const std::vector<kite_spec>& kites);

  /// Replays kite lines verbatim (a captured `X-PageKite:` value each, e.g. from
  /// kite_lines_sent() of another connector) as round one of a new connection, with this
  /// connector's other request headers. If some kite gets OK the tunnel is up (reader started);
  /// otherwise the relay closes. Fails (out.error) if a line does not re-format byte-exactly.
  handshake_outcome connect_with_lines(const std::vector<std::string>& lines);
  /// Sends an in-tunnel kite round (Flow B / AddKites) holding these kite lines verbatim on the
  /// live tunnel; returns the result chunk's parsed response.
  handshake_outcome add_kite_lines(const std::vector<std::string>& lines);
  /// Every `X-PageKite:` value this connector has sent, in order (round one's lines carry an
  /// empty FSALT; later ones the relay's token and a signature over it): what an eavesdropper
  /// on a clear-text tunnel sees.
  [[nodiscard]] std::vector<std::string> kite_lines_sent() const;
  /// The kite_lines_sent() entries that carry a token (FSALT non-empty).
  [[nodiscard]] std::vector<std::string> signed_kite_lines_sent() const;

  /// Session id the relay gave in the last response (X-PageKite-SessionID).
  [[nodiscard]] std::string session_id() const;

  /// Writes raw bytes to the tunnel (hostile input).
  bool send_raw(std::span<const std::byte> bytes);
  bool send_raw(std::string_view text) { return send_raw(as_bytes(text)); }
  /// Encodes and sends one plain chunk.
  bool send_chunk(const wire::chunk_headers& h, std::span<const std::byte> data = {});
  /// Kills the tunnel abruptly (RST) and joins the reader.
  void kill();

  /// True once the relay closed the tunnel (reader saw EOF/error) or kill() ran.
  [[nodiscard]] bool tunnel_closed() const noexcept { return closed_; }
  [[nodiscard]] testing::AssertionResult wait_tunnel_closed(milliseconds timeout = test_timeout());
  [[nodiscard]] std::size_t stream_count() const;
  /// The n-th stream opened (0-based), or nullptr.
  [[nodiscard]] std::shared_ptr<fake_stream> stream_at(std::size_t index) const;
  [[nodiscard]] std::shared_ptr<fake_stream> stream(wire::sid_t sid) const;
  [[nodiscard]] testing::AssertionResult wait_streams(std::size_t n);
  [[nodiscard]] std::uint64_t pongs_sent() const noexcept { return pongs_; }
  /// Control-chunk (X-PageKite*) field lists received, for Flow B / AddKites results.
  [[nodiscard]] std::size_t control_count() const;

  // Internal (used by fake_stream).
  bool write_chunk(const wire::chunk_headers& h, std::span<const std::byte> data);
  [[nodiscard]] const connector_options& options() const noexcept { return opts_; }
  [[nodiscard]] bool on_reader_thread() const noexcept;
  void spawn(std::function<void()> fn);

 private:
  bool open(test_socket& s, std::string& error);
  std::string request(const std::vector<wire::kite_request>& kites, const std::string& replace);
  std::vector<wire::kite_request> sign(const std::vector<kite_spec>& kites,
                                       const wire::handshake_response* challenge);
  static bool parse_lines(const std::vector<std::string>& lines,
                          std::vector<wire::kite_request>& out, std::string& error);
  void start_reader(std::vector<std::byte> leftover);
  void reader_loop(std::vector<std::byte> leftover);
  void on_headers(const wire::chunk_headers& h);
  void on_data(std::span<const std::byte> data, bool complete);
  handshake_outcome wait_control(std::size_t before, handshake_outcome out);

  std::uint16_t port_;
  connector_options opts_;
  test_socket sock_;
  std::mutex write_mu_;
  std::thread reader_;
  std::atomic<std::thread::id> reader_id_{};
  std::atomic<bool> closed_{false};
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> pongs_{0};
  std::map<std::string, std::string> bsalts_;  // kite key → bsalt we used
  std::map<std::string, std::string> tokens_;  // kite key → fsalt from SignThis

  mutable std::mutex mu_;  // guards everything below
  std::condition_variable cv_;
  std::map<wire::sid_t, std::shared_ptr<fake_stream>> streams_;
  std::vector<std::shared_ptr<fake_stream>> order_;
  std::map<wire::sid_t, std::unique_ptr<stream_handler>> handlers_;
  std::vector<std::vector<std::pair<std::string, std::string>>> controls_;
  std::vector<std::string> lines_sent_;  // every X-PageKite value signed for sending
  std::string session_id_;
  std::vector<std::thread> workers_;

  // Reader-thread state of the chunk being decoded.
  std::optional<wire::sid_t> cur_sid_;
  bool cur_deliver_ = false;
};

}  // namespace kiteline::test
