#include "support/loopback_relay.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>

#include "config/parse.hpp"

namespace kiteline::test {

// --- capture_sink ----------------------------------------------------------------------------

std::vector<std::string> capture_sink::lines() {
  std::lock_guard lock(mutex_);
  return lines_;
}

bool capture_sink::contains(std::initializer_list<std::string_view> parts) {
  std::lock_guard lock(mutex_);
  return std::any_of(lines_.begin(), lines_.end(),
                     [&](const std::string& l) { return has_all(l, parts); });
}

std::size_t capture_sink::count(std::string_view part) {
  std::lock_guard lock(mutex_);
  std::size_t n = 0;
  for (const auto& l : lines_) {
    n += l.find(part) != std::string::npos ? std::size_t{1} : std::size_t{0};
  }
  return n;
}

void capture_sink::sink_it_(const spdlog::details::log_msg& msg) {
  spdlog::memory_buf_t buf;
  formatter_->format(msg, buf);
  lines_.emplace_back(buf.data(), buf.size());
  if (lines_.size() > 200000) {  // bounded: the 2000-connection test logs a line per visitor
    lines_.erase(lines_.begin(), lines_.begin() + 100000);
  }
}

std::shared_ptr<spdlog::logger> make_capture_logger(const std::string& name,
                                                    const std::shared_ptr<capture_sink>& sink) {
  auto logger = std::make_shared<spdlog::logger>(name, sink);
  logger->set_pattern("%H:%M:%S.%e %l %v");
  logger->set_level(spdlog::level::debug);
  return logger;
}

// --- loopback_relay --------------------------------------------------------------------------

loopback_relay::loopback_relay(relay_options opts) {
  std::vector<std::string> argv{"kiteline", "frontend", "--clean", "--host=127.0.0.1",
                                "--ports=0", "--rawports=virtual"};
  std::string protos;
  for (const auto& p : opts.protos) {
    protos += (protos.empty() ? "" : ",") + p;
  }
  argv.push_back("--protos=" + protos);
  argv.push_back("--domain=http,https,raw:*.test:" + std::string(default_secret));
  for (const auto& d : opts.extra_domains) {
    argv.push_back("--domain=" + d);
  }
  argv.push_back("--threads=" + std::to_string(opts.threads));
  if (opts.buffers_kib != 0) {
    argv.push_back("--buffers=" + std::to_string(opts.buffers_kib));
  }
  if (opts.evict_after_s) {
    argv.push_back("--evict_after=" + std::to_string(*opts.evict_after_s));
  }
  argv.push_back("--visitor_timeout=" + std::to_string(opts.visitor_timeout.count()));
  if (opts.nozchunks) {
    argv.emplace_back("--nozchunks");
  }
  if (!opts.tls_names.empty()) {
    std::string pem = opts.tls_pem_file;
    if (pem.empty()) {
      cert_ = std::make_unique<test_cert>(opts.tls_names);
      pem = cert_->pem_file();
    }
    for (const auto& n : opts.tls_names) {
      argv.push_back("--tls_endpoint=" + n + ":" + pem);
    }
    if (!opts.tls_default.empty()) {
      argv.push_back("--tls_default=" + opts.tls_default);
    }
  }
  argv.insert(argv.end(), opts.extra_args.begin(), opts.extra_args.end());
  auto out = config::parse_command_line(argv, config::environment{});
  if (!out.ok() || !out.relay) {
    for (const auto& e : out.errors) {
      error_ += e.to_string() + "\n";
    }
    error_ += "(no relay config)";
    return;
  }
  cfg_ = *out.relay;
  sink_ = std::make_shared<capture_sink>();
  server_ = std::make_unique<relay::server>(cfg_, make_capture_logger("relay", sink_));
  if (opts.key_store) {
    server_->set_key_store(opts.key_store);
  }
  if (const auto started = server_->start(); !started) {
    error_ = "relay start failed: " + started.error().message();
    return;
  }
  server_->start_threads();
}

loopback_relay::~loopback_relay() {
  if (server_) {
    server_->stop();
  }
}

testing::AssertionResult loopback_relay::wait_for_log(std::initializer_list<std::string_view> parts,
                                                      milliseconds timeout) {
  std::vector<std::string> want(parts.begin(), parts.end());
  auto r = wait_for([&] { return sink_->contains(parts); }, timeout, "a log line");
  if (!r) {
    std::string joined;
    for (const auto& p : want) {
      joined += "[" + p + "]";
    }
    return r << " with " << joined << "; log:\n" << log_dump();
  }
  return r;
}

testing::AssertionResult loopback_relay::wait_for_route(std::string_view proto,
                                                        std::string_view domain, bool found) {
  const std::uint32_t port = server_->bound_ports().at(0);
  return wait_for(
      [&] {
        relay::route r;
        return server_->registry().find(proto, domain, port, r) == found;
      },
      found ? "the kite to be routable" : "the kite to be unregistered");
}

std::string loopback_relay::log_dump() {
  std::string out;
  auto lines = sink_->lines();
  std::size_t from = lines.size() > 200 ? lines.size() - 200 : 0;
  for (std::size_t i = from; i < lines.size(); ++i) {
    out += lines[i];
  }
  return out;
}

}  // namespace kiteline::test
