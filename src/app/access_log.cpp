#include "app/access_log.hpp"

#include <algorithm>
#include <cstdio>

#include "connector/kite_url.hpp"

namespace kiteline::app {

std::optional<std::shared_ptr<accesslog::sink>> open_access_log(const config::process_config& p) {
  const auto f = p.accesslog_format == "json" ? accesslog::format::json : accesslog::format::text;
  auto opened = accesslog::sink::open(p.accesslog, f);
  if (!opened) {
    std::fprintf(stderr, "kiteline: --accesslog=%s: %s\n", p.accesslog.c_str(),
                 opened.error().message().c_str());
    return std::nullopt;
  }
  return std::shared_ptr<accesslog::sink>(std::move(*opened));
}

void reopen_access_log(const std::shared_ptr<accesslog::sink>& sink, spdlog::logger& log) {
  if (sink && !sink->reopen()) {
    log.error("cannot reopen the access log {}; still writing to the old file", sink->target());
  }
}

void kite_url_printer::kite_live(const std::string& kite, const std::string& relay) {
  {
    std::lock_guard lock(mu_);
    if (std::find(printed_.begin(), printed_.end(), kite) != printed_.end()) {
      return;
    }
    printed_.push_back(kite);
  }
  const std::string url = connector::kite_public_url(kite, relay);
  std::printf("kiteline connector: %s is live (via relay %s)\n", url.c_str(), relay.c_str());
  std::fflush(stdout);
}

}  // namespace kiteline::app
