#include "hostile/hostile_support.hpp"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/text.hpp"
#include "support/connector_fixture.hpp"
#include "wire/kite_auth.hpp"

extern char** environ;

namespace kiteline::hostile {

namespace {

std::uint64_t status_field_kib(pid_t pid, std::string_view field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field, 0) == 0) {
      return std::strtoull(line.c_str() + field.size(), nullptr, 10);
    }
  }
  return 0;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    out.push_back(line);
  }
  return out;
}

std::string random_hex(std::size_t n) {
  std::string s;
  for (std::size_t i = 0; i < n; ++i) {
    s += hex_digit(static_cast<unsigned>(std::rand()));  // NOLINT: test salt, not a secret
  }
  return s;
}

}  // namespace

std::string kiteline_binary() {
  if (const char* b = std::getenv("KITELINE_HOSTILE_BINARY"); b != nullptr && *b != '\0') {
    return b;
  }
  return KITELINE_BINARY;
}

void report(std::string_view row, std::string_view what, const std::string& value) {
  std::printf("[hostile] %.*s: %.*s = %s\n", static_cast<int>(row.size()), row.data(),
              static_cast<int>(what.size()), what.data(), value.c_str());
  std::fflush(stdout);
}

std::string mib(std::uint64_t kib) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(kib) / 1024.0);
  return buf;
}

// ------------------------------------------------------------------------------------- process

process::process(std::vector<std::string> args) : log_(dir_.file("output.log")) {
  args.insert(args.begin(), {kiteline_binary(), "--clean"});
  // Its own home, so nothing of the user's leaks in.
  std::vector<std::string> env_store;
  std::vector<char*> envp;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::strncmp(*e, "HOME=", 5) != 0) {
      envp.push_back(*e);
    }
  }
  env_store.push_back("HOME=" + dir_.file(""));
  envp.push_back(env_store.back().data());
  envp.push_back(nullptr);
  pid_ = test::spawn_logged(std::move(args), log_, "/dev/null", envp.data());
}

process::~process() {
  if (pid_ <= 0) {
    return;
  }
  // SIGINT stops at once; SIGTERM would drain for up to --grace_seconds (30 s by default) while
  // a test's stalled streams are still open.
  ::kill(pid_, SIGINT);
  (void)test::reap_child(pid_, milliseconds(5000));
}

std::optional<int> process::wait_exit(milliseconds timeout) {
  if (pid_ <= 0) {
    return std::nullopt;
  }
  int status = 0;
  if (!test::wait_for([&] { return ::waitpid(pid_, &status, WNOHANG) == pid_; }, timeout,
                      "process exit")) {
    return std::nullopt;
  }
  pid_ = -1;  // reaped: the destructor has nothing left to stop
  return status;
}

bool process::alive() const {
  if (pid_ <= 0) {
    return false;
  }
  int st = 0;
  return ::waitpid(pid_, &st, WNOHANG) == 0;
}

std::string process::output() const { return read_file(log_); }

std::size_t process::count(std::string_view needle) const {
  std::size_t n = 0;
  for (const auto& l : lines_of(output())) {
    n += l.find(needle) != std::string::npos ? 1U : 0U;
  }
  return n;
}

testing::AssertionResult process::wait_output(std::initializer_list<std::string_view> parts,
                                              milliseconds timeout) {
  auto found = [&] {
    const auto ls = lines_of(output());
    return std::any_of(ls.begin(), ls.end(),
                       [&](const std::string& l) { return test::has_all(l, parts); });
  };
  if (test::wait_for(found, timeout, "process output")) {
    return testing::AssertionSuccess();
  }
  std::string what;
  for (const auto& p : parts) {
    what += "[" + std::string(p) + "] ";
  }
  return testing::AssertionFailure() << "no output line with " << what << "; tail:\n" << tail();
}

std::optional<std::string> process::line_after(std::string_view prefix) const {
  for (const auto& l : lines_of(output())) {
    if (l.rfind(prefix, 0) == 0) {
      return l.substr(prefix.size());
    }
  }
  return std::nullopt;
}

