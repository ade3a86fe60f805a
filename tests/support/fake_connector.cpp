#include "support/fake_connector.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <cstdio>
#include <random>

#include "core/text.hpp"
#include "wire/chunk_encoder.hpp"
#include "wire/frame_decoder.hpp"
#include "wire/kite_auth.hpp"
#include "wire/ping.hpp"

namespace kiteline::test {

namespace {

std::string random_hex(std::size_t n) {
  std::random_device rd;
  std::string s;
  for (std::size_t i = 0; i < n; ++i) {
    s += hex_digit(rd());
  }
  return s;
}

std::string hex_size(std::size_t n) { return to_hex_number(n) + "\r\n"; }

/// "proto:domain" of a result's "proto:domain:bsalt".
std::string key_of(const std::string& kite) {
  auto last = kite.rfind(':');
  return last == std::string::npos ? kite : kite.substr(0, last);
}

}  // namespace

// --- handshake_outcome -----------------------------------------------------------------------

std::size_t handshake_outcome::count(wire::kite_status s) const {
  return static_cast<std::size_t>(std::count_if(response.results.begin(), response.results.end(),
                                                [s](const auto& r) { return r.status == s; }));
}

std::string handshake_outcome::why() const {
  for (const auto& r : response.results) {
    if (r.status == wire::kite_status::invalid) {
      return r.why;
    }
  }
  return {};
}

// --- fake_stream -----------------------------------------------------------------------------

bool fake_stream::send(std::span<const std::byte> data) {
  const auto& o = owner_->options();
  const bool may_wait = o.send_window > 0 && !owner_->on_reader_thread();
  while (!data.empty()) {
    if (may_wait) {
      std::unique_lock lock(mu_);
      bool ok = cv_.wait_for(lock, test_timeout(), [&] {
        return owner_->tunnel_closed() || sent_ < relay_skb_ * 1024 + o.send_window;
      });
      if (!ok || owner_->tunnel_closed()) {
        return false;
      }
    }
    auto piece = data.first(std::min(data.size(), o.chunk_size));
    wire::chunk_headers h;
    h.sid = sid;
    if (!owner_->write_chunk(h, piece)) {
      return false;
    }
    {
      std::lock_guard lock(mu_);
      sent_ += piece.size();
    }
    data = data.subspan(piece.size());
  }
  return true;
}

bool fake_stream::send_eof(wire::eof_flags flags) {
  wire::chunk_headers h;
  h.sid = sid;
  h.eof = flags;
  return owner_->write_chunk(h, as_bytes("Bye!"));
}

void fake_stream::send_pattern_async(std::uint64_t n, std::uint64_t seed, std::string prefix,
                                     bool eof_after) {
  owner_->spawn([this, n, seed, prefix = std::move(prefix), eof_after] {
    if (!prefix.empty() && !send(as_bytes(prefix))) {
      return;
    }
    pattern p(seed);
    std::vector<std::byte> buf(64 * 1024);
    for (std::uint64_t off = 0; off < n;) {
      auto len = static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), n - off));
      p.fill(off, std::span<std::byte>(buf.data(), len));
      if (!send(std::span<const std::byte>(buf.data(), len))) {
        return;
      }
      off += len;
    }
    if (eof_after) {
      (void)send_eof(wire::eof_flags::read);
    }
  });
}

std::vector<std::byte> fake_stream::received() const {
  std::lock_guard lock(mu_);
  return received_;
}

std::uint64_t fake_stream::received_total() const {
  std::lock_guard lock(mu_);
  return received_total_;
}

std::optional<wire::eof_flags> fake_stream::eof() const {
  std::lock_guard lock(mu_);
  return eof_;
}

std::uint64_t fake_stream::skb_kib() const {
  std::lock_guard lock(mu_);
  return relay_skb_;
}

std::uint64_t fake_stream::sent_total() const {
  std::lock_guard lock(mu_);
  return sent_;
}

testing::AssertionResult fake_stream::wait_received(std::uint64_t n) const {
  return wait_for([&] { return received_total() >= n; }, "bytes at the fake connector");
}

testing::AssertionResult fake_stream::wait_eof() const {
  return wait_for([&] { return eof().has_value(); }, "EOF at the fake connector");
}

std::string fake_stream::note() const {
  std::lock_guard lock(mu_);
  return note_;
}

void fake_stream::set_note(std::string s) {
  std::lock_guard lock(mu_);
  note_ = std::move(s);
}

