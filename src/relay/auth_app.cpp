#include "relay/auth_app.hpp"

#include "core/text.hpp"
#include "relay/auth_app_process.hpp"
#include "relay/auth_app_server.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>

#include <fmt/format.h>

namespace kiteline::relay {
namespace {

/// Answers longer than this are not cached (a cache of 4096 entries stays small).
constexpr std::size_t cache_text_limit = 4096;
/// The most an app may write as one answer (or as its capabilities).
constexpr std::size_t answer_limit = 64 * 1024;

auth_grant failed(std::string detail) {
  auth_grant g;
  g.outcome = auth_grant::kind::failed;
  g.detail = std::move(detail);
  return g;
}

std::string caps_text(const auth_app_caps& c) {
  std::string t;
  for (const auto& [on, word] : {std::pair{c.server, "SERVER"}, std::pair{c.auth, "AUTH"},
                                 std::pair{c.zk_auth, "ZK-AUTH"}}) {
    if (on) {
      t += t.empty() ? word : std::string(" ") + word;
    }
  }
  return t;
}

/// "auth app PATH: " or "auth app PATH (zk-auth): ", the head of every detail.
std::string request_label(const std::string& app, auth_app_mode mode) {
  return "auth app " + app + (mode == auth_app_mode::zk_auth ? " (zk-auth): " : ": ");
}

}  // namespace

auth_apps::auth_apps(const config::relay_auth_config& cfg, std::vector<asio::io_context*> contexts,
                     std::shared_ptr<spdlog::logger> log)
    : cfg_(cfg), contexts_(std::move(contexts)), log_(std::move(log)) {}

auth_apps::~auth_apps() {
  for (auto& [path, app] : apps_) {
    if (app.server) {
      app.server->stop();
    }
  }
}

std::string auth_apps::start() {
  for (const auto& rule : cfg_.domains) {
    const std::string& app = rule.suffix;
    if (!is_auth_app(app) || apps_.contains(app)) {
      continue;
    }
    const std::string what_to_do =
        " (an auth app must be an executable program that prints its capabilities, AUTH "
        "and/or ZK-AUTH, optionally SERVER, for --capabilities and exits 0; see "
        "docs/operations.md, \"External auth apps\")";
    if (::access(app.c_str(), X_OK) != 0) {
      return fmt::format("--authdomain={}: cannot run the auth app: {}{}", app,
                         std::strerror(errno), what_to_do);
    }
    asio::io_context io;
    app_run run;
    asio::co_spawn(io, run_app_once(app, {"--capabilities"}, cfg_.timeout, answer_limit),
                   [&run](const std::exception_ptr& e, app_run r) {
                     run = e ? app_run{false, {}, "failed to run"} : std::move(r);
                   });
    io.run();
    if (!run.ok) {
      return fmt::format("--authdomain={}: {} --capabilities: {}{}", app, app, run.error,
                         what_to_do);
    }
    const auto caps = parse_auth_app_caps(run.output);
    if (!caps.auth && !caps.zk_auth) {
      auto said = std::string(trim_ascii_space(run.output)).substr(0, 80);
      return fmt::format("--authdomain={}: {} --capabilities printed \"{}\", which names neither "
                         "AUTH nor ZK-AUTH{}",
                         app, app, said, what_to_do);
    }
    app_entry e{caps, nullptr};
    if (caps.server) {
      e.server = std::make_shared<app_server>(*contexts_.at(0), app, answer_limit, log_);
      e.server->start();
    }
    log_->info("auth app {}: capabilities {}; kites are checked with {} ({})", app,
               caps_text(caps), caps.zk_auth ? "--zk-auth QNAME" : "--auth DOMAIN",
               caps.server ? "one process kept running, one request per line"
                           : "one process per request");
    apps_.emplace(app, std::move(e));
  }
  return {};
}

net::awaitable<auth_grant> auth_apps::ask(std::string app, wire::kite_request k, bool fresh) {
  const auto it = apps_.find(app);
  if (it == apps_.end()) {
    co_return failed("auth app " + app + " was not started");
  }
  const auto mode = it->second.caps.zk_auth ? auth_app_mode::zk_auth : auth_app_mode::auth;
  const auto req = make_auth_app_request(mode, k, app);
  const std::string line = auth_app_request_line(req);
  const std::string key = app + "\n" + line;
  const std::string label = request_label(app, mode);
  std::optional<std::string> text = fresh ? std::nullopt : cache_.find(key);
  if (!text) {
    // The same bound as the DNS lookups': beyond it a kite is refused at once (fail closed).
    std::size_t taken = 0;
    const auto slot = in_flight_slot::take(in_flight_, cfg_.max_in_flight, taken);
    if (!slot) {
      co_return failed(label + "queue full (" + std::to_string(taken) +
                       " requests in flight, --auththreads)");
    }
    if (it->second.server) {
      auto r = std::make_shared<app_request>(co_await asio::this_coro::executor);
      r->line = line;
      r->deadline = std::chrono::steady_clock::now() + cfg_.timeout;
      it->second.server->submit(r);
      (void)co_await r->wake.async_wait(net::use_tuple);
      if (!r->ok) {
        co_return failed(label + r->text);
      }
      text = std::move(r->text);
    } else {
      // (A named vector: GCC 12 cannot keep an initializer list's array across a co_await.)
      std::vector<std::string> args{req.flag, req.arg};
      auto run = co_await run_app_once(app, std::move(args), cfg_.timeout, answer_limit);
      if (!run.ok) {
        co_return failed(label + run.error);
      }
      text = std::move(run.output);
    }
  }
  auth_grant g;
  bool answer_ok = false;
  if (mode == auth_app_mode::zk_auth) {
    g = decode_zk_auth_app_answer(*text);
    answer_ok = g.outcome != auth_grant::kind::failed;
  } else {
    const auto answer = decode_auth_app_answer(*text);
    answer_ok = answer.grant.outcome != auth_grant::kind::failed;
    g = judge_auth_app_answer(answer, k);
  }
  if (answer_ok && text->size() <= cache_text_limit) {
    cache_.put(key, *text);
  }
  g.detail = label + g.detail;
  co_return g;
}

}  // namespace kiteline::relay
