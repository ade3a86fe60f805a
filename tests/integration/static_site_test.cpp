// Integration tests for connector::static_site (the folder web server): real sockets on 127.0.0.1.
#include "connector/static_site.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <spdlog/sinks/base_sink.h>

#include <array>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "core/text.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

namespace kiteline::connector {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

/// Collects log lines for assertions (thread-safe: the site logs from its own thread).
class capture_sink : public spdlog::sinks::base_sink<std::mutex> {
 public:
  std::vector<std::string> lines() {
    std::lock_guard<std::mutex> lock(this->mutex_);
    return lines_;
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& m) override {
    lines_.emplace_back(m.payload.data(), m.payload.size());
  }
  void flush_() override {}

 private:
  std::vector<std::string> lines_;
};

using test::wait_for;
using test::write_file;

/// A blocking loopback client socket with a 10 s receive timeout (every wait is bounded).
class client {
 public:
  explicit client(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    timeval tv{10, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0;
  }
  client(const client&) = delete;
  client& operator=(const client&) = delete;
  ~client() { ::close(fd_); }

  [[nodiscard]] bool connected() const { return connected_; }

  bool send(std::string_view s) {
    while (!s.empty()) {
      const ssize_t n = ::send(fd_, s.data(), s.size(), MSG_NOSIGNAL);
      if (n <= 0) {
        return false;
      }
      s.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  /// Reads more bytes into buf_; false on EOF, error or timeout.
  bool fill() {
    std::array<char, 65536> tmp{};
    const ssize_t n = ::recv(fd_, tmp.data(), tmp.size(), 0);
    if (n <= 0) {
      return false;
    }
    buf_.append(tmp.data(), static_cast<std::size_t>(n));
    return true;
  }

  /// True when the server closed the connection (EOF) within the receive timeout.
  bool closed_by_server() {
    while (true) {
      std::array<char, 4096> tmp{};
      const ssize_t n = ::recv(fd_, tmp.data(), tmp.size(), 0);
      if (n == 0) {
        return true;
      }
      if (n < 0) {
        return errno == ECONNRESET;
      }
    }
  }

  std::string buf_;
  int fd_ = -1;

 private:
  bool connected_ = false;
};

struct http_response {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string digest;  // SHA-256 hex of the body when hashed instead of kept
  std::uint64_t body_length = 0;

  [[nodiscard]] std::string header(const std::string& name) const {
    const auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

/// Reads one response (Content-Length framed; HEAD/304 without a body). `hash`: keep only a
/// SHA-256 of the body instead of the bytes.
std::optional<http_response> read_response(client& c, bool head_request, bool hash = false) {
  std::size_t end = std::string::npos;
  while ((end = c.buf_.find("\r\n\r\n")) == std::string::npos) {
    if (!c.fill()) {
      return std::nullopt;
    }
  }
  http_response r;
  const std::string head = c.buf_.substr(0, end + 2);
  c.buf_.erase(0, end + 4);
  std::size_t pos = head.find("\r\n");
  const std::string status_line = head.substr(0, pos);
  if (!status_line.starts_with("HTTP/1.1 ") || status_line.size() < 12) {
    return std::nullopt;
  }
  r.status = std::stoi(status_line.substr(9, 3));
  pos += 2;
  while (pos < head.size()) {
    const std::size_t e = head.find("\r\n", pos);
    const std::string line = head.substr(pos, e - pos);
    pos = e + 2;
    const std::size_t colon = line.find(':');
    const std::string name = to_lower(line.substr(0, colon));
    r.headers[name] = line.substr(colon + 2);
  }
  if (head_request || r.status == 304) {
    return r;
  }
  const std::uint64_t length = std::stoull(r.header("content-length"));
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  EVP_DigestInit_ex(md, EVP_sha256(), nullptr);
  std::uint64_t got = 0;
  while (got < length) {
    if (c.buf_.empty() && !c.fill()) {
      EVP_MD_CTX_free(md);
      return std::nullopt;
    }
    const std::size_t take =
        static_cast<std::size_t>(std::min<std::uint64_t>(length - got, c.buf_.size()));
    if (hash) {
      EVP_DigestUpdate(md, c.buf_.data(), take);
    } else {
      r.body.append(c.buf_, 0, take);
    }
    c.buf_.erase(0, take);
    got += take;
  }
  std::array<unsigned char, EVP_MAX_MD_SIZE> d{};
  unsigned dn = 0;
  EVP_DigestFinal_ex(md, d.data(), &dn);
  EVP_MD_CTX_free(md);
  r.digest = to_hex(std::span<const std::uint8_t>(d.data(), dn));
  r.body_length = got;
  return r;
}

class static_site_test : public testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(dir_.ok());
    base_ = dir_.path();
    root_ = base_ / "root";
    fs::create_directories(root_ / "sub");
    fs::create_directories(root_ / "docs" / "zdir");
    fs::create_directories(root_ / "docs" / "adir");
    fs::create_directories(root_ / "evil.example");
    write_file(base_ / "outside_secret.txt", "TOP SECRET\n");
    write_file(root_ / "readme.txt", "hello world\n");
    write_file(root_ / "empty.txt", "");
    write_file(root_ / "sub" / "index.html", "SUB INDEX");
    write_file(root_ / "docs" / "b.txt", "b");
    write_file(root_ / "docs" / "a.txt", "a");
    write_file(root_ / "<script>&\"x\".txt", "escaped");
    write_file(root_ / "100% sure?.txt", "percent");
    fs::create_symlink("readme.txt", root_ / "inside-link");
    fs::create_symlink("../outside_secret.txt", root_ / "outside-link");
    fs::create_symlink("..", root_ / "outside-dir");
    fs::create_symlink("docs", root_ / "docs-link");
    start({});
  }

  void start(static_site_options opts) {
    sink_ = std::make_shared<capture_sink>();
    auto log = std::make_shared<spdlog::logger>("static_site_test", sink_);
    log->set_level(spdlog::level::debug);
    auto site = static_site::start(ctx_.get_executor(), root_, log, opts);
    ASSERT_TRUE(site) << site.error().message();
    site_ = *site;
    ASSERT_NE(site_->port(), 0);
    thread_ = std::thread([this] { ctx_.run(); });
  }

  void TearDown() override {
    if (site_) {
      site_->stop();
    }
    work_.reset();
    if (thread_.joinable()) {
      // stop() closes everything, so run() returns; ctx_.stop() is the bounded fallback.
      const bool done = wait_for([this] { return ctx_.stopped(); }, 5000ms, "io_context to end");
      EXPECT_TRUE(done);
      ctx_.stop();
      thread_.join();
    }
    site_.reset();
  }

  http_response get(const std::string& raw, bool head_request = false) {
    client c(site_->port());
    EXPECT_TRUE(c.connected());
    EXPECT_TRUE(c.send(raw));
    std::optional<http_response> r = read_response(c, head_request);
    EXPECT_TRUE(r.has_value()) << raw;
    return r.value_or(http_response{});
  }

  http_response get_path(const std::string& path, const std::string& extra = "") {
    return get("GET " + path + " HTTP/1.1\r\nHost: k\r\n" + extra + "\r\n");
  }

  asio::io_context ctx_;
  asio::executor_work_guard<asio::io_context::executor_type> work_ =
      asio::make_work_guard(ctx_);
  std::thread thread_;
  std::shared_ptr<capture_sink> sink_;
  std::shared_ptr<static_site> site_;
  test::temp_dir dir_{"static"};
  fs::path base_;
  fs::path root_;
};

TEST_F(static_site_test, content_types_lengths_and_last_modified) {
  const std::vector<std::pair<std::string, std::string>> files = {
      {"a.html", "text/html; charset=utf-8"},        {"b.HTM", "text/html; charset=utf-8"},
      {"s.css", "text/css; charset=utf-8"},          {"app.js", "text/javascript; charset=utf-8"},
      {"d.json", "application/json"},                {"t.txt", "text/plain; charset=utf-8"},
      {"i.png", "image/png"},                        {"P.JPG", "image/jpeg"},
      {"x.jpeg", "image/jpeg"},                      {"g.gif", "image/gif"},
      {"v.svg", "image/svg+xml"},                    {"favicon.ico", "image/x-icon"},
      {"doc.pdf", "application/pdf"},                {"m.wasm", "application/wasm"},
      {"v.mp4", "video/mp4"},                        {"v.webm", "video/webm"},
      {"f.xml", "application/xml"},                  {"a.zip", "application/zip"},
      {"a.tar", "application/x-tar"},                {"a.tar.gz", "application/gzip"},
      {"blob.bin", "application/octet-stream"},      {"noext", "application/octet-stream"},
  };
  for (const auto& [name, type] : files) {
    write_file(root_ / name, "content of " + name);
  }
  const std::regex http_date(R"(^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT$)");
  for (const auto& [name, type] : files) {
    const http_response r = get_path("/" + name);
    EXPECT_EQ(r.status, 200) << name;
    EXPECT_EQ(r.header("content-type"), type) << name;
    EXPECT_EQ(r.body, "content of " + name);
    EXPECT_EQ(r.header("content-length"), std::to_string(r.body.size()));
    EXPECT_TRUE(std::regex_match(r.header("last-modified"), http_date)) << r.header("last-modified");
    EXPECT_EQ(r.header("accept-ranges"), "bytes");
  }
  // One debug log line per request.
  EXPECT_TRUE(wait_for(
      [this] {
        std::size_t n = 0;
        for (const std::string& l : sink_->lines()) {
          n += l.find("\"GET /") != std::string::npos ? 1u : 0u;
        }
        return n == 22;
      },
      5000ms, "22 request log lines"));
  bool found = false;
  for (const std::string& l : sink_->lines()) {
    found = found || l == "static_site 127.0.0.1 \"GET /t.txt\" 200 16";
  }
  EXPECT_TRUE(found);
}

TEST_F(static_site_test, directory_listing_sorted_dirs_first) {
  const http_response r = get_path("/docs/");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type"), "text/html; charset=utf-8");
  const std::vector<std::string> order = {
      "<a href=\"../\">../</a>", "<a href=\"./adir/\">adir/</a>", "<a href=\"./zdir/\">zdir/</a>",
      "<a href=\"./a.txt\">a.txt</a>", "<a href=\"./b.txt\">b.txt</a>"};
  std::size_t last = 0;
  for (const std::string& s : order) {
    const std::size_t at = r.body.find(s);
    ASSERT_NE(at, std::string::npos) << s << "\n" << r.body;
    EXPECT_GE(at, last) << s;
    last = at;
  }
  EXPECT_NE(r.body.find("<title>Index of /docs/</title>"), std::string::npos);
  // The root listing has no parent link, and a symlink to a directory is listed as one.
  const http_response root = get_path("/");
  EXPECT_EQ(root.body.find("href=\"../\""), std::string::npos);
  EXPECT_NE(root.body.find("<a href=\"./docs-link/\">docs-link/</a>"), std::string::npos);
  // A symlinked directory inside the folder is served.
  EXPECT_EQ(get_path("/docs-link/a.txt").body, "a");
}

TEST_F(static_site_test, listing_escapes_names_and_encodes_links) {
  const http_response r = get_path("/");
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("<a href=\"./%3Cscript%3E%26%22x%22.txt\">&lt;script&gt;&amp;&quot;x&quot;"
                        ".txt</a>"),
            std::string::npos)
      << r.body;
  EXPECT_EQ(r.body.find("<script>"), std::string::npos);
  EXPECT_NE(r.body.find("<a href=\"./100%25%20sure%3F.txt\">100% sure?.txt</a>"),
            std::string::npos);
  // The encoded links lead to the files.
  EXPECT_EQ(get_path("/%3Cscript%3E%26%22x%22.txt").body, "escaped");
  EXPECT_EQ(get_path("/100%25%20sure%3F.txt").body, "percent");
}

TEST_F(static_site_test, index_html_and_redirect_to_slash) {
  const http_response idx = get_path("/sub/");
  EXPECT_EQ(idx.status, 200);
  EXPECT_EQ(idx.body, "SUB INDEX");
  EXPECT_EQ(idx.header("content-type"), "text/html; charset=utf-8");

  const http_response r = get_path("/sub");
  EXPECT_EQ(r.status, 301);
  EXPECT_EQ(r.header("location"), "/sub/");
  EXPECT_EQ(get_path("/docs?x=1&y").header("location"), "/docs/?x=1&y");
  // Never a protocol-relative (off-site) Location.
  const http_response evil = get_path("//evil.example");
  EXPECT_EQ(evil.status, 301);
  EXPECT_EQ(evil.header("location"), "/evil.example/");
}

TEST_F(static_site_test, single_ranges_and_416) {
  struct range_case {
    std::string range;
    int status;
    std::string body;
    std::string content_range;
  };
  const std::vector<range_case> cases = {
      {"bytes=0-4", 206, "hello", "bytes 0-4/12"},
      {"bytes=6-", 206, "world\n", "bytes 6-11/12"},
      {"bytes=-3", 206, "ld\n", "bytes 9-11/12"},
      {"bytes=-100", 206, "hello world\n", "bytes 0-11/12"},
      {"bytes=5-100", 206, " world\n", "bytes 5-11/12"},
      {"bytes=11-11", 206, "\n", "bytes 11-11/12"},
      {"bytes=12-", 416, "", "bytes */12"},
      {"bytes=12-20", 416, "", "bytes */12"},
      {"bytes=-0", 416, "", "bytes */12"},
      {"bytes=0-1,3-4", 200, "hello world\n", ""},  // several ranges: ignored
      {"bytes=abc", 200, "hello world\n", ""},      // malformed: ignored
      {"bytes=5-2", 200, "hello world\n", ""},      // invalid: ignored
      {"items=0-1", 200, "hello world\n", ""},      // other unit: ignored
  };
  for (const range_case& c : cases) {
    const http_response r = get_path("/readme.txt", "Range: " + c.range + "\r\n");
    EXPECT_EQ(r.status, c.status) << c.range;
    if (c.status != 416) {
      EXPECT_EQ(r.body, c.body) << c.range;
    } else {
      EXPECT_NE(r.body.find("416 Range Not Satisfiable"), std::string::npos);
    }
    EXPECT_EQ(r.header("content-range"), c.content_range) << c.range;
  }
  EXPECT_EQ(get_path("/empty.txt", "Range: bytes=0-\r\n").status, 416);
  EXPECT_EQ(get_path("/empty.txt", "Range: bytes=-1\r\n").header("content-range"), "bytes */0");
  // If-Range that does not match the validator: the whole file.
  EXPECT_EQ(get_path("/readme.txt", "Range: bytes=0-4\r\nIf-Range: \"etag\"\r\n").status, 200);
}

TEST_F(static_site_test, head_has_headers_but_no_body_and_304) {
  client c(site_->port());
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.send("HEAD /readme.txt HTTP/1.1\r\nHost: k\r\n\r\n"));
  const auto h = read_response(c, true);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
  EXPECT_EQ(h->header("content-length"), "12");
  EXPECT_EQ(h->header("content-type"), "text/plain; charset=utf-8");
  // No body bytes followed: the next response on the connection parses cleanly.
  ASSERT_TRUE(c.send("GET /readme.txt HTTP/1.1\r\nIf-Modified-Since: " +
                     h->header("last-modified") + "\r\n\r\n"));
  const auto nm = read_response(c, false);
  ASSERT_TRUE(nm);
  EXPECT_EQ(nm->status, 304);
  EXPECT_TRUE(c.buf_.empty());
  ASSERT_TRUE(c.send("HEAD /nope HTTP/1.1\r\n\r\nGET /readme.txt HTTP/1.1\r\n\r\n"));
  const auto missing = read_response(c, true);
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  const auto g = read_response(c, false);
  ASSERT_TRUE(g);
  EXPECT_EQ(g->body, "hello world\n");
}

TEST_F(static_site_test, not_found_and_method_not_allowed) {
  const http_response nf = get_path("/nope.txt");
  EXPECT_EQ(nf.status, 404);
  EXPECT_EQ(nf.header("content-type"), "text/html; charset=utf-8");
  EXPECT_NE(nf.body.find("<h1>404 Not Found</h1>"), std::string::npos);
  EXPECT_EQ(get_path("/readme.txt/").status, 404);
  for (const std::string m : {"POST", "PUT", "DELETE", "OPTIONS", "PATCH"}) {
    const http_response r = get(m + " /readme.txt HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
    EXPECT_EQ(r.status, 405) << m;
    EXPECT_EQ(r.header("allow"), "GET, HEAD") << m;
  }
}

TEST_F(static_site_test, traversal_attempts_never_leave_the_folder) {
  const std::vector<std::pair<std::string, int>> cases = {
      {"/../outside_secret.txt", 400},
      {"/%2e%2e/outside_secret.txt", 400},
      {"/%2E%2E/outside_secret.txt", 400},
      {"/..%2foutside_secret.txt", 400},
      {"/docs/..%2F..%2Foutside_secret.txt", 400},
      {"/%5c..%5coutside_secret.txt", 400},
      {"/..\\outside_secret.txt", 400},
      {"/docs/../../outside_secret.txt", 400},
      {"/readme.txt%00.html", 400},
      {"/%", 400},
      {"/%zz", 400},
      {"etc/passwd", 400},
      {"*", 400},
      {"http://k/../outside_secret.txt", 400},
      {"/etc/passwd", 404},
      {"//etc/passwd", 404},
      {(base_ / "outside_secret.txt").string(), 404},  // an absolute file-system path
      {"/outside-link", 404},                          // symlink to a file outside
      {"/outside-dir/", 404},                          // symlink to a directory outside
      {"/outside-dir/outside_secret.txt", 404},
  };
  for (const auto& [target, status] : cases) {
    const http_response r = get("GET " + target + " HTTP/1.1\r\nHost: k\r\n\r\n");
    EXPECT_EQ(r.status, status) << target;
    EXPECT_EQ(r.body.find("TOP SECRET"), std::string::npos) << target;
  }
  const http_response inside = get_path("/inside-link");
  EXPECT_EQ(inside.status, 200);
  EXPECT_EQ(inside.body, "hello world\n");
  EXPECT_EQ(get_path("/./docs/./a.txt").body, "a");
  // A path that goes out through a symlink and back in resolves inside the folder: allowed.
  EXPECT_EQ(get_path("/outside-dir/root/readme.txt").body, "hello world\n");
  EXPECT_EQ(get_path("http://k/docs/a.txt").body, "a");  // absolute-form
}

TEST_F(static_site_test, large_file_sha256) {
  constexpr std::size_t size = 64u << 20;
  // 64 pseudo-random 1 MiB blocks, each stamped with its index so no two are equal.
  std::string block(1u << 20, '\0');
  std::uint64_t x = 0x9e3779b97f4a7c15ull;
  for (std::size_t i = 0; i < block.size(); i += 8) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    std::memcpy(&block[i], &x, 8);
  }
  std::string data;
  data.reserve(size);
  for (std::size_t b = 0; b < 64; ++b) {
    std::memcpy(block.data(), &b, sizeof b);
    data += block;
  }
  write_file(root_ / "big.bin", data);
  std::array<unsigned char, EVP_MAX_MD_SIZE> d{};
  unsigned dn = 0;
  EVP_Digest(data.data(), data.size(), d.data(), &dn, EVP_sha256(), nullptr);
  const std::string expected = to_hex(std::span<const std::uint8_t>(d.data(), dn));
  data = std::string();

  client c(site_->port());
  ASSERT_TRUE(c.connected());
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(c.send("GET /big.bin HTTP/1.1\r\nHost: k\r\n\r\n"));
  const auto r = read_response(c, false, true);
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
          .count();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body_length, size);
  EXPECT_EQ(r->digest, expected);
  std::printf("64 MiB download: %lld ms (%.0f MiB/s)\n", static_cast<long long>(ms),
              64.0 * 1000.0 / static_cast<double>(ms > 0 ? ms : 1));
  // A range from the middle of the big file.
  ASSERT_TRUE(c.send("GET /big.bin HTTP/1.1\r\nRange: bytes=1000000-1000015\r\n\r\n"));
  const auto part = read_response(c, false);
  ASSERT_TRUE(part);
  EXPECT_EQ(part->status, 206);
  std::ifstream f(root_ / "big.bin", std::ios::binary);
  f.seekg(1000000);
  std::string expected_part(16, '\0');
  f.read(expected_part.data(), 16);
  EXPECT_EQ(part->body, expected_part);
}

TEST_F(static_site_test, keep_alive_and_pipelining) {
  client c(site_->port());
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.send("GET /readme.txt HTTP/1.1\r\nHost: k\r\n\r\n"));
  const auto a = read_response(c, false);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->body, "hello world\n");
  EXPECT_EQ(a->header("connection"), "");
  ASSERT_TRUE(c.send("GET /docs/a.txt HTTP/1.1\r\nHost: k\r\n\r\n"));
  const auto b = read_response(c, false);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->body, "a");
  // Two pipelined requests in one write; the last asks to close.
  ASSERT_TRUE(c.send("GET /docs/b.txt HTTP/1.1\r\n\r\nGET /sub/ HTTP/1.1\r\nConnection: close\r\n\r\n"));
  const auto p1 = read_response(c, false);
  const auto p2 = read_response(c, false);
  ASSERT_TRUE(p1 && p2);
  EXPECT_EQ(p1->body, "b");
  EXPECT_EQ(p2->body, "SUB INDEX");
  EXPECT_EQ(p2->header("connection"), "close");
  EXPECT_TRUE(c.closed_by_server());

  // HTTP/1.0 closes unless keep-alive is asked for.
  client old(site_->port());
  ASSERT_TRUE(old.send("GET /docs/a.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  const auto k = read_response(old, false);
  ASSERT_TRUE(k);
  EXPECT_EQ(k->header("connection"), "keep-alive");
  ASSERT_TRUE(old.send("GET /docs/a.txt HTTP/1.0\r\n\r\n"));
  const auto k2 = read_response(old, false);
  ASSERT_TRUE(k2);
  EXPECT_EQ(k2->header("connection"), "close");
  EXPECT_TRUE(old.closed_by_server());
}

TEST_F(static_site_test, head_limits_and_bad_requests_close) {
  {
    client c(site_->port());
    ASSERT_TRUE(c.send("GET / HTTP/1.1\r\nX-Big: " + std::string(17 * 1024, 'a') + "\r\n\r\n"));
    const auto r = read_response(c, false);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 431);
    EXPECT_TRUE(c.closed_by_server());
  }
  {
    std::string many = "GET / HTTP/1.1\r\n";
    for (int i = 0; i < 101; ++i) {
      many += "X-H" + std::to_string(i) + ": v\r\n";
    }
    client c(site_->port());
    ASSERT_TRUE(c.send(many + "\r\n"));
    const auto r = read_response(c, false);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 431);
    EXPECT_TRUE(c.closed_by_server());
  }
  for (const std::string bad : {"GET /\r\n\r\n", "GET / HTTP/2.0\r\n\r\n", "GET / HTTP/1.1\r\nNo colon\r\n\r\n"}) {
    client c(site_->port());
    ASSERT_TRUE(c.send(bad));
    const auto r = read_response(c, false);
    ASSERT_TRUE(r) << bad;
    EXPECT_EQ(r->status, 400) << bad;
    EXPECT_TRUE(c.closed_by_server()) << bad;
  }
}