std::uint64_t process::rss_kib() const { return status_field_kib(pid_, "VmRSS:"); }
std::uint64_t process::peak_rss_kib() const { return status_field_kib(pid_, "VmHWM:"); }

std::size_t process::fd_count() const {
  std::size_t n = 0;
  if (DIR* d = ::opendir(("/proc/" + std::to_string(pid_) + "/fd").c_str())) {
    while (const dirent* e = ::readdir(d)) {
      n += e->d_name[0] != '.' ? 1U : 0U;
    }
    ::closedir(d);
  }
  return n;
}

std::string process::tail(std::size_t n) const {
  const auto ls = lines_of(output());
  std::string out;
  for (std::size_t i = ls.size() > n ? ls.size() - n : 0; i < ls.size(); ++i) {
    out += ls[i] + "\n";
  }
  return out;
}

// ---------------------------------------------------------------------------- relay/connector

relay_process::relay_process(const relay_setup& setup)
    : proc_([&] {
        std::vector<std::string> a{"--isfrontend",      "--host=" + setup.host,
                                   "--ports=" + std::to_string(setup.port),
                                   "--protos=http,https,raw",
                                   "--rawports=virtual", "--domain=http,https,raw:*.test:s3cret",
                                   "--logfile=stdio"};
        a.insert(a.end(), setup.extra.begin(), setup.extra.end());
        return a;
      }()) {
  if (proc_.wait_output({"kiteline relay ready ports="}, 20000ms)) {
    const auto rest = proc_.line_after("kiteline relay ready ports=");
    port_ = rest ? static_cast<std::uint16_t>(std::atoi(rest->c_str())) : 0;
  }
}

connector_process::connector_process(std::uint16_t relay_port, const std::string& kite,
                                     std::uint16_t origin_port, std::vector<std::string> extra)
    : proc_([&] {
        std::vector<std::string> a{"--frontend=127.0.0.1:" + std::to_string(relay_port),
                                   "--service_on=http:" + kite + ":127.0.0.1:" +
                                       std::to_string(origin_port) + ":s3cret",
                                   "--logfile=stdio"};
        a.insert(a.end(), extra.begin(), extra.end());
        return a;
      }()) {
  live_ = static_cast<bool>(proc_.wait_output({"kiteline connector: kite", "live"}, 20000ms));
}

void raise_fd_limit() {
  rlimit r{};
  if (::getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
    r.rlim_cur = std::min<rlim_t>(r.rlim_max, 65536);
    ::setrlimit(RLIMIT_NOFILE, &r);
  }
}

// ------------------------------------------------------------------------------------- sockets

namespace {
int connect_from(std::uint16_t port, const std::string& source_ip, int rcvbuf) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return -1;
  }
  if (rcvbuf > 0) {
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  }
  if (source_ip != "127.0.0.1") {
    sockaddr_in src{};
    src.sin_family = AF_INET;
    ::inet_pton(AF_INET, source_ip.c_str(), &src.sin_addr);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof src) != 0) {
      ::close(fd);
      return -1;
    }
  }
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}
}  // namespace

int connect_loopback(std::uint16_t port, int rcvbuf) { return connect_from(port, "127.0.0.1", rcvbuf); }

bool send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return false;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

std::string read_head(int fd, milliseconds timeout, std::string* rest) {
  std::string in;
  const auto deadline = test::clock::now() + timeout;
  while (in.find("\r\n\r\n") == std::string::npos && test::clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    const auto left =
        std::chrono::duration_cast<milliseconds>(deadline - test::clock::now()).count();
    if (::poll(&p, 1, static_cast<int>(std::max<long long>(left, 1))) <= 0) {
      continue;
    }
    char buf[4096];
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) {
      break;
    }
    in.append(buf, static_cast<std::size_t>(n));
  }
  const auto end = in.find("\r\n\r\n");
  if (end == std::string::npos) {
    return in;
  }
  if (rest != nullptr) {
    *rest = in.substr(end + 4);
  }
  return in.substr(0, end + 4);
}