// --- behaviours ------------------------------------------------------------------------------

namespace behaviour {

namespace {

/// Accumulates bytes until the first "\r\n\r\n"; then `on_head(head, rest)` once.
class head_handler : public stream_handler {
 public:
  void on_data(fake_stream& s, std::span<const std::byte> data) override {
    if (done_) {
      on_body(s, data);
      return;
    }
    buf_.append(as_text(data));
    auto end = buf_.find("\r\n\r\n");
    if (end == std::string::npos) {
      return;
    }
    done_ = true;
    std::string head = buf_.substr(0, end + 4);
    std::string rest = buf_.substr(end + 4);
    buf_.clear();
    on_head(s, head);
    if (!rest.empty()) {
      on_body(s, as_bytes(rest));
    }
  }
  virtual void on_head(fake_stream& s, const std::string& head) = 0;
  virtual void on_body(fake_stream&, std::span<const std::byte>) {}

 private:
  std::string buf_;
  bool done_ = false;
};

class echo_handler : public stream_handler {
 public:
  void on_data(fake_stream& s, std::span<const std::byte> data) override { (void)s.send(data); }
  void on_eof(fake_stream& s, wire::eof_flags f) override {
    if (wire::has_read(f)) {
      (void)s.send_eof(wire::eof_flags::read);
    }
  }
};

class fixed_handler : public head_handler {
 public:
  fixed_handler(std::string reply, bool eof_after, bool wait_head)
      : reply_(std::move(reply)), eof_after_(eof_after), wait_head_(wait_head) {}
  void on_data(fake_stream& s, std::span<const std::byte> data) override {
    if (!wait_head_ && !sent_) {
      on_head(s, std::string(as_text(data)));
      return;
    }
    head_handler::on_data(s, data);
  }
  void on_head(fake_stream& s, const std::string&) override {
    if (sent_) {
      return;
    }
    sent_ = true;
    (void)s.send(reply_);
    if (eof_after_) {
      (void)s.send_eof(wire::eof_flags::read);
    }
  }

 private:
  std::string reply_;
  bool eof_after_;
  bool wait_head_;
  bool sent_ = false;
};

class pattern_handler : public head_handler {
 public:
  pattern_handler(std::uint64_t n, std::uint64_t seed) : n_(n), seed_(seed) {}
  void on_head(fake_stream& s, const std::string&) override {
    s.send_pattern_async(n_, seed_,
                         "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(n_) + "\r\n\r\n",
                         true);
  }

 private:
  std::uint64_t n_;
  std::uint64_t seed_;
};

class hash_handler : public head_handler {
 public:
  void on_head(fake_stream& s, const std::string& head) override {
    auto at = head.find("Content-Length:");
    want_ = at == std::string::npos ? 0 : std::strtoull(head.c_str() + at + 15, nullptr, 10);
    maybe_finish(s);
  }
  void on_body(fake_stream& s, std::span<const std::byte> data) override {
    h_.update(data);
    got_ += data.size();
    maybe_finish(s);
  }

 private:
  void maybe_finish(fake_stream& s) {
    if (replied_ || got_ < want_) {
      return;
    }
    replied_ = true;
    std::string hex = h_.hex();
    s.set_note(hex);
    (void)s.send("HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(hex.size()) + "\r\n\r\n" +
                 hex);
    (void)s.send_eof(wire::eof_flags::read);
  }
  sha256 h_;
  std::uint64_t want_ = 0;
  std::uint64_t got_ = 0;
  bool replied_ = false;
};

}  // namespace

handler_factory record() {
  return [](fake_stream&) { return std::make_unique<stream_handler>(); };
}
handler_factory echo() {
  return [](fake_stream&) { return std::make_unique<echo_handler>(); };
}
handler_factory fixed_reply(std::string reply, bool eof_after, bool wait_head) {
  return [reply, eof_after, wait_head](fake_stream&) {
    return std::make_unique<fixed_handler>(reply, eof_after, wait_head);
  };
}
handler_factory serve_pattern(std::uint64_t n, std::uint64_t seed) {
  return [n, seed](fake_stream&) { return std::make_unique<pattern_handler>(n, seed); };
}
handler_factory hash_upload() {
  return [](fake_stream&) { return std::make_unique<hash_handler>(); };
}

}  // namespace behaviour

// --- fake_connector --------------------------------------------------------------------------

