#include "config/error_url.hpp"

#include "core/text.hpp"
#include "wire/reject.hpp"

namespace kiteline::config {

bool apply_error_url(std::string_view value, std::string& url, std::vector<error_url_rule>& rules) {
  if (value.empty()) {
    return false;
  }
  if (const auto at = value.find(":http"); at != std::string_view::npos) {
    rules.push_back(error_url_rule{to_lower(value.substr(0, at)), std::string(value.substr(at + 1))});
  } else {
    url = std::string(value);
  }
  return true;
}

std::optional<error_url_choice> choose_error_url(std::string_view default_url,
                                                 const std::vector<error_url_rule>& rules,
                                                 std::string_view host) {
  std::string_view name = host.substr(0, host.find(':'));
  while (!rules.empty()) {
    for (const auto& r : rules) {
      if (ascii_iequals(r.domain, name)) {
        return error_url_choice{r.url, false};
      }
    }
    const auto dot = name.find('.');
    if (dot == std::string_view::npos) {
      break;
    }
    name.remove_prefix(dot + 1);
  }
  if (default_url.empty()) {
    return std::nullopt;
  }
  return error_url_choice{std::string(default_url), true};
}

std::string unavailable_page(std::string_view default_url, const std::vector<error_url_rule>& rules,
                             std::string_view uuid, std::string_view where, std::string_view proto,
                             std::string_view host, std::string_view relay_ip, bool overloaded) {
  const auto choice = choose_error_url(default_url, rules, host);
  if (!choice) {
    return wire::format_unavailable_page(uuid, "HTTP", host, where, true, overloaded);
  }
  wire::error_frame f;
  f.uuid = uuid;
  f.where = where;
  f.proto = proto;
  f.host = host;
  f.url = choice->url;
  f.relay_ip = relay_ip;
  f.advertise = choice->advertise;
  f.overloaded = overloaded;
  return wire::format_error_frame_page(f);
}

}  // namespace kiteline::config
