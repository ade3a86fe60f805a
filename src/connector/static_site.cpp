// pagekite.py's built-in web server: a read-only HTTP/1.1 server for one folder (see .hpp).
#include "connector/static_site.hpp"

#include "connector/static_site_http.hpp"
#include "core/text.hpp"
#include "http/head.hpp"
#include "net/spawn.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <ctime>
#include <optional>
#include <utility>
#include <variant>
#include <vector>

namespace kiteline::connector {
namespace {

using namespace site_http;  // NOLINT(google-build-using-namespace): the folder server's own pieces
using kiteline::html_escape;

namespace fs = std::filesystem;
using net::tcp;
using net::use_tuple;

constexpr std::size_t file_piece = 64 * 1024;
constexpr std::size_t read_piece = 4096;

}  // namespace

// ---------------------------------------------------------------------------------------------

/// Per-request work that touches the filesystem (blocking, on the site's executor).
struct static_site::connection {
  static response handle(const static_site& site, const request& req) {
    const bool head = req.method == "HEAD";
    if (req.method != "GET" && !head) {
      response r = error_response(405);
      r.headers += "Allow: GET, HEAD\r\n";
      return r;
    }
    const target_path t = decode_target(req.target);
    if (t.k != target_path::kind::ok) {
      return error_response(400);
    }
    fs::path p = site.root_;
    for (const std::string& s : t.segments) {
      p /= s;
    }
    std::error_code ec;
    const fs::path canon = fs::weakly_canonical(p, ec);
    if (ec || !inside(site.root_, canon)) {
      return error_response(404);
    }
    const fs::file_status st = fs::status(canon, ec);
    if (ec || !fs::exists(st)) {
      return error_response(404);
    }
    if (fs::is_directory(st)) {
      std::string url = "/";
      for (const std::string& s : t.segments) {
        url += url_encode(s) + "/";
      }
      if (!t.trailing_slash && !t.segments.empty()) {
        response r = error_response(301);
        r.headers += "Location: " + url + t.query + "\r\n";
        return r;
      }
      const fs::path index = fs::weakly_canonical(canon / "index.html", ec);
      if (!ec && inside(site.root_, index) && fs::is_regular_file(index, ec)) {
        return serve_file(req, index, head);
      }
      return listing(site, canon, t.segments);
    }
    if (t.trailing_slash) {
      return error_response(404);  // "/file.txt/"
    }
    return serve_file(req, canon, head);
  }