flood_result flood(int fd, std::string_view unit, std::chrono::milliseconds duration,
                   std::uint64_t max_bytes, std::chrono::milliseconds stall) {
  flood_result r;
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  // Many units per send, so the flood is limited by the peer, not by system calls.
  std::string batch;
  while (batch.size() < 64 * 1024) {
    batch.append(unit);
  }
  std::size_t offset = 0;
  const auto end = test::clock::now() + duration;
  auto last_progress = test::clock::now();
  while (r.sent < max_bytes && test::clock::now() < end) {
    const std::size_t want =
        static_cast<std::size_t>(std::min<std::uint64_t>(batch.size() - offset, max_bytes - r.sent));
    const ssize_t n = ::send(fd, batch.data() + offset, want, MSG_NOSIGNAL);
    if (n > 0) {
      r.sent += static_cast<std::uint64_t>(n);
      offset = (offset + static_cast<std::size_t>(n)) % batch.size();
      offset -= offset % unit.size();  // restart at a unit boundary after a full batch
      last_progress = test::clock::now();
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
      if (test::clock::now() - last_progress >= stall) {
        r.stalled = true;
        break;
      }
      pollfd p{fd, POLLOUT, 0};
      ::poll(&p, 1, 50);
      continue;
    }
    r.reset = true;
    break;
  }
  return r;
}

std::string frame(std::string_view payload) {
  char len[32];
  std::snprintf(len, sizeof len, "%zx\r\n", payload.size());
  return std::string(len) + std::string(payload);
}

std::string zframe(std::string_view plain) {
  z_stream zs{};
  deflateInit(&zs, 9);
  std::string out(deflateBound(&zs, plain.size()) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(plain.data()));
  zs.avail_in = static_cast<uInt>(plain.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_SYNC_FLUSH);
  out.resize(out.size() - zs.avail_out);
  deflateEnd(&zs);
  char line[64];
  std::snprintf(line, sizeof line, "%zxZ%zxR\r\n", plain.size(), out.size());
  return std::string(line) + out;
}

// ---------------------------------------------------------------------------------- raw_tunnel

raw_tunnel::~raw_tunnel() { close(); }

