// The relay's --fleet_* options (issue 24): the DNS server and zone it publishes its kites in,
// the TSIG key, the address it publishes, the peer port and its HMAC secret, and the timings.
#include "config/apply_option.hpp"
#include "config/values.hpp"
#include "core/text.hpp"

#include <arpa/inet.h>

#include <array>
#include <string_view>

namespace kiteline::config {
namespace {

bool is_ip_literal(const std::string& v) {
  std::array<unsigned char, 16> buf{};
  return ::inet_pton(AF_INET, v.c_str(), buf.data()) == 1 ||
         ::inet_pton(AF_INET6, v.c_str(), buf.data()) == 1;
}

constexpr std::array<std::string_view, 6> tsig_algorithms{
    "hmac-md5", "hmac-sha1", "hmac-sha224", "hmac-sha256", "hmac-sha384", "hmac-sha512"};

std::string without_trailing_dots(std::string s) {
  while (!s.empty() && s.back() == '.') {
    s.pop_back();
  }
  return s;
}

/// Seconds in [1, max] into `out`, or an error naming the range.
void apply_seconds(std::chrono::seconds& out, const std::string& v, std::uint64_t max,
                   const raw_option& o, const apply_context& ctx) {
  const auto secs = parse_unsigned(v, max);
  if (!secs || *secs == 0) {
    ctx.error(o, "expected seconds, 1-" + std::to_string(max));
  } else {
    out = std::chrono::seconds(*secs);
  }
}

}  // namespace

bool apply_relay_fleet(relay_fleet_config& fleet, const raw_option& o, const apply_context& ctx) {
  const std::string& n = o.name;
  if (n.rfind("fleet_", 0) != 0) {
    return false;
  }
  const std::string v = value_of(o);
  if (n == "fleet_dns") {
    const auto hp = parse_host_port(v, 53);
    if (!hp || !is_ip_literal(hp->host)) {
      ctx.error(o, "expected the DNS server's IP[:PORT] (IPv6: [IP]:PORT), e.g. 127.0.0.1:5353");
    } else {
      fleet.dns_server = v;
    }
  } else if (n == "fleet_zone") {
    const std::string zone = without_trailing_dots(to_lower(v));
    if (!is_valid_name(zone, false)) {
      ctx.error(o, "expected a DNS zone name, e.g. fleet.example.net");
    } else {
      fleet.zone = zone;
    }
  } else if (n == "fleet_tsig") {
    // ALG:NAME:BASE64 (base64 holds no ':').
    const auto first = v.find(':');
    const auto last = v.rfind(':');
    if (first == std::string::npos || first == last) {
      ctx.error(o, "expected ALG:NAME:BASE64SECRET, e.g. hmac-sha256:fleet-key:c2VjcmV0");
      return true;
    }
    fleet_tsig t;
    t.algorithm = to_lower(v.substr(0, first));
    t.name = without_trailing_dots(to_lower(v.substr(first + 1, last - first - 1)));
    const std::string key = v.substr(last + 1);
    bool known = false;
    for (auto a : tsig_algorithms) {
      known = known || t.algorithm == a;
    }
    const auto decoded = base64_decode(key);
    if (!known) {
      ctx.error(o, "unknown TSIG algorithm `" + t.algorithm +
                       "`: use hmac-sha256 (or hmac-sha1/224/384/512, hmac-md5)");
    } else if (!is_valid_name(t.name, false)) {
      ctx.error(o, "the TSIG key's NAME must be a DNS name, e.g. fleet-key");
    } else if (!decoded || decoded->empty()) {
      ctx.error(o, "the TSIG secret must be standard padded base64 (as `keymgr -t NAME` or "
                   "`tsig-keygen` print it)");
    } else {
      t.key_base64 = secret(key);
      fleet.tsig = std::move(t);
    }
  } else if (n == "fleet_address") {
    std::string ip = v;
    if (ip.size() > 2 && ip.front() == '[' && ip.back() == ']') {
      ip = ip.substr(1, ip.size() - 2);
    }
    if (!is_ip_literal(ip)) {
      ctx.error(o, "expected the IP address visitors reach this relay on");
    } else {
      fleet.addresses.push_back(ip);
    }
  } else if (n == "fleet_port") {
    if (auto p = parse_port(v)) {
      fleet.port = *p;
    } else {
      ctx.error(o, "expected a TCP port, 1-65535");
    }
  } else if (n == "fleet_secret") {
    if (v.size() < 16) {
      ctx.error(o, "the fleet secret must be at least 16 characters (every relay of the fleet "
                   "shares it; e.g. `openssl rand -hex 32`)");
    } else {
      fleet.peer_secret = secret(v);
    }
  } else if (n == "fleet_ttl") {
    apply_seconds(fleet.ttl, v, 86400, o, ctx);
  } else if (n == "fleet_cache_seconds") {
    apply_seconds(fleet.cache, v, 3600, o, ctx);
  } else if (n == "fleet_peer_timeout") {
    apply_seconds(fleet.peer_timeout, v, 86400, o, ctx);
  } else if (n == "fleet_ping_seconds") {
    apply_seconds(fleet.peer_interval, v, 3600, o, ctx);
  } else {
    return false;
  }
  return true;
}

}  // namespace kiteline::config