  static response serve_file(const request& req, const fs::path& path, bool head) {
    // O_NONBLOCK: opening a FIFO must not block (it is refused below anyway).
    file_handle f(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
    if (!f.valid()) {
      return error_response(errno == EACCES ? 403 : 404);
    }
    struct stat sb {};
    if (::fstat(f.get(), &sb) != 0 || !S_ISREG(sb.st_mode)) {
      return error_response(404);
    }
    const auto size = static_cast<std::uint64_t>(sb.st_size);
    const std::string modified = http_date(sb.st_mtim.tv_sec);
    response r;
    r.headers = "Content-Type: " + std::string(content_type(path)) +
                "\r\nLast-Modified: " + modified + "\r\nAccept-Ranges: bytes\r\n";
    const std::string* ims = req.header("If-Modified-Since");
    if (ims != nullptr && *ims == modified) {
      r.status = 304;
      r.headers = "Last-Modified: " + modified + "\r\n";
      r.no_content_length = true;
      return r;
    }
    byte_range range;
    const std::string* rh = req.header("Range");
    const std::string* if_range = req.header("If-Range");
    if (rh != nullptr && (if_range == nullptr || *if_range == modified)) {
      range = parse_range(*rh, size);
    }
    r.offset = 0;
    r.length = size;
    r.file_body = true;
    if (range.k == byte_range::kind::unsatisfiable) {
      response e = error_response(416);
      e.headers += "Content-Range: bytes */" + std::to_string(size) + "\r\n";
      return e;
    }
    if (range.k == byte_range::kind::range) {
      r.status = 206;
      r.offset = range.first;
      r.length = range.length;
      r.headers += "Content-Range: bytes " + std::to_string(range.first) + "-" +
                   std::to_string(range.first + range.length - 1) + "/" + std::to_string(size) +
                   "\r\n";
    }
    if (!head) {
      r.file = std::move(f);
      r.has_file = true;
    }
    return r;
  }

  static response listing(const static_site& site, const fs::path& dir,
                          const std::vector<std::string>& segments) {
    struct entry {
      std::string name;
      bool is_dir;
    };
    std::vector<entry> entries;
    bool truncated = false;
    std::error_code ec;
    fs::directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec);
    if (ec) {
      return error_response(403);
    }
    for (; it != fs::directory_iterator(); it.increment(ec)) {
      if (ec) {
        break;
      }
      if (entries.size() >= site.opts_.max_listing) {
        truncated = true;
        break;
      }
      std::error_code dec;
      entries.push_back({it->path().filename().string(), it->is_directory(dec)});
    }
    std::sort(entries.begin(), entries.end(), [](const entry& a, const entry& b) {
      if (a.is_dir != b.is_dir) {
        return a.is_dir;
      }
      return a.name < b.name;
    });
    std::string shown = "/";
    for (const std::string& s : segments) {
      shown += s + "/";
    }
    const std::string title = "Index of " + html_escape(shown);
    response r;
    r.headers = "Content-Type: text/html; charset=utf-8\r\n";
    r.body = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" + title +
             "</title></head>\n<body><h1>" + title + "</h1>\n<ul>\n";
    if (!segments.empty()) {
      r.body += "<li><a href=\"../\">../</a></li>\n";
    }
    for (const entry& e : entries) {
      const std::string slash = e.is_dir ? "/" : "";
      r.body += "<li><a href=\"./" + url_encode(e.name) + slash + "\">" + html_escape(e.name) +
                slash + "</a></li>\n";
    }
    r.body += "</ul>\n";
    if (truncated) {
      r.body += "<p>(listing truncated)</p>\n";
    }
    r.body += "</body></html>\n";
    return r;
  }
};

outcome<std::shared_ptr<static_site>> static_site::start(const asio::any_io_executor& ex,
                                                         fs::path root,
                                                         std::shared_ptr<spdlog::logger> log,
                                                         static_site_options opts) {
  std::error_code ec;
  fs::path canon = fs::canonical(root, ec);
  if (ec) {
    return failure(errc::bad_folder, "cannot share folder " + root.string() + ": " + ec.message());
  }
  if (!fs::is_directory(canon, ec)) {
    return failure(errc::bad_folder, "cannot share " + root.string() + ": not a directory");
  }
  if (!log) {
    log = std::make_shared<spdlog::logger>("static_site");  // no sinks: silent
  }
  auto site = std::make_shared<static_site>(private_tag{}, ex, std::move(canon), std::move(log),
                                            opts);
  const tcp::endpoint ep(asio::ip::make_address_v4("127.0.0.1"), 0);
  site->acceptor_.open(ep.protocol(), ec);
  if (!ec) {
    site->acceptor_.bind(ep, ec);
  }
  if (!ec) {
    site->acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  }
  if (ec) {
    return failure(errc::cannot_listen,
                   "cannot listen on 127.0.0.1 for the folder server: " + ec.message());
  }
  site->port_ = site->acceptor_.local_endpoint(ec).port();
  site->log_->debug("static_site serving {} on 127.0.0.1:{}", site->root_.string(), site->port_);
  asio::co_spawn(ex, site->accept_loop(),
                 net::log_failure(site->log_, "static_site: connection handler failed"));
  return site;
}

static_site::static_site(private_tag, const asio::any_io_executor& ex, fs::path root,
                         std::shared_ptr<spdlog::logger> log, static_site_options opts)
    : ex_(ex), acceptor_(ex), root_(std::move(root)), log_(std::move(log)), opts_(opts) {}

void static_site::stop() {
  asio::dispatch(ex_, [self = shared_from_this()] {
    self->stopped_ = true;
    std::error_code ec;
    self->acceptor_.close(ec);
    for (tcp::socket* s : self->open_) {
      s->close(ec);
    }
  });
}

net::awaitable<void> static_site::accept_loop() {
  const std::shared_ptr<static_site> self = shared_from_this();
  asio::steady_timer pause(ex_);
  while (!stopped_) {
    auto [ec, sock] = co_await acceptor_.async_accept(use_tuple);
    if (stopped_ || ec == asio::error::operation_aborted) {
      break;
    }
    if (ec) {
      // EMFILE and friends: a short pause instead of a spin.
      log_->warn("static_site: accept failed: {}", ec.message());
      pause.expires_after(std::chrono::milliseconds(100));
      auto [pec] = co_await pause.async_wait(use_tuple);
      (void)pec;
      continue;
    }
    asio::co_spawn(ex_, serve(std::move(sock)),
                   net::log_failure(log_, "static_site: connection handler failed"));
  }
}

net::awaitable<void> static_site::serve(tcp::socket sock) {
  using namespace asio::experimental::awaitable_operators;
  const std::shared_ptr<static_site> self = shared_from_this();
  if (stopped_) {
    co_return;
  }
  struct registration {
    static_site& site;
    tcp::socket* s;
    ~registration() { site.open_.erase(s); }
  };
  open_.insert(&sock);
  const registration reg{*this, &sock};

  std::error_code ec;
  const tcp::endpoint peer = sock.remote_endpoint(ec);
  asio::steady_timer timer(ex_);
  std::string buf;
  std::vector<char> piece(read_piece);
  std::vector<char> file_buf;

  for (std::size_t n = 0; n < opts_.max_requests && !stopped_; ++n) {
    // 1. Read one head (bounded in size and time).
    timer.expires_after(opts_.read_timeout);
    std::size_t end = std::string::npos;
    bool too_large = false;
    while (true) {
      const std::size_t skip = buf.find_first_not_of("\r\n");  // empty lines before a request
      buf.erase(0, skip == std::string::npos ? buf.size() : skip);
      end = http::find_head_end(buf);
      if (end != std::string::npos || buf.size() > opts_.max_head) {
        too_large = end == std::string::npos || end > opts_.max_head;
        break;
      }
      auto r = co_await (sock.async_read_some(asio::buffer(piece), use_tuple) ||
                         timer.async_wait(use_tuple));
      if (r.index() != 0) {
        log_->debug("static_site {}: read timeout", peer.address().to_string());
        co_return;
      }
      const auto [rec, got] = std::get<0>(r);
      if (rec || got == 0) {
        co_return;  // EOF, reset or stop()
      }
      buf.append(piece.data(), got);
    }

    request req;
    response resp;
    if (too_large) {
      resp = error_response(431, true);
    } else {
      const parse_status ps = parse_request(std::string_view(buf).substr(0, end),
                                            opts_.max_headers, req);
      buf.erase(0, end);
      if (ps == parse_status::too_many_headers) {
        resp = error_response(431, true);
      } else if (ps == parse_status::bad) {
        resp = error_response(400, true);
      } else {
        resp = connection::handle(*this, req);
        const std::string* conn = req.header("Connection");
        const bool keep = req.minor >= 1
                              ? !(conn != nullptr && http::list_contains(*conn, "close"))
                              : (conn != nullptr && http::list_contains(*conn, "keep-alive"));
        const std::string* cl = req.header("Content-Length");
        const bool body = req.header("Transfer-Encoding") != nullptr ||
                          (cl != nullptr && *cl != "0");
        resp.close = resp.close || !keep || body;  // request bodies are never read
        if (keep && !resp.close && req.minor == 0) {
          resp.headers += "Connection: keep-alive\r\n";
        }
      }
    }

    // 2. Write the head, then the body (a generated page or a file range in 64 KiB pieces).
    std::string head = "HTTP/1.1 " + std::to_string(resp.status) + " " +
                       std::string(reason(resp.status)) + "\r\nServer: kiteline\r\n" +
                       "X-Content-Type-Options: nosniff\r\n" + resp.headers;
    if (!resp.no_content_length) {
      head += "Content-Length: " +
              std::to_string(resp.file_body ? resp.length : std::uint64_t{resp.body.size()}) +
              "\r\n";
    }
    if (resp.close) {
      head += "Connection: close\r\n";
    }
    head += "\r\n";
    const bool is_head = req.method == "HEAD";
    std::vector<asio::const_buffer> out{asio::buffer(head)};
    if (!is_head && !resp.body.empty()) {
      out.push_back(asio::buffer(resp.body));
    }
    // Every write is bounded by write_timeout (a visitor that stops reading is dropped).
    timer.expires_after(opts_.write_timeout);
    auto w = co_await (asio::async_write(sock, out, use_tuple) || timer.async_wait(use_tuple));
    if (w.index() != 0 || std::get<0>(std::get<0>(w))) {
      co_return;
    }
    std::uint64_t sent = 0;
    if (resp.has_file) {
      file_buf.resize(file_piece);
      while (sent < resp.length) {
        const auto want =
            static_cast<std::size_t>(std::min<std::uint64_t>(file_piece, resp.length - sent));
        const ssize_t got = ::pread(resp.file.get(), file_buf.data(), want,
                                    static_cast<off_t>(resp.offset + sent));
        if (got <= 0) {
          log_->debug("static_site {}: file read failed or file shrank",
                      peer.address().to_string());
          co_return;  // Content-Length was promised: closing is the only honest end
        }
        const auto g = static_cast<std::size_t>(got);
        timer.expires_after(opts_.write_timeout);
        auto fw = co_await (asio::async_write(sock, asio::buffer(file_buf.data(), g), use_tuple) ||
                            timer.async_wait(use_tuple));
        if (fw.index() != 0 || std::get<0>(std::get<0>(fw))) {
          co_return;
        }
        sent += g;
      }
    }
    log_->debug("static_site {} \"{} {}\" {} {}", peer.address().to_string(), req.method,
                req.target, resp.status, resp.has_file ? sent : resp.body.size());
    if (resp.close) {
      sock.shutdown(tcp::socket::shutdown_send, ec);
      // Drain briefly so the close does not reset unread request bytes before the reply lands.
      timer.expires_after(std::chrono::milliseconds(500));
      for (int i = 0; i < 64; ++i) {
        auto r = co_await (sock.async_read_some(asio::buffer(piece), use_tuple) ||
                           timer.async_wait(use_tuple));
        if (r.index() != 0 || std::get<0>(std::get<0>(r))) {
          break;
        }
      }
      co_return;
    }
  }
}

}  // namespace kiteline::connector
