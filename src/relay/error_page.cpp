#include "relay/error_page.hpp"

#include "config/error_url.hpp"

namespace kiteline::relay {

std::string unavailable_page(const config::relay_config& cfg, std::string_view uuid,
                             tls::transport& t, std::string_view proto, std::string_view host,
                             bool overloaded) {
  std::string relay_ip;
  if (!cfg.error_url.empty() || !cfg.error_urls.empty()) {
    std::error_code ec;
    const auto local = t.socket().local_endpoint(ec);
    relay_ip = ec ? std::string() : local.address().to_string();
  }
  return config::unavailable_page(cfg.error_url, cfg.error_urls, uuid, "fe", proto, host,
                                  relay_ip, overloaded);
}

}  // namespace kiteline::relay