fake_connector::fake_connector(std::uint16_t relay_port, connector_options opts)
    : port_(relay_port), opts_(std::move(opts)) {}

fake_connector::~fake_connector() { kill(); }

bool fake_connector::open(test_socket& s, std::string& error) {
  if (!s.connect(port_)) {
    error = "connect failed";
    return false;
  }
  if (!opts_.tls_connect_name.empty()) {
    if (!s.send_all(wire::format_connect_preamble(opts_.tls_connect_name))) {
      error = "preamble write failed";
      return false;
    }
    std::string head = s.read_head();
    auto r = wire::check_connect_reply(head);
    if (head.empty() || !r || r->need_more()) {
      error = "bad CONNECT reply: " + head;
      return false;
    }
  }
  std::string verify = opts_.tls_verify_name;
  if (verify.empty()) {
    verify = opts_.tls_sni.empty() ? opts_.tls_connect_name : opts_.tls_sni;
  }
  if (opts_.tls && !s.start_tls(opts_.tls_sni, opts_.ca_file, error, verify)) {
    return false;
  }
  return true;
}

std::string fake_connector::request(const std::vector<wire::kite_request>& kites,
                                    const std::string& replace) {
  wire::handshake_request req;
  req.add_kites = opts_.add_kites;
  req.zchunks = opts_.advertise_zchunks;
  req.versions = {opts_.version, opts_.version};
  req.replace = replace;
  req.kites = kites;
  return wire::format_handshake_request(req);
}

std::vector<wire::kite_request> fake_connector::sign(const std::vector<kite_spec>& kites,
                                                     const wire::handshake_response*) {
  std::vector<wire::kite_request> out;
  for (const auto& k : kites) {
    const std::string key = k.proto + ":" + k.domain;
    auto& bsalt = bsalts_[key];
    if (bsalt.empty()) {
      bsalt = opts_.bsalt.empty() ? random_hex(36) : opts_.bsalt;
    }
    wire::kite_request r;
    r.proto = k.proto;
    r.domain = k.domain;
    r.bsalt = bsalt;
    r.fsalt = tokens_.count(key) != 0 ? tokens_[key] : std::string();
    r.signature = wire::make_kite_signature(k.secret, k.proto, k.domain, r.bsalt, r.fsalt,
                                            random_hex(8));
    {
      std::lock_guard lock(mu_);
      lines_sent_.push_back(wire::format_kite_line(r));
    }
    out.push_back(std::move(r));
  }
  return out;
}

bool fake_connector::parse_lines(const std::vector<std::string>& lines,
                                 std::vector<wire::kite_request>& out, std::string& error) {
  for (const auto& line : lines) {
    auto k = wire::parse_kite_line(line);
    if (!k || wire::format_kite_line(*k) != line) {
      error = "kite line does not re-format byte-exactly: " + line;
      return false;
    }
    out.push_back(std::move(*k));
  }
  return true;
}

std::vector<std::string> fake_connector::kite_lines_sent() const {
  std::lock_guard lock(mu_);
  return lines_sent_;
}

std::vector<std::string> fake_connector::signed_kite_lines_sent() const {
  std::vector<std::string> out;
  for (auto& line : kite_lines_sent()) {
    auto k = wire::parse_kite_line(line);
    if (k && !k->fsalt.empty()) {
      out.push_back(std::move(line));
    }
  }
  return out;
}

handshake_outcome fake_connector::connect_with_lines(const std::vector<std::string>& lines) {
  handshake_outcome out;
  std::vector<wire::kite_request> kites;
  if (!parse_lines(lines, kites, out.error)) {
    return out;
  }
  {
    std::lock_guard lock(mu_);
    lines_sent_.insert(lines_sent_.end(), lines.begin(), lines.end());
  }
  if (!open(sock_, out.error)) {
    return out;
  }
  out.connected = true;
  if (!sock_.send_all(request(kites, opts_.replace))) {
    out.error = "request write failed";
    return out;
  }
  out.head = out.first_head = sock_.read_head();
  auto r = wire::parse_handshake_response(out.head);
  if (!r) {
    out.error = "bad response: " + out.head;
    return out;
  }
  out.response = *r;
  {
    std::lock_guard lock(mu_);
    session_id_ = r->session_id;
  }
  out.tunnel_up = out.count(wire::kite_status::ok) > 0;
  if (out.tunnel_up) {
    start_reader({});
  }
  return out;
}

