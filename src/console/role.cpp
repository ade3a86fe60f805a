#include "console/role.hpp"

#include "console/connector_pages.hpp"
#include "console/relay_pages.hpp"
#include "core/text.hpp"

namespace kiteline::console {

namespace {

/// The console over `snapshot` and the three renderers of one role.
template <class Snapshot, class Metrics, class Json, class Html>
outcome<std::unique_ptr<server>> start_console(const config::console_config& cfg,
                                               std::string version,
                                               std::shared_ptr<spdlog::logger> log,
                                               Snapshot snapshot, Metrics m, Json j, Html h) {
  if (!cfg.enabled) {
    return std::unique_ptr<server>();
  }
  page_options o{cfg.metrics_per_kite, std::move(version), true};
  pages p;
  p.metrics = [snapshot, m, o] { return m(snapshot(), o); };
  p.status_json = [snapshot, j] { return j(snapshot()); };
  p.status_html = [snapshot, h] { return h(snapshot()); };
  return server::start(cfg, std::move(p), std::move(log));
}

}  // namespace

outcome<std::unique_ptr<server>> start_relay_console(relay::server& relay,
                                                     const config::console_config& cfg,
                                                     std::string version,
                                                     std::shared_ptr<spdlog::logger> log) {
  return start_console(
      cfg, std::move(version), std::move(log), [&relay] { return relay.snapshot(); },
      [](const relay::relay_snapshot& s, const page_options& o) { return relay_metrics(s, o); },
      [](const relay::relay_snapshot& s) { return relay_json(s); },
      [](const relay::relay_snapshot& s) { return relay_html(s); });
}

outcome<std::unique_ptr<server>> start_connector_console(connector::client& client,
                                                         const config::console_config& cfg,
                                                         std::string version,
                                                         std::shared_ptr<spdlog::logger> log) {
  const config::connector_config* c = &client.config();
  return start_console(
      cfg, std::move(version), std::move(log), [&client] { return client.snapshot(); },
      [c](const connector::connector_snapshot& s, const page_options& o) {
        return connector_metrics(s, *c, o);
      },
      [c](const connector::connector_snapshot& s) { return connector_json(s, *c); },
      [c](const connector::connector_snapshot& s) { return connector_html(s, *c); });
}

namespace {

void log_lines(std::string_view text, spdlog::logger& log) {
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const auto eol = text.find('\n', pos);
    const std::string_view line =
        text.substr(pos, eol == std::string_view::npos ? std::string_view::npos : eol - pos);
    if (!line.empty()) {
      log.info("{}", line);
    }
    if (eol == std::string_view::npos) {
      break;
    }
    pos = eol + 1;
  }
}

}  // namespace

void log_state_dump(relay::server& relay, spdlog::logger& log) {
  log_lines(relay_dump(relay.snapshot()), log);
}

void log_state_dump(const connector::client& client, spdlog::logger& log) {
  log_lines(connector_dump(client.snapshot(), client.config()), log);
}

}  // namespace kiteline::console
