// connector static_site_http: the folder server's HTTP pieces that touch no socket: request
// head parsing, target decoding and confinement, Range headers, dates, types and error pages.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <ctime>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/text.hpp"

namespace kiteline::connector::site_http {

namespace fs = std::filesystem;

/// Owns a POSIX file descriptor.
class file_handle {
 public:
  file_handle() = default;
  explicit file_handle(int fd) noexcept : fd_(fd) {}
  file_handle(const file_handle&) = delete;
  file_handle& operator=(const file_handle&) = delete;
  file_handle(file_handle&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  file_handle& operator=(file_handle&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  ~file_handle() { reset(); }
  [[nodiscard]] int get() const noexcept { return fd_; }
  [[nodiscard]] bool valid() const noexcept { return fd_ >= 0; }

 private:
  void reset() noexcept {
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  int fd_ = -1;
};

struct request {
  std::string method;
  std::string target;
  int minor = 1;  // HTTP/1.<minor>
  std::vector<std::pair<std::string, std::string>> headers;

  [[nodiscard]] const std::string* header(std::string_view name) const {
    for (const auto& [n, v] : headers) {
      if (ascii_iequals(n, name)) {
        return &v;
      }
    }
    return nullptr;
  }
};

enum class parse_status { ok, bad, too_many_headers };

/// Parses a complete head (request line .. blank line, as http::find_head_end finds it) into
/// `req` with the http/ scanner: `METHOD SP target SP HTTP/1.d`, field lines with token names
/// (obs-fold refused), at most `max_headers` of them.
[[nodiscard]] parse_status parse_request(std::string_view head, std::size_t max_headers, request& req);

[[nodiscard]] std::string_view reason(int status) noexcept;

/// Percent-encodes everything but unreserved characters (so ':' cannot start a scheme).
[[nodiscard]] std::string url_encode(std::string_view s);

[[nodiscard]] std::string http_date(std::time_t t);

[[nodiscard]] std::string_view content_type(const fs::path& p);

/// Where a request target leads.
struct target_path {
  enum class kind { bad, ok } k = kind::bad;
  std::vector<std::string> segments;  // decoded, no "", ".", ".."
  bool trailing_slash = false;
  std::string query;  // with its '?', kept for redirects
};

[[nodiscard]] target_path decode_target(std::string_view t);

[[nodiscard]] bool inside(const fs::path& root, const fs::path& p);

/// One parsed `Range:` header against a file size.
struct byte_range {
  enum class kind { none, range, unsatisfiable } k = kind::none;
  std::uint64_t first = 0;
  std::uint64_t length = 0;
};

[[nodiscard]] byte_range parse_range(std::string_view v, std::uint64_t size);

struct response {
  int status = 200;
  std::string headers;  // extra header lines, CRLF-terminated
  std::string body;     // small generated bodies
  file_handle file;     // or a file range
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
  bool has_file = false;            // the body comes from `file` (GET of a file)
  bool file_body = false;           // Content-Length is `length` (GET or HEAD of a file)
  bool close = false;
  bool no_content_length = false;  // 304
};

[[nodiscard]] response error_response(int status, bool close = false);

}  // namespace kiteline::connector::site_http