handshake_outcome fake_connector::add_kite_lines(const std::vector<std::string>& lines) {
  handshake_outcome out;
  std::vector<wire::kite_request> kites;
  if (!parse_lines(lines, kites, out.error)) {
    return out;
  }
  {
    std::lock_guard lock(mu_);
    lines_sent_.insert(lines_sent_.end(), lines.begin(), lines.end());
  }
  out.connected = true;
  const std::size_t before = control_count();
  std::string payload = wire::format_kite_round_payload(opts_.version, kites);
  if (!send_raw(hex_size(payload.size()) + payload)) {
    out.error = "kite round write failed";
    return out;
  }
  return wait_control(before, std::move(out));
}

handshake_outcome fake_connector::connect_flow_a() {
  handshake_outcome out;
  {
    test_socket first;
    if (!open(first, out.error)) {
      return out;
    }
    if (!first.send_all(request(sign(opts_.kites, nullptr), opts_.replace))) {
      out.error = "round one write failed";
      return out;
    }
    out.first_head = first.read_head();
    auto r1 = wire::parse_handshake_response(out.first_head);
    if (!r1) {
      out.error = "round one: bad response: " + out.first_head;
      return out;
    }
    for (const auto& res : r1->results) {
      if (res.status == wire::kite_status::sign_this) {
        tokens_[key_of(res.kite)] = res.fsalt;
      }
    }
    (void)first.wait_closed(milliseconds(2000));
    std::lock_guard lock(mu_);
    session_id_ = r1->session_id;
  }
  if (!open(sock_, out.error)) {
    return out;
  }
  out.connected = true;
  const std::string replace = opts_.replace.empty() ? session_id() : opts_.replace;
  if (!sock_.send_all(request(sign(opts_.kites, nullptr), replace))) {
    out.error = "round two write failed";
    return out;
  }
  out.head = sock_.read_head();
  auto r2 = wire::parse_handshake_response(out.head);
  if (!r2) {
    out.error = "round two: bad response: " + out.head;
    return out;
  }
  out.response = *r2;
  {
    std::lock_guard lock(mu_);
    session_id_ = r2->session_id;
  }
  out.tunnel_up = out.count(wire::kite_status::ok) > 0;
  if (out.tunnel_up) {
    start_reader({});
  }
  return out;
}

handshake_outcome fake_connector::connect_flow_b() {
  handshake_outcome out;
  if (!open(sock_, out.error)) {
    return out;
  }
  out.connected = true;
  if (!sock_.send_all(request(sign(opts_.kites, nullptr), opts_.replace))) {
    out.error = "request write failed";
    return out;
  }
  out.first_head = sock_.read_head();
  auto r1 = wire::parse_handshake_response(out.first_head);
  if (!r1) {
    out.error = "bad response: " + out.first_head;
    return out;
  }
  {
    std::lock_guard lock(mu_);
    session_id_ = r1->session_id;
  }
  for (const auto& res : r1->results) {
    if (res.status == wire::kite_status::sign_this) {
      tokens_[key_of(res.kite)] = res.fsalt;
    }
  }
  start_reader({});
  out.head = out.first_head;
  return add_kites(opts_.kites);
}

handshake_outcome fake_connector::add_kites(const std::vector<kite_spec>& kites) {
  handshake_outcome out;
  out.connected = true;
  const std::size_t before = control_count();
  auto signed_kites = sign(kites, nullptr);
  std::string payload = wire::format_kite_round_payload(opts_.version, signed_kites);
  if (!send_raw(hex_size(payload.size()) + payload)) {
    out.error = "kite round write failed";
    return out;
  }
  return wait_control(before, std::move(out));
}

handshake_outcome fake_connector::wait_control(std::size_t before, handshake_outcome out) {
  std::unique_lock lock(mu_);
  bool got = cv_.wait_for(lock, test_timeout(),
                          [&] { return controls_.size() > before || closed_.load(); });
  if (!got || controls_.size() <= before) {
    out.error = "no result chunk (tunnel closed: " + std::to_string(closed_.load()) + ")";
    return out;
  }
  const auto& owned = controls_[before];
  std::vector<wire::header_field> fields;
  for (const auto& [n, v] : owned) {
    fields.push_back({n, v});
  }
  auto r = wire::parse_result_fields(fields);
  if (!r) {
    out.error = "bad result chunk: " + r.error().message();
    return out;
  }
  out.response = *r;
  if (!r->session_id.empty()) {
    session_id_ = r->session_id;
  }
  // A later round (AddKites, §4.8) may be answered with new challenges: sign those next time.
  for (const auto& res : r->results) {
    if (res.status == wire::kite_status::sign_this) {
      tokens_[key_of(res.kite)] = res.fsalt;
    }
  }
  out.tunnel_up = out.count(wire::kite_status::ok) > 0;
  return out;
}

