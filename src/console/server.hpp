// console::server: the --httpd console, an HTTP/1.1 server on its own thread and io_context
// (never a worker's: a slow scrape or page cannot delay the data path). It serves /metrics,
// /status.json and / from the role's page functions, behind Basic auth with --httppass.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include <spdlog/logger.h>

#include "config/console_config.hpp"
#include "core/outcome.hpp"
#include "net/asio.hpp"

namespace kiteline::console {

/// The role's pages. Each is called on the console thread, one request at a time per call, and
/// may block briefly (they gather snapshots from the workers).
struct pages {
  std::function<std::string()> metrics;      ///< Prometheus text
  std::function<std::string()> status_json;  ///< /status.json
  std::function<std::string()> status_html;  ///< /
};

/// A running console. start() binds (no SO_REUSEPORT: a port another process holds is an
/// error naming it) and starts the thread; the destructor or stop() ends it.
class server {
 public:
  /// Binds `cfg.host:cfg.port` and starts serving on a thread of its own. Fails with the
  /// port in the message when it cannot listen.
  static outcome<std::unique_ptr<server>> start(const config::console_config& cfg, pages p,
                                                std::shared_ptr<spdlog::logger> log);
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  /// The port bound (the kernel's choice when the config said 0).
  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
  /// "http://127.0.0.1:8080/" ([v6] in brackets).
  [[nodiscard]] std::string url() const;
  /// Stops serving and joins the thread. Idempotent; any thread but the console's.
  void stop();

 private:
  server(const config::console_config& cfg, pages p, std::shared_ptr<spdlog::logger> log);
  net::awaitable<void> accept_loop();
  net::awaitable<void> serve(net::tcp::socket sock);
  /// The response (head and body) to one request head.
  std::string respond(std::string_view head);

  config::console_config cfg_;
  pages pages_;
  std::shared_ptr<spdlog::logger> log_;
  asio::io_context ctx_{1};
  std::unique_ptr<net::tcp::acceptor> acceptor_;
  std::uint16_t port_ = 0;
  std::size_t open_ = 0;  // connections being served (console thread only)
  std::thread thread_;
  std::atomic<bool> stopped_{false};
};

/// A complete HTTP/1.1 response: status line, the given content type, Content-Length,
/// Connection: close, no-store caching, a Content-Security-Policy that runs no script, and
/// `extra` header lines ("Name: value\r\n" each). `head_only`: no body (HEAD).
[[nodiscard]] std::string http_response(int status, std::string_view reason,
                                        std::string_view content_type, std::string_view body,
                                        std::string_view extra = {}, bool head_only = false);

}  // namespace kiteline::console