void raw_tunnel::close() {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

bool raw_tunnel::round(std::uint16_t port, const std::vector<wire::kite_request>& kites,
                       bool zchunks, const std::string& version, const std::string& source_ip) {
  wire::handshake_request req;
  req.add_kites = true;
  req.zchunks = zchunks;
  req.versions = {version, version};
  req.kites = kites;
  return send_round(port, wire::format_handshake_request(req), source_ip);
}

bool raw_tunnel::replay(std::uint16_t port, const std::string& request) {
  return send_round(port, request, "127.0.0.1");
}

bool raw_tunnel::send_round(std::uint16_t port, const std::string& request,
                            const std::string& source_ip) {
  close();
  fd_ = connect_from(port, source_ip, 0);
  if (fd_ < 0) {
    return false;
  }
  request_ = request;
  if (!send_all(fd_, request)) {
    return false;
  }
  head_ = read_head(fd_, 10000ms);
  auto resp = wire::parse_handshake_response(head_);
  if (!resp) {
    return false;
  }
  response_ = *resp;
  return true;
}

bool raw_tunnel::connect_flow_b(std::uint16_t port, const std::string& domain, bool zchunks,
                                const std::string& source_ip) {
  const wire::kite_request k{"http", domain, random_hex(36), "", ""};
  return round(port, {k}, zchunks, "1.5.2.201011", source_ip) &&
         head_.find("X-PageKite-SignThis") != std::string::npos;
}

bool raw_tunnel::connect_flow_a(std::uint16_t port, const std::string& domain,
                                const std::string& secret, bool zchunks,
                                const std::string& version) {
  const std::string bsalt = random_hex(36);
  if (!round(port, {wire::kite_request{"http", domain, bsalt, "", ""}}, zchunks, version,
             "127.0.0.1")) {
    return false;
  }
  std::string token;
  for (const auto& r : response_.results) {
    if (r.status == wire::kite_status::sign_this) {
      token = r.fsalt;
    }
  }
  if (token.empty()) {
    return false;
  }
  const std::string sig =
      wire::make_kite_signature(secret, "http", domain, bsalt, token, random_hex(8).replace(0, 1, "a"));
  wire::kite_request signed_kite{"http", domain, bsalt, token, sig};
  // pagekite.py without AddKites closes round one; a new connection carries the signed kite.
  if (!round(port, {signed_kite}, zchunks, version, "127.0.0.1")) {
    return false;
  }
  return head_.find("X-PageKite-OK") != std::string::npos;
}

// ------------------------------------------------------------------------------- silent_origin

silent_origin::silent_origin() {
  // Non-blocking: the accept loop takes every pending connection and stops at EAGAIN.
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
  ::listen(fd_, 4096);
  socklen_t len = sizeof a;
  ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
  port_ = ntohs(a.sin_port);
  if (::pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0) {
    wake_[0] = wake_[1] = -1;
  }
  thread_ = std::thread([this] { loop(); });
}

silent_origin::~silent_origin() {
  stop_ = true;
  if (wake_[1] >= 0) {
    (void)::write(wake_[1], "x", 1);
  }
  thread_.join();
  ::close(fd_);
  ::close(wake_[0]);
  ::close(wake_[1]);
}

void silent_origin::loop() {
  std::vector<int> reading;  // polled: what arrives is read and dropped
  std::vector<int> parked;   // the peer shut its write side: kept open, never answered
  while (!stop_) {
    std::vector<pollfd> ps{{fd_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
    for (int c : reading) {
      ps.push_back({c, POLLIN, 0});
    }
    if (::poll(ps.data(), ps.size(), 1000) <= 0) {
      continue;
    }
    std::vector<int> still;
    for (std::size_t i = 2; i < ps.size(); ++i) {
      const int c = ps[i].fd;
      if ((ps[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) {
        still.push_back(c);
        continue;
      }
      char buf[4096];
      const ssize_t n = ::recv(c, buf, sizeof buf, 0);
      if (n > 0 || (n < 0 && errno == EAGAIN)) {
        still.push_back(c);
      } else if (n == 0) {
        parked.push_back(c);  // FIN: an origin that never answers keeps it anyway
      } else {
        ::close(c);
      }
    }
    reading = std::move(still);
    if ((ps[0].revents & POLLIN) != 0) {
      for (int k = 0; k < 256; ++k) {
        const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (c < 0) {
          break;
        }
        reading.push_back(c);
        ++accepted_;
      }
    }
    open_ = reading.size() + parked.size();
  }
  for (int c : reading) {
    ::close(c);
  }
  for (int c : parked) {
    ::close(c);
  }
}

// -------------------------------------------------------------------------------------- prober

prober::prober(std::uint16_t relay_port, std::string host, std::size_t bytes, milliseconds each)
    : port_(relay_port),
      host_(std::move(host)),
      bytes_(bytes),
      each_(each),
      expect_(test::pattern(7).sha256_of(bytes)) {
  thread_ = std::thread([this] { loop(); });
}

prober::~prober() { stop(); }

void prober::stop() {
  stop_ = true;
  if (thread_.joinable()) {
    thread_.join();
  }
}

void prober::loop() {
  while (!stop_) {
    const auto t0 = test::clock::now();
    const auto r = test::visit(port_, test::get_request(host_, bytes_), {}, each_);
    const auto took = static_cast<std::uint64_t>(
        std::chrono::duration_cast<milliseconds>(test::clock::now() - t0).count());
    slowest_ms_ = std::max(slowest_ms_.load(), took);
    if (r.status == 200 && r.body.size() == bytes_ && test::sha256_hex(r.body) == expect_) {
      ++ok_;
    } else {
      if (failed_++ == 0) {
        std::lock_guard lock(mu_);
        first_failure_ = "after " + std::to_string(took) + " ms: status " +
                         std::to_string(r.status) + ", " +
                         std::to_string(r.body.size()) + " of " + std::to_string(bytes_) +
                         " bytes; head: " + r.head.substr(0, 200);
      }
    }
  }
}

std::string prober::first_failure() const {
  std::lock_guard lock(mu_);
  return first_failure_;
}

testing::AssertionResult prober::wait_successes(std::uint64_t n, milliseconds timeout) {
  const std::uint64_t target = ok_.load() + n;
  return test::wait_for([&] { return ok_.load() >= target; }, timeout, "probe successes");
}

}  // namespace kiteline::hostile
