#include "console/server.hpp"

#include <chrono>

#include "console/request.hpp"
#include "metrics/exposition.hpp"
#include "net/listener.hpp"
#include "net/spawn.hpp"

namespace kiteline::console {

using net::tcp;
using net::use_tuple;

namespace {

/// How long a console client may take to send its request head.
constexpr std::chrono::seconds head_timeout{10};
/// Console connections served at once; more are closed at once.
constexpr std::size_t max_open = 32;

}  // namespace

std::string http_response(int status, std::string_view reason, std::string_view content_type,
                          std::string_view body, std::string_view extra, bool head_only) {
  std::string r = "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) + "\r\n";
  r += "Content-Type: " + std::string(content_type) + "\r\n";
  r += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  r += "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n"
       "Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'\r\n"
       "Connection: close\r\n";
  r += extra;
  r += "\r\n";
  if (!head_only) {
    r += body;
  }
  return r;
}

server::server(const config::console_config& cfg, pages p, std::shared_ptr<spdlog::logger> log)
    : cfg_(cfg), pages_(std::move(p)), log_(std::move(log)) {}

outcome<std::unique_ptr<server>> server::start(const config::console_config& cfg, pages p,
                                               std::shared_ptr<spdlog::logger> log) {
  std::unique_ptr<server> s(new server(cfg, std::move(p), std::move(log)));
  const std::string where = (cfg.host.find(':') != std::string::npos ? "[" + cfg.host + "]"
                                                                      : cfg.host) +
                            ":" + std::to_string(cfg.port);
  auto ep = net::bind_endpoint(cfg.host, cfg.port);
  if (!ep) {
    return failure(ep.error(), "console (--httpd): bad host '" + cfg.host + "': " +
                                   ep.error().message());
  }
  // No SO_REUSEPORT here: a port another process listens on must fail, not be shared.
  auto acc = std::make_unique<tcp::acceptor>(s->ctx_);
  std::error_code ec;
  acc->open(ep->protocol(), ec);
  if (!ec) {
    acc->set_option(tcp::acceptor::reuse_address(true), ec);
  }
  if (!ec) {
    acc->bind(*ep, ec);
  }
  if (!ec) {
    acc->listen(64, ec);
  }
  if (ec) {
    return failure(ec, "console (--httpd): cannot listen on " + where + ": " + ec.message() +
                           (ec == asio::error::address_in_use
                                ? " (port " + std::to_string(cfg.port) +
                                      " is taken by another process)"
                                : ""));
  }
  s->port_ = acc->local_endpoint().port();
  s->acceptor_ = std::move(acc);
  asio::co_spawn(s->ctx_, s->accept_loop(), net::log_failure(s->log_, "console accept failed"));
  s->thread_ = std::thread([ctx = &s->ctx_] { ctx->run(); });
  return s;
}

server::~server() { stop(); }

void server::stop() {
  if (stopped_.exchange(true)) {
    return;
  }
  asio::post(ctx_, [this] {
    std::error_code ec;
    if (acceptor_) {
      acceptor_->close(ec);
    }
  });
  ctx_.stop();
  if (thread_.joinable()) {
    thread_.join();
  }
}

std::string server::url() const {
  const std::string h = cfg_.host.find(':') != std::string::npos ? "[" + cfg_.host + "]" : cfg_.host;
  return "http://" + h + ":" + std::to_string(port_) + "/";
}

net::awaitable<void> server::accept_loop() {
  auto ex = co_await asio::this_coro::executor;
  while (!stopped_) {
    auto [ec, sock] = co_await acceptor_->async_accept(use_tuple);
    if (ec == asio::error::operation_aborted || stopped_) {
      break;
    }
    if (ec) {
      log_->warn("console: accept failed: {}", ec.message());
      asio::steady_timer t(ex);
      t.expires_after(std::chrono::milliseconds(100));
      (void)co_await t.async_wait(use_tuple);
      continue;
    }
    if (open_ >= max_open) {
      std::error_code ignored;
      sock.close(ignored);
      continue;
    }
    ++open_;
    asio::co_spawn(ex, serve(std::move(sock)), [this](const std::exception_ptr& e) {
      --open_;
      if (e) {
        net::log_failure(log_, "console request failed")(e);
      }
    });
  }
}

net::awaitable<void> server::serve(tcp::socket sock) {
  using namespace asio::experimental::awaitable_operators;
  auto ex = co_await asio::this_coro::executor;
  asio::steady_timer timer(ex);
  timer.expires_after(head_timeout);
  std::string buf;
  std::array<char, 2048> chunk{};
  std::string reply;
  for (;;) {
    const parse_result parsed = parse_request(buf);
    if (parsed.status != parse_status::need_more) {
      reply = respond(buf);
      break;
    }
    auto r = co_await (sock.async_read_some(asio::buffer(chunk), use_tuple) ||
                       timer.async_wait(use_tuple));
    if (r.index() == 1) {
      co_return;  // no complete head in time
    }
    auto [ec, n] = std::get<0>(r);
    if (ec || n == 0) {
      co_return;
    }
    buf.append(chunk.data(), n);
  }
  timer.expires_after(head_timeout);
  (void)co_await (asio::async_write(sock, asio::buffer(reply), use_tuple) ||
                  timer.async_wait(use_tuple));
  std::error_code ec;
  sock.shutdown(tcp::socket::shutdown_both, ec);
  sock.close(ec);
}

std::string server::respond(std::string_view head) {
  const parse_result parsed = parse_request(head);
  constexpr std::string_view text = "text/plain; charset=utf-8";
  if (parsed.status == parse_status::too_large) {
    return http_response(431, "Request Header Fields Too Large", text, "request head too large\n");
  }
  if (parsed.status != parse_status::complete) {
    return http_response(400, "Bad Request", text, "bad request\n");
  }
  const request& req = parsed.req;
  if (!cfg_.password.empty() && !basic_auth_ok(req.authorization, cfg_.password.reveal())) {
    return http_response(401, "Unauthorized", text, "password required\n",
                         "WWW-Authenticate: Basic realm=\"kiteline console\", charset=\"UTF-8\"\r\n");
  }
  const bool head_only = req.method == "HEAD";
  if (req.method != "GET" && !head_only) {
    return http_response(405, "Method Not Allowed", text, "GET or HEAD only\n",
                         "Allow: GET, HEAD\r\n");
  }
  switch (req.where) {
    case route::metrics:
      return http_response(200, "OK", metrics::content_type, pages_.metrics(), {}, head_only);
    case route::status_json:
      return http_response(200, "OK", "application/json", pages_.status_json(), {}, head_only);
    case route::status_page:
      return http_response(200, "OK", "text/html; charset=utf-8", pages_.status_html(), {},
                           head_only);
    case route::not_found:
      break;
  }
  return http_response(404, "Not Found", text, "not found: try /, /metrics or /status.json\n", {},
                       head_only);
}

}  // namespace kiteline::console
