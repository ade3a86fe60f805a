// pagekite.py's built-in web server: a read-only HTTP/1.1 server for one folder on 127.0.0.1.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <set>
#include <string>

#include <spdlog/spdlog.h>

#include "connector/errc.hpp"
#include "core/outcome.hpp"
#include "net/asio.hpp"

namespace kiteline::connector {

/// Limits of the folder server; the defaults suit `kiteline /path/to/folder NAME`.
struct static_site_options {
  std::chrono::milliseconds read_timeout{30000};   ///< for a whole request head
  std::chrono::milliseconds write_timeout{30000};  ///< for each write (one ≤64 KiB piece)
  std::size_t max_head = 16 * 1024;                ///< request head cap → 431 and close
  std::size_t max_headers = 100;                   ///< header line cap → 431 and close
  std::size_t max_requests = 10000;                ///< keep-alive requests per connection
  std::size_t max_listing = 10000;                 ///< directory entries shown
};

/// Serves one folder read-only over HTTP/1.1 (keep-alive, pipelining) on 127.0.0.1 with an
/// ephemeral port; the connector points an HTTP kite at it.
///
/// - GET and HEAD only (others: 405 with `Allow: GET, HEAD`); a request with a body is answered
///   and the connection closed (bodies are never read).
/// - Files: Content-Type by extension (html htm css js json txt png jpg jpeg gif svg ico pdf wasm
///   mp4 webm xml zip tar gz, else application/octet-stream), Content-Length, Last-Modified,
///   Accept-Ranges; `Range: bytes=a-b | a- | -n` (one range) → 206 with Content-Range,
///   unsatisfiable → 416 `Content-Range: bytes */SIZE`; several ranges or a malformed Range are
///   ignored (200, as RFC 9110 allows); If-Modified-Since equal to Last-Modified → 304.
///   Bodies are streamed in 64 KiB pieces (no whole-file buffering).
/// - Directories: index.html if present, else an HTML listing (sorted, directories first with a
///   trailing '/', names HTML-escaped, links percent-encoded); a directory URL without the
///   trailing slash → 301 to the slash form (Location built from the decoded segments, so it is
///   always a local path).
/// - Confinement: the path (query and fragment removed; origin-form, or absolute-form whose
///   path is used) is percent-decoded once; NUL, backslashes, encoded separators (%2f, %5c) and
///   any ".." segment → 400; the result is resolved with weakly_canonical (symlinks followed) and
///   must lie inside the canonical root, else 404. So symlinks leading outside the folder are
///   refused, symlinks inside it work. Only regular files and directories are served (no FIFOs
///   or devices). Known limit: a local user who swaps path components for symlinks between the
///   check and the open (TOCTOU) could escape; visitors cannot.
/// - Errors are small HTML pages; one debug log line per request.
///
/// Threading: everything runs on the executor given to start(); file reads are blocking
/// (local disk) on that executor.
class static_site : public std::enable_shared_from_this<static_site> {
  struct private_tag {};

 public:
  /// Opens the listener on 127.0.0.1:0 and starts serving `root` on `ex`. Fails with
  /// errc::bad_folder when `root` is not a readable directory, errc::cannot_listen when the
  /// listener cannot be opened. May be called from any thread; the site then lives on `ex`
  /// and keeps itself alive until stop() (or until `ex`'s context is destroyed).
  static outcome<std::shared_ptr<static_site>> start(const asio::any_io_executor& ex,
                                                     std::filesystem::path root,
                                                     std::shared_ptr<spdlog::logger> log,
                                                     static_site_options opts = {});

  /// The bound port on 127.0.0.1. Any thread (fixed after start()).
  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }

  /// The canonical folder being served. Any thread.
  [[nodiscard]] const std::filesystem::path& root() const noexcept { return root_; }

  /// Stops accepting and closes every open connection. Any thread (dispatched to the site's
  /// executor); idempotent.
  void stop();

  static_site(private_tag, const asio::any_io_executor& ex, std::filesystem::path root,
              std::shared_ptr<spdlog::logger> log, static_site_options opts);

 private:
  struct connection;
  friend struct connection;

  net::awaitable<void> accept_loop();
  net::awaitable<void> serve(net::tcp::socket sock);

  asio::any_io_executor ex_;
  net::tcp::acceptor acceptor_;
  std::filesystem::path root_;
  std::shared_ptr<spdlog::logger> log_;
  static_site_options opts_;
  std::uint16_t port_ = 0;
  bool stopped_ = false;
  std::set<net::tcp::socket*> open_;  // sockets of running connections (executor only)
};

}  // namespace kiteline::connector
