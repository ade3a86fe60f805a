// --httpd, --httppass and --metrics_per_kite (both roles): into process_config::console.
#include "config/apply_option.hpp"
#include "config/values.hpp"

namespace kiteline::config {

bool apply_console(console_config& c, const raw_option& o, const apply_context& ctx) {
  const std::string v = value_of(o);
  if (o.name == "httpd") {
    // HOST:PORT, [V6]:PORT, :PORT or PORT; an empty HOST is loopback only (the console is for
    // the operator). Port 0: the kernel picks one (the ready line names it).
    std::string_view host;
    std::string_view port = v;
    if (const auto colon = v.rfind(':'); colon != std::string::npos) {
      host = std::string_view(v).substr(0, colon);
      port = std::string_view(v).substr(colon + 1);
    }
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
      host = host.substr(1, host.size() - 2);
    }
    const auto n = parse_unsigned(port, 65535);
    if (v.empty() || !n || host.find_first_of("[] ") != std::string_view::npos ||
        (host.find(':') != std::string_view::npos && v.front() != '[')) {
      ctx.error(o, "expected HOST:PORT, :PORT or PORT (port 0: any free port)");
      return true;
    }
    c.host = host.empty() ? std::string("127.0.0.1") : std::string(host);
    c.port = static_cast<std::uint16_t>(*n);
    c.enabled = true;
  } else if (o.name == "httppass") {
    if (v.empty()) {
      ctx.error(o, "needs a password");
      return true;
    }
    c.password = secret(v);
  } else if (o.name == "metrics_per_kite") {
    c.metrics_per_kite = true;
  } else {
    return false;
  }
  ctx.origins[o.name] = o.origin;
  return true;
}

}  // namespace kiteline::config