std::string fake_connector::session_id() const {
  std::lock_guard lock(mu_);
  return session_id_;
}

bool fake_connector::send_raw(std::span<const std::byte> bytes) {
  std::lock_guard lock(write_mu_);
  if (closed_ && stop_) {
    return false;
  }
  return sock_.send_all(bytes);
}

bool fake_connector::send_chunk(const wire::chunk_headers& h, std::span<const std::byte> data) {
  return write_chunk(h, data);
}

bool fake_connector::write_chunk(const wire::chunk_headers& h, std::span<const std::byte> data) {
  if (closed_) {
    return false;
  }
  std::vector<std::byte> buf(wire::chunk_head_size_bound(h) + data.size());
  std::size_t n = wire::encode_chunk_head(buf, h, data.size());
  if (n == 0) {
    return false;
  }
  std::copy(data.begin(), data.end(), buf.begin() + static_cast<std::ptrdiff_t>(n));
  buf.resize(n + data.size());
  std::lock_guard lock(write_mu_);
  return sock_.send_all(buf);
}

void fake_connector::kill() {
  stop_ = true;
  closed_ = true;
  if (sock_.is_open()) {
    ::shutdown(sock_.fd(), SHUT_RDWR);
  }
  {
    std::lock_guard lock(mu_);
    for (auto& s : order_) {
      std::lock_guard slock(s->mu_);
      s->cv_.notify_all();
    }
    cv_.notify_all();
  }
  if (reader_.joinable()) {
    reader_.join();
  }
  std::vector<std::thread> workers;
  {
    std::lock_guard lock(mu_);
    workers.swap(workers_);
  }
  for (auto& w : workers) {
    w.join();
  }
  std::lock_guard lock(write_mu_);
  sock_.close(true);
}

testing::AssertionResult fake_connector::wait_tunnel_closed(milliseconds timeout) {
  return wait_for([&] { return closed_.load(); }, timeout, "the relay to close the tunnel");
}

std::size_t fake_connector::stream_count() const {
  std::lock_guard lock(mu_);
  return order_.size();
}

std::shared_ptr<fake_stream> fake_connector::stream_at(std::size_t index) const {
  std::lock_guard lock(mu_);
  return index < order_.size() ? order_[index] : nullptr;
}

std::shared_ptr<fake_stream> fake_connector::stream(wire::sid_t sid) const {
  std::lock_guard lock(mu_);
  auto it = streams_.find(sid);
  return it == streams_.end() ? nullptr : it->second;
}

testing::AssertionResult fake_connector::wait_streams(std::size_t n) {
  return wait_for([&] { return stream_count() >= n; }, "streams at the fake connector");
}

std::size_t fake_connector::control_count() const {
  std::lock_guard lock(mu_);
  return controls_.size();
}

bool fake_connector::on_reader_thread() const noexcept {
  return std::this_thread::get_id() == reader_id_.load();
}

void fake_connector::spawn(std::function<void()> fn) {
  std::lock_guard lock(mu_);
  workers_.emplace_back(std::move(fn));
}

void fake_connector::start_reader(std::vector<std::byte> leftover) {
  reader_ = std::thread([this, l = std::move(leftover)]() mutable { reader_loop(std::move(l)); });
}

