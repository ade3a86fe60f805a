// --accesslog and --accesslog_format, for both roles (the sink itself is accesslog::sink).
#include "config/apply_option.hpp"
#include "config/values.hpp"

namespace kiteline::config {

bool apply_accesslog(process_config& p, const raw_option& o, const apply_context& ctx) {
  const std::string v = value_of(o);
  if (o.name == "accesslog") {
    if (v.empty()) {
      ctx.error(o, "needs a file name, `stdio`, `syslog` or `none`");
    } else {
      p.accesslog = v;
    }
  } else if (o.name == "accesslog_format") {
    if (v == "text" || v == "json") {
      p.accesslog_format = v;
    } else {
      ctx.error(o, "`" + v + "` is not an access-log format (text, json)");
    }
  } else {
    return false;
  }
  ctx.origins[o.name] = o.origin;
  return true;
}

}  // namespace kiteline::config
