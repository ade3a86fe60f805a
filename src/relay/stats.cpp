#include "relay/stats.hpp"

namespace kiteline::relay {

std::string_view name_of(visitor_proto p) noexcept {
  switch (p) {
    case visitor_proto::http:
      return "http";
    case visitor_proto::https:
      return "https";
    case visitor_proto::websocket:
      return "websocket";
    case visitor_proto::raw:
      return "raw";
    case visitor_proto::unknown:
      break;
  }
  return "unknown";
}

std::string_view name_of(visitor_result r) noexcept {
  switch (r) {
    case visitor_result::routed:
      return "routed";
    case visitor_result::refused:
      return "refused";
    case visitor_result::timed_out:
      break;
  }
  return "timed_out";
}

std::string_view name_of(forward_failure f) noexcept {
  return f == forward_failure::no_holder ? "no_holder" : "holders_failed";
}

std::string_view name_of(peer_refusal r) noexcept {
  switch (r) {
    case peer_refusal::no_header:
      return "no_header";
    case peer_refusal::bad_mac:
      return "bad_mac";
    case peer_refusal::stale_time:
      return "stale_time";
    case peer_refusal::bad_hops:
      return "bad_hops";
    case peer_refusal::replayed:
      break;
  }
  return "replayed";
}

visitor_proto visitor_proto_of(std::string_view proto) noexcept {
  if (proto == "http" || proto == "http2" || proto == "http3") {
    return visitor_proto::http;
  }
  if (proto == "https") {
    return visitor_proto::https;
  }
  if (proto == "websocket") {
    return visitor_proto::websocket;
  }
  if (proto == "raw") {
    return visitor_proto::raw;
  }
  return visitor_proto::unknown;
}

void refusal_log::note(std::string_view what, std::string_view name, std::string_view peer,
                       std::string_view reason) {
  auto cut = [](std::string_view s) { return std::string(s.substr(0, 200)); };
  refusal r{std::chrono::system_clock::now(), cut(what), cut(name), cut(peer), cut(reason)};
  std::lock_guard lock(mu_);
  ring_.push_front(std::move(r));
  while (ring_.size() > capacity_) {
    ring_.pop_back();
  }
}

std::vector<refusal> refusal_log::recent() const {
  std::lock_guard lock(mu_);
  return {ring_.begin(), ring_.end()};
}

}  // namespace kiteline::relay