void fake_connector::reader_loop(std::vector<std::byte> leftover) {
  reader_id_ = std::this_thread::get_id();
  wire::frame_decoder dec(wire::frame_limits{}, opts_.advertise_zchunks);
  std::vector<std::byte> buf(256 * 1024);
  auto process = [&](std::span<const std::byte> in) -> bool {
    while (true) {
      auto step = dec.feed(in);
      in = in.subspan(step.consumed);
      switch (step.event) {
        case wire::frame_event::need_more:
          return true;
        case wire::frame_event::headers:
          on_headers(dec.headers());
          if (dec.chunk_complete()) {
            on_data({}, true);
          }
          break;
        case wire::frame_event::data:
          on_data(dec.data(), dec.chunk_complete());
          break;
        case wire::frame_event::corrupt_frame:
          break;
        case wire::frame_event::error:
          return false;
      }
    }
  };
  bool ok = process(leftover);
  while (ok && !stop_) {
    std::size_t n = 0;
    auto st = sock_.read_some(buf, n, milliseconds(100));
    if (st == read_status::timeout) {
      continue;
    }
    if (st != read_status::data) {
      break;
    }
    ok = process(std::span<const std::byte>(buf.data(), n));
  }
  closed_ = true;
  std::lock_guard lock(mu_);
  for (auto& s : order_) {
    std::lock_guard slock(s->mu_);
    s->cv_.notify_all();
  }
  cv_.notify_all();
}

void fake_connector::on_headers(const wire::chunk_headers& h) {
  cur_deliver_ = false;
  cur_sid_.reset();
  if (h.ping) {
    auto pong = wire::make_pong(*h.ping);
    (void)send_raw(pong.bytes());
    ++pongs_;
  }
  if (h.sid && h.skb) {
    if (auto s = stream(*h.sid)) {
      std::lock_guard lock(s->mu_);
      s->relay_skb_ = std::max(s->relay_skb_, *h.skb);
      s->cv_.notify_all();
    }
  }
  if (h.noop) {
    std::vector<std::pair<std::string, std::string>> fields;
    for (const auto& f : h.extra) {
      fields.emplace_back(std::string(f.name), std::string(f.value));
    }
    if (!fields.empty()) {
      std::lock_guard lock(mu_);
      controls_.push_back(std::move(fields));
      cv_.notify_all();
    }
    return;
  }
  if (!h.sid) {
    return;
  }
  auto s = stream(*h.sid);
  if (h.eof) {
    if (s) {
      {
        std::lock_guard lock(s->mu_);
        s->eof_ = s->eof_ ? static_cast<wire::eof_flags>(static_cast<unsigned>(*s->eof_) |
                                                         static_cast<unsigned>(*h.eof))
                          : *h.eof;
        s->cv_.notify_all();
      }
      auto it = handlers_.find(*h.sid);
      if (it != handlers_.end()) {
        it->second->on_eof(*s, *h.eof);
      }
    }
    return;
  }
  if (!s && !h.proto.empty() && !h.host.empty()) {
    s = std::make_shared<fake_stream>();
    s->owner_ = this;
    s->sid = *h.sid;
    s->proto = h.proto;
    s->host = h.host;
    s->port = h.port.value_or(0);
    s->rip = h.rip;
    s->rport = h.rport.value_or(0);
    s->rtls = h.rtls;
    {
      std::lock_guard lock(mu_);
      streams_[s->sid] = s;
      order_.push_back(s);
      cv_.notify_all();
    }
    auto handler = opts_.handler(*s);
    handler->on_open(*s);
    handlers_[s->sid] = std::move(handler);
  }
  if (s) {
    cur_sid_ = s->sid;
    cur_deliver_ = true;
  }
}

void fake_connector::on_data(std::span<const std::byte> data, bool complete) {
  if (!cur_deliver_ || !cur_sid_) {
    return;
  }
  auto s = stream(*cur_sid_);
  if (!s) {
    return;
  }
  std::uint64_t ack_kib = 0;
  if (!data.empty()) {
    std::lock_guard lock(s->mu_);
    constexpr std::size_t record_limit = 4 * 1024 * 1024;
    if (s->received_.size() < record_limit) {
      auto keep = std::min(data.size(), record_limit - s->received_.size());
      s->received_.insert(s->received_.end(), data.begin(),
                          data.begin() + static_cast<std::ptrdiff_t>(keep));
    }
    s->received_total_ += data.size();
    s->cv_.notify_all();
  }
  auto it = handlers_.find(s->sid);
  if (!data.empty() && it != handlers_.end()) {
    it->second->on_data(*s, data);
  }
  if (complete && opts_.send_skb) {
    std::lock_guard lock(s->mu_);
    if (s->received_total_ / 1024 > s->acked_kib_sent_) {
      s->acked_kib_sent_ = s->received_total_ / 1024;
      ack_kib = s->acked_kib_sent_;
    }
  }
  if (ack_kib > 0) {
    auto skb = wire::make_skb_ack(s->sid, ack_kib);
    (void)send_raw(skb.bytes());
  }
}

}  // namespace kiteline::test
