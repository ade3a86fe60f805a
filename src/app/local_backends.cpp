#include "app/local_backends.hpp"

namespace kiteline::app {

outcome<std::unique_ptr<connector::client>> start_local_backends(
    relay::server& relay, const std::optional<config::connector_config>& cfg,
    std::shared_ptr<spdlog::logger> log) {
  if (!cfg) {
    return std::unique_ptr<connector::client>();
  }
  connector::client_options opts;
  opts.tunnel_dialer = [&relay](const asio::any_io_executor& ex) {
    return relay.open_local_tunnel(ex);
  };
  // The loop-back tunnel never needs a relay ping or a long backoff: retry soon.
  opts.retry.first = std::chrono::milliseconds(100);
  opts.retry.cap = std::chrono::milliseconds(2000);
  opts.on_kite_live = [log](const std::string& kite, const std::string&) {
    log->info("local kite {} served by the relay itself", kite);
  };
  auto local = std::make_unique<connector::client>(*cfg, std::move(log), std::move(opts));
  if (auto started = local->start(); !started) {
    return started.error().prefixed("local back-ends: ");
  }
  return local;
}

}  // namespace kiteline::app