TEST_F(static_site_test, stop_closes_listener_and_connections) {
  client idle(site_->port());
  ASSERT_TRUE(idle.connected());
  ASSERT_TRUE(idle.send("GET /readme.txt HTTP/1.1\r\n\r\n"));
  ASSERT_TRUE(read_response(idle, false));
  site_->stop();
  EXPECT_TRUE(idle.closed_by_server());
  EXPECT_TRUE(wait_for([this] { return !client(site_->port()).connected(); }, 5000ms,
                       "the listener to close"));
}

TEST(static_site_start, refuses_missing_folder_and_files) {
  asio::io_context ctx;
  auto missing = static_site::start(ctx.get_executor(), "/nonexistent/kiteline/folder", nullptr);
  ASSERT_FALSE(missing);
  std::string error = missing.error().message();
  EXPECT_NE(error.find("cannot share folder /nonexistent/kiteline/folder"), std::string::npos)
      << error;
  EXPECT_EQ(missing.error(), connector::errc::bad_folder);
  auto file = static_site::start(ctx.get_executor(), "/etc/hostname", nullptr);
  ASSERT_FALSE(file);
  error = file.error().message();
  EXPECT_NE(error.find("not a directory"), std::string::npos) << error;
}

TEST(static_site_timeout, idle_connection_is_closed_after_the_read_timeout) {
  test::temp_dir dir("static");
  ASSERT_TRUE(dir.ok());
  const std::string tmpl = dir.path().string();
  asio::io_context ctx;
  static_site_options opts;
  opts.read_timeout = 300ms;
  auto sink = std::make_shared<capture_sink>();
  auto log = std::make_shared<spdlog::logger>("static_site_test", sink);
  log->set_level(spdlog::level::debug);
  auto started = static_site::start(ctx.get_executor(), tmpl, log, opts);
  ASSERT_TRUE(started) << started.error().message();
  auto site = *started;
  std::thread t([&ctx] { ctx.run(); });
  auto timed_out = [&sink] {
    for (const std::string& l : sink->lines()) {
      if (l.find("read timeout") != std::string::npos) {
        return true;
      }
    }
    return false;
  };
  {
    client c(site->port());
    ASSERT_TRUE(c.connected());
    EXPECT_TRUE(c.closed_by_server());
    // Closed by the read timeout's timer (it logs before closing), not for another reason.
    EXPECT_TRUE(timed_out());
  }
  site->stop();
  EXPECT_TRUE(wait_for([&ctx] { return ctx.stopped(); }, 5000ms, "io_context to end"));
  ctx.stop();
  t.join();
}

}  // namespace
}  // namespace kiteline::connector
