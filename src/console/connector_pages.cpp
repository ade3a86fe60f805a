#include "console/connector_pages.hpp"

#include <algorithm>
#include <optional>

#include "connector/relay_quota.hpp"
#include "console/format.hpp"
#include "metrics/exposition.hpp"

namespace kiteline::console {

using metrics::metric_type;

std::string public_url(const config::service& s) {
  const std::string port = s.public_port ? ":" + std::to_string(*s.public_port) : "";
  if (s.proto == "https") {
    return "https://" + s.kite_name + (s.public_port == 443 ? "" : port) + "/";
  }
  if (s.proto == "raw") {
    return s.kite_name + port;
  }
  if (s.proto.starts_with("http") || s.proto == "websocket") {
    return "http://" + s.kite_name + (s.public_port == 80 ? "" : port) + "/";
  }
  return s.proto + "://" + s.kite_name + port;
}

namespace {

/// Relays on which service `i` is live.
std::vector<std::string> live_on(const connector::connector_snapshot& s, std::size_t i) {
  std::vector<std::string> out;
  for (const auto& r : s.relays) {
    const auto& ls = r.status.live_services;
    if (r.status.live && std::find(ls.begin(), ls.end(), i) != ls.end()) {
      out.push_back(r.status.label);
    }
  }
  return out;
}

std::chrono::seconds uptime(const connector::connector_snapshot& s) {
  return std::chrono::duration_cast<std::chrono::seconds>(s.taken - s.started);
}

std::string state_of(const connector::relay_status& st) {
  if (st.stopped) {
    return "stopped";
  }
  if (st.live) {
    return st.retiring ? "live (retiring)" : "live";
  }
  return st.attempts == 0 ? "starting" : "down";
}

std::string ping_text(const connector::relay_status& st) {
  if (st.ping_rtt.count() < 0) {
    return "-";
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f ms", static_cast<double>(st.ping_rtt.count()) / 1000.0);
  return buf;
}

/// A number, or JSON null.
std::string json_number(const std::optional<std::int64_t>& v) {
  return v ? std::to_string(*v) : std::string("null");
}

/// The relay's limits on the tunnel as JSON members (pagekite.py's names; null when absent).
std::string quota_json(const connector::relay_quota& q) {
  return ",\"quota_kb\":" + json_number(q.quota_kb) + ",\"quota_conns\":" +
         json_number(q.quota_conns) + ",\"quota_days\":" + json_number(q.quota_days) +
         ",\"ips_per_sec\":" + (q.ips_per_sec.empty() ? "null" : json_string(q.ips_per_sec));
}

/// The same for people: "1024 kB, 5 conns, 30 days, 2 IPs/60 s"; "-" when the relay set none.
std::string quota_text(const connector::relay_quota& q) {
  std::string t;
  auto add = [&t](const std::string& part) { t += (t.empty() ? "" : ", ") + part; };
  if (q.quota_kb) {
    add(std::to_string(*q.quota_kb) + " kB");
  }
  if (q.quota_conns) {
    add(std::to_string(*q.quota_conns) + " conns");
  }
  if (q.quota_days) {
    add(std::to_string(*q.quota_days) + " days");
  }
  if (const auto slash = q.ips_per_sec.find('/'); slash != std::string::npos) {
    add(q.ips_per_sec.substr(0, slash) + " IPs/" + q.ips_per_sec.substr(slash + 1) + " s");
  }
  return t.empty() ? "-" : t;
}

}  // namespace

std::string connector_metrics(const connector::connector_snapshot& s,
                              const config::connector_config& cfg, const page_options& o) {
  metrics::exposition e;
  const auto up = e.declare("kiteline_connector_relay_up",
                            "1 when the relay's tunnel is live (at least one kite accepted).",
                            metric_type::gauge);
  for (const auto& r : s.relays) {
    e.add(up, {{"relay", r.status.label}}, r.status.live ? 1 : 0);
  }
  const auto ping = e.declare("kiteline_connector_relay_ping_seconds",
                              "Round-trip time of the last relay ping.", metric_type::gauge);
  for (const auto& r : s.relays) {
    if (r.status.ping_rtt.count() >= 0) {
      e.add(ping, {{"relay", r.status.label}},
            static_cast<double>(r.status.ping_rtt.count()) / 1e6);
    }
  }
  const auto streams = e.declare("kiteline_connector_relay_streams",
                                 "Streams open in the relay's tunnel.", metric_type::gauge);
  for (const auto& r : s.relays) {
    e.add(streams, {{"relay", r.status.label}}, static_cast<double>(r.streams));
  }
  std::size_t live_kites = 0;
  for (std::size_t i = 0; i < cfg.services.size(); ++i) {
    live_kites += live_on(s, i).empty() ? 0U : 1U;
  }
  e.add("kiteline_connector_kites_live", "Kites live on at least one relay.", metric_type::gauge,
        static_cast<double>(live_kites));
  e.add("kiteline_connector_connect_attempts_total", "Connection attempts to relays.",
        metric_type::counter, static_cast<double>(s.attempts));
  e.add("kiteline_connector_reconnects_total", "Retries after a failed or lost tunnel.",
        metric_type::counter, static_cast<double>(s.reconnects));
  e.add("kiteline_connector_tunnels_lost_total", "Tunnels that ended after going live.",
        metric_type::counter, static_cast<double>(s.tunnels_lost));
  e.add("kiteline_connector_kites_rejected_total", "Kites a relay refused.",
        metric_type::counter, static_cast<double>(s.kites_rejected));
  const auto st = e.declare("kiteline_connector_streams_total",
                            "Streams relays opened, by result.", metric_type::counter);
  e.add(st, {{"result", "origin"}}, static_cast<double>(s.origin_connects));
  e.add(st, {{"result", "refused"}}, static_cast<double>(s.streams_refused));
  e.add("kiteline_connector_origin_failures_total", "Origin connections that failed.",
        metric_type::counter, static_cast<double>(s.origin_failures));
  e.add("kiteline_connector_streams", "Streams open to origins (or being dialed).",
        metric_type::gauge, static_cast<double>(s.origin_streams));
  if (o.metrics_per_kite) {
    const auto pk = e.declare("kiteline_connector_kite_up",
                              "1 when the kite is live on at least one relay.",
                              metric_type::gauge);
    for (std::size_t i = 0; i < cfg.services.size(); ++i) {
      if (cfg.services[i].enabled) {
        e.add(pk, {{"kite", cfg.services[i].kite_name}, {"proto", cfg.services[i].proto}},
              live_on(s, i).empty() ? 0 : 1);
      }
    }
  }
  if (o.process_metrics) {
    add_process_metrics(e, o.version);
  }
  return e.text();
}

std::string connector_json(const connector::connector_snapshot& s,
                           const config::connector_config& cfg) {
  std::string j = "{\"role\":\"connector\",\"started\":" + json_string(utc_time(s.started)) +
                  ",\"uptime_seconds\":" + std::to_string(uptime(s).count()) + ",\"relays\":[";
  for (std::size_t i = 0; i < s.relays.size(); ++i) {
    const auto& r = s.relays[i];
    j += std::string(i ? "," : "") + "{\"relay\":" + json_string(r.status.label) +
         ",\"state\":" + json_string(state_of(r.status)) +
         ",\"relay_id\":" + json_string(r.status.uuid) + ",\"ping_seconds\":" +
         (r.status.ping_rtt.count() < 0
              ? std::string("null")
              : metrics::format_value(static_cast<double>(r.status.ping_rtt.count()) / 1e6)) +
         ",\"streams\":" + std::to_string(r.streams) +
         ",\"last_error\":" + json_string(r.status.last_error) + quota_json(r.status.quota) +
         "}";
  }
  j += "],\"kites\":[";
  bool first = true;
  for (std::size_t i = 0; i < cfg.services.size(); ++i) {
    const auto& sv = cfg.services[i];
    if (!sv.enabled) {
      continue;
    }
    const auto on = live_on(s, i);
    j += std::string(first ? "" : ",") + "{\"kite\":" + json_string(sv.kite_name) +
         ",\"proto\":" + json_string(sv.proto) + ",\"url\":" + json_string(public_url(sv)) +
         ",\"live_on\":[";
    for (std::size_t k = 0; k < on.size(); ++k) {
      j += (k ? "," : "") + json_string(on[k]);
    }
    j += "]}";
    first = false;
  }
  j += "],\"requests\":[";
  for (std::size_t i = 0; i < s.requests.size(); ++i) {
    const auto& r = s.requests[i];
    j += std::string(i ? "," : "") + "{\"time\":" + json_string(utc_time(r.when)) +
         ",\"relay\":" + json_string(r.relay) + ",\"kite\":" + json_string(r.kite) +
         ",\"remote\":" + json_string(r.remote) + ",\"outcome\":" + json_string(r.outcome) + "}";
  }
  return j + "]}\n";
}

std::string connector_html(const connector::connector_snapshot& s,
                           const config::connector_config& cfg) {
  std::string b = "<h1>kiteline connector</h1>\n<p class=\"meta\">Up " +
                  html(duration_text(uptime(s))) + " (since " + html(utc_time(s.started)) +
                  ") &middot; " + std::to_string(s.workers) + " worker(s)</p>\n";
  b += "<h2 id=\"relays\">Relays</h2>\n<table><tr><th>Relay</th><th>State</th><th>Ping</th>"
       "<th>Relay id</th><th>Streams</th><th>Quota</th><th>Last error</th></tr>\n";
  for (const auto& r : s.relays) {
    const std::string state = state_of(r.status);
    b += "<tr><td>" + html(r.status.label) + "</td><td class=\"" +
         (r.status.live ? "up" : "down") + "\">" + html(state) + "</td><td class=\"n\">" +
         html(ping_text(r.status)) + "</td><td><code>" + html(r.status.uuid.substr(0, 12)) +
         "</code></td><td class=\"n\">" + std::to_string(r.streams) + "</td><td>" +
         html(quota_text(r.status.quota)) + "</td><td>" + html(r.status.last_error) +
         "</td></tr>\n";
  }
  b += "</table>\n<h2 id=\"kites\">Kites</h2>\n<table><tr><th>Kite</th><th>Public URL</th>"
       "<th>State</th><th>Relays</th></tr>\n";
  for (std::size_t i = 0; i < cfg.services.size(); ++i) {
    const auto& sv = cfg.services[i];
    if (!sv.enabled) {
      continue;
    }
    const auto on = live_on(s, i);
    std::string relays;
    for (const auto& r : on) {
      relays += (relays.empty() ? "" : ", ") + r;
    }
    b += "<tr><td>" + html(sv.proto + ":" + sv.kite_name) + "</td><td><code>" +
         html(public_url(sv)) + "</code></td><td class=\"" + (on.empty() ? "down" : "up") +
         "\">" + (on.empty() ? "down" : "live") + "</td><td>" + html(relays) + "</td></tr>\n";
  }
  b += "</table>\n<h2 id=\"requests\">Recent requests</h2>\n";
  if (s.requests.empty()) {
    b += "<p class=\"empty\">None yet.</p>\n";
  } else {
    b += "<table><tr><th>Time</th><th>Relay</th><th>Kite</th><th>Visitor</th><th>Outcome</th>"
         "</tr>\n";
    for (const auto& r : s.requests) {
      b += "<tr><td>" + html(utc_time(r.when)) + "</td><td>" + html(r.relay) + "</td><td>" +
           html(r.kite) + "</td><td>" + html(r.remote) + "</td><td>" + html(r.outcome) +
           "</td></tr>\n";
    }
    b += "</table>\n";
  }
  return html_page("kiteline connector", b);
}

std::string connector_dump(const connector::connector_snapshot& s,
                           const config::connector_config& cfg) {
  std::string d = "state dump: connector uptime=" + std::to_string(uptime(s).count()) +
                  "s relays=" + std::to_string(s.relays.size()) +
                  " streams=" + std::to_string(s.origin_streams) +
                  (s.complete ? "" : " (incomplete: a worker did not answer)");
  for (const auto& r : s.relays) {
    d += "\nstate dump: relay " + r.status.label + " state=" + state_of(r.status) +
         " ping=" + ping_text(r.status) + " streams=" + std::to_string(r.streams) +
         " tunnel_received=" + std::to_string(r.tunnel_received) +
         " tunnel_sent=" + std::to_string(r.tunnel_sent) +
         (r.status.quota.quota_kb ? " quota_kb=" + std::to_string(*r.status.quota.quota_kb) : "");
  }
  for (std::size_t i = 0; i < cfg.services.size(); ++i) {
    if (!cfg.services[i].enabled) {
      continue;
    }
    const auto on = live_on(s, i);
    d += "\nstate dump: kite " + cfg.services[i].proto + ":" + cfg.services[i].kite_name +
         " url=" + public_url(cfg.services[i]) + " live_on=" + std::to_string(on.size());
  }
  return d;
}

}  // namespace kiteline::console
