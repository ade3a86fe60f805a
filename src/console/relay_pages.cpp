#include "console/relay_pages.hpp"

#include <map>

#include "console/format.hpp"
#include "metrics/exposition.hpp"

namespace kiteline::console {

using metrics::metric_type;

std::string_view key_proto(std::string_view key) noexcept {
  std::string_view p = key.substr(0, key.find(':'));
  return p.substr(0, p.find('-'));
}

namespace {

std::chrono::seconds uptime(const relay::relay_snapshot& s) {
  return std::chrono::duration_cast<std::chrono::seconds>(s.taken - s.started);
}

std::string kites_joined(const relay::tunnel_snapshot& t) {
  std::string out;
  for (const auto& k : t.kites) {
    out += (out.empty() ? "" : ", ") + k;
  }
  return out;
}

void add_fleet_metrics(metrics::exposition& e, const relay::fleet_snapshot& f) {
  e.add("kiteline_relay_fleet_forwarded_total",
        "Visitors forwarded to the fleet relay that holds their kite.", metric_type::counter,
        static_cast<double>(f.forwarded));
  const auto ff = e.declare("kiteline_relay_fleet_forward_failures_total",
                            "Visitors not forwarded: no holder known, or no holder reachable.",
                            metric_type::counter);
  for (std::size_t i = 0; i < relay::forward_failure_count; ++i) {
    e.add(ff, {{"reason", std::string(relay::name_of(static_cast<relay::forward_failure>(i)))}},
          static_cast<double>(f.forward_failed[i]));
  }
  e.add("kiteline_relay_fleet_peer_visitors_total",
        "Visitors accepted on the fleet peer port (forwarded here by another relay).",
        metric_type::counter, static_cast<double>(f.peer_accepted));
  const auto pr = e.declare("kiteline_relay_fleet_peer_refused_total",
                            "Connections the fleet peer port refused, by reason.",
                            metric_type::counter);
  for (std::size_t i = 0; i < relay::peer_refusal_count; ++i) {
    e.add(pr, {{"reason", std::string(relay::name_of(static_cast<relay::peer_refusal>(i)))}},
          static_cast<double>(f.peer_refused[i]));
  }
  if (!f.publishing) {
    return;
  }
  e.add("kiteline_relay_fleet_kites_published",
        "Kite names the fleet zone holds with this relay's address (last update or zone read).",
        metric_type::gauge, static_cast<double>(f.kites_published));
  e.add("kiteline_relay_fleet_in_pool", "1 while the fleet zone has this relay in fe.ZONE.",
        metric_type::gauge, f.in_pool ? 1.0 : 0.0);
  const auto up = e.declare("kiteline_relay_fleet_dns_updates_total",
                            "RFC 2136 UPDATEs sent to --fleet_dns, by result (failed: no or a "
                            "bad answer, retried; refused: REFUSED, NOTAUTH or a TSIG error).",
                            metric_type::counter);
  e.add(up, {{"result", "ok"}}, static_cast<double>(f.updates_ok));
  e.add(up, {{"result", "failed"}}, static_cast<double>(f.updates_failed));
  e.add(up, {{"result", "refused"}}, static_cast<double>(f.updates_refused));
  e.add("kiteline_relay_fleet_zone_reads_total", "Zone transfers of the fleet zone read.",
        metric_type::counter, static_cast<double>(f.zone_reads));
  e.add("kiteline_relay_fleet_peers_removed_total",
        "Silent fleet relays whose records this relay deleted.", metric_type::counter,
        static_cast<double>(f.peers_removed));
}

}  // namespace

std::string relay_metrics(const relay::relay_snapshot& s, const page_options& o) {
  metrics::exposition e;
  std::size_t streams = 0;
  std::uint64_t buffered = 0;
  std::uint64_t outbox = 0;
  std::map<std::string, std::size_t> kites_by_proto{{"http", 0}, {"https", 0}, {"raw", 0}};
  std::map<std::string, std::size_t> tunnels_by_kite;
  for (const auto& t : s.tunnels) {
    streams += t.streams;
    buffered += t.buffered;
    outbox += t.outbox;
    for (const auto& k : t.kites) {
      ++kites_by_proto[std::string(key_proto(k))];
      ++tunnels_by_kite[k];
    }
  }
  e.add("kiteline_relay_tunnels", "Live tunnels (connectors with a completed handshake).",
        metric_type::gauge, static_cast<double>(s.tunnels.size()));
  const auto kites = e.declare("kiteline_relay_kites", "Kites registered, by protocol.",
                               metric_type::gauge);
  for (const auto& [proto, n] : kites_by_proto) {
    e.add(kites, {{"proto", proto}}, static_cast<double>(n));
  }
  const auto hs = e.declare("kiteline_relay_tunnel_handshakes_total",
                            "Tunnel handshakes, by result.", metric_type::counter);
  e.add(hs, {{"result", "ok"}}, static_cast<double>(s.tunnels_up));
  e.add(hs, {{"result", "refused"}}, static_cast<double>(s.handshakes_refused));
  e.add("kiteline_relay_tunnels_closed_total", "Tunnels that ended.", metric_type::counter,
        static_cast<double>(s.tunnels_down));
  e.add("kiteline_relay_connections_total", "TCP connections accepted on the relay's ports.",
        metric_type::counter, static_cast<double>(s.connections));
  e.add("kiteline_relay_pings_total", "Relay pings answered.", metric_type::counter,
        static_cast<double>(s.pings));
  const auto vc = e.declare("kiteline_relay_visitor_connections_total",
                            "Visitor connections, by protocol and result.", metric_type::counter);
  for (std::size_t p = 0; p < relay::visitor_proto_count; ++p) {
    for (std::size_t r = 0; r < relay::visitor_result_count; ++r) {
      e.add(vc,
            {{"proto", std::string(relay::name_of(static_cast<relay::visitor_proto>(p)))},
             {"result", std::string(relay::name_of(static_cast<relay::visitor_result>(r)))}},
            static_cast<double>(s.visitors[p][r]));
    }
  }
  e.add("kiteline_relay_visitor_received_bytes_total", "Bytes read from visitors.",
        metric_type::counter, static_cast<double>(s.visitor_received));
  e.add("kiteline_relay_visitor_sent_bytes_total", "Bytes written to visitors.",
        metric_type::counter, static_cast<double>(s.visitor_sent));
  e.add("kiteline_relay_tunnel_received_bytes_total", "Bytes read from tunnels (framing included).",
        metric_type::counter, static_cast<double>(s.tunnel_received));
  e.add("kiteline_relay_tunnel_sent_bytes_total", "Bytes written to tunnels (framing included).",
        metric_type::counter, static_cast<double>(s.tunnel_sent));
  e.add("kiteline_relay_streams", "Visitor streams open in tunnels.", metric_type::gauge,
        static_cast<double>(streams));
  e.add("kiteline_relay_visitor_buffered_bytes",
        "Bytes received from tunnels waiting to be written to visitors.", metric_type::gauge,
        static_cast<double>(buffered));
  e.add("kiteline_relay_tunnel_outbox_bytes", "Bytes waiting to be written to tunnels.",
        metric_type::gauge, static_cast<double>(outbox));
  e.add("kiteline_relay_workers", "Worker threads.", metric_type::gauge,
        static_cast<double>(s.workers));
  if (s.fleet) {
    add_fleet_metrics(e, *s.fleet);
  }
  if (o.metrics_per_kite) {
    const auto pk = e.declare("kiteline_relay_kite_tunnels", "Tunnels serving each kite.",
                              metric_type::gauge);
    for (const auto& [kite, n] : tunnels_by_kite) {
      e.add(pk, {{"kite", kite}}, static_cast<double>(n));
    }
  }
  if (o.process_metrics) {
    add_process_metrics(e, o.version);
  }
  return e.text();
}

std::string relay_json(const relay::relay_snapshot& s) {
  std::string j = "{\"role\":\"relay\",\"relay_id\":" + json_string(s.uuid) +
                  ",\"started\":" + json_string(utc_time(s.started)) +
                  ",\"uptime_seconds\":" + std::to_string(uptime(s).count()) + ",\"ports\":[";
  for (std::size_t i = 0; i < s.ports.size(); ++i) {
    j += (i ? "," : "") + std::to_string(s.ports[i]);
  }
  j += "],\"complete\":" + std::string(s.complete ? "true" : "false") + ",\"tunnels\":[";
  for (std::size_t i = 0; i < s.tunnels.size(); ++i) {
    const auto& t = s.tunnels[i];
    j += std::string(i ? "," : "") + "{\"id\":" + std::to_string(t.id) +
         ",\"peer\":" + json_string(t.peer) + ",\"kites\":[";
    for (std::size_t k = 0; k < t.kites.size(); ++k) {
      j += (k ? "," : "") + json_string(t.kites[k]);
    }
    j += "],\"since\":" + json_string(utc_time(t.since)) +
         ",\"tls\":" + json_string(t.tls) + ",\"streams\":" + std::to_string(t.streams) +
         ",\"tunnel_received_bytes\":" + std::to_string(t.tunnel_received) +
         ",\"tunnel_sent_bytes\":" + std::to_string(t.tunnel_sent) +
         ",\"visitor_received_bytes\":" + std::to_string(t.visitor_received) +
         ",\"visitor_sent_bytes\":" + std::to_string(t.visitor_sent) + "}";
  }
  j += "],\"kites\":[";
  bool first = true;
  for (const auto& t : s.tunnels) {
    for (const auto& k : t.kites) {
      j += std::string(first ? "" : ",") + "{\"kite\":" + json_string(k) +
           ",\"tunnel\":" + std::to_string(t.id) + "}";
      first = false;
    }
  }
  j += "],\"refusals\":[";
  for (std::size_t i = 0; i < s.refusals.size(); ++i) {
    const auto& r = s.refusals[i];
    j += std::string(i ? "," : "") + "{\"time\":" + json_string(utc_time(r.when)) +
         ",\"what\":" + json_string(r.what) + ",\"name\":" + json_string(r.name) +
         ",\"peer\":" + json_string(r.peer) + ",\"reason\":" + json_string(r.reason) + "}";
  }
  j += "],\"visitor_received_bytes\":" + std::to_string(s.visitor_received) +
       ",\"visitor_sent_bytes\":" + std::to_string(s.visitor_sent);
  if (s.fleet) {
    const auto& f = *s.fleet;
    j += ",\"fleet\":{\"forwarded\":" + std::to_string(f.forwarded) +
         ",\"forward_failures\":" +
         std::to_string(f.forward_failed[0] + f.forward_failed[1]) +
         ",\"peer_visitors\":" + std::to_string(f.peer_accepted) +
         ",\"peer_refused\":" +
         std::to_string(f.peer_refused[0] + f.peer_refused[1] + f.peer_refused[2] +
                        f.peer_refused[3]);
    if (f.publishing) {
      j += ",\"kites_published\":" + std::to_string(f.kites_published) +
           ",\"in_pool\":" + std::string(f.in_pool ? "true" : "false") +
           ",\"dns_updates_ok\":" + std::to_string(f.updates_ok) +
           ",\"dns_updates_failed\":" + std::to_string(f.updates_failed) +
           ",\"dns_updates_refused\":" + std::to_string(f.updates_refused) +
           ",\"zone_reads\":" + std::to_string(f.zone_reads) +
           ",\"peers_removed\":" + std::to_string(f.peers_removed);
    }
    j += "}";
  }
  j += "}\n";
  return j;
}

std::string relay_html(const relay::relay_snapshot& s) {
  std::string b = "<h1>kiteline relay</h1>\n<p class=\"meta\">Relay id <code>" + html(s.uuid) +
                  "</code> &middot; up " + html(duration_text(uptime(s))) + " (since " +
                  html(utc_time(s.started)) + ") &middot; ports ";
  for (std::size_t i = 0; i < s.ports.size(); ++i) {
    b += (i ? ", " : "") + std::to_string(s.ports[i]);
  }
  b += " &middot; " + std::to_string(s.workers) + " worker(s)</p>\n";
  if (!s.complete) {
    b += "<p class=\"down\">A worker did not answer in time: some tunnels are missing.</p>\n";
  }
  b += "<h2 id=\"tunnels\">Tunnels (" + std::to_string(s.tunnels.size()) + ")</h2>\n";
  if (s.tunnels.empty()) {
    b += "<p class=\"empty\">No tunnel.</p>\n";
  } else {
    b += "<table><tr><th>#</th><th>Connector</th><th>Kites</th><th>Since</th>"
         "<th>From visitors</th><th>To visitors</th><th>Streams</th><th>TLS</th></tr>\n";
    for (const auto& t : s.tunnels) {
      b += "<tr><td class=\"n\">" + std::to_string(t.id) + "</td><td>" + html(t.peer) +
           "</td><td>" + html(kites_joined(t)) + "</td><td>" + html(utc_time(t.since)) +
           "</td><td class=\"n\">" + html(bytes_text(t.visitor_received)) +
           "</td><td class=\"n\">" + html(bytes_text(t.visitor_sent)) + "</td><td class=\"n\">" +
           std::to_string(t.streams) + "</td><td>" + html(t.tls.empty() ? "none" : t.tls) +
           "</td></tr>\n";
    }
    b += "</table>\n";
  }
  b += "<h2 id=\"kites\">Kites</h2>\n";
  std::string rows;
  for (const auto& t : s.tunnels) {
    for (const auto& k : t.kites) {
      rows += "<tr><td>" + html(k) + "</td><td class=\"up\">live</td><td class=\"n\">" +
              std::to_string(t.id) + "</td><td>" + html(t.peer) + "</td></tr>\n";
    }
  }
  b += rows.empty() ? "<p class=\"empty\">No kite.</p>\n"
                    : "<table><tr><th>Kite</th><th>State</th><th>Tunnel</th><th>Connector</th>"
                      "</tr>\n" + rows + "</table>\n";
  b += "<h2 id=\"refusals\">Recent refusals</h2>\n";
  if (s.refusals.empty()) {
    b += "<p class=\"empty\">None.</p>\n";
  } else {
    b += "<table><tr><th>Time</th><th>What</th><th>Name</th><th>Peer</th><th>Reason</th></tr>\n";
    for (const auto& r : s.refusals) {
      b += "<tr><td>" + html(utc_time(r.when)) + "</td><td>" + html(r.what) + "</td><td>" +
           html(r.name) + "</td><td>" + html(r.peer) + "</td><td>" + html(r.reason) +
           "</td></tr>\n";
    }
    b += "</table>\n";
  }
  b += "<h2>Traffic</h2>\n<p class=\"meta\">From visitors " +
       html(bytes_text(s.visitor_received)) + " &middot; to visitors " +
       html(bytes_text(s.visitor_sent)) + " &middot; " + std::to_string(s.connections) +
       " connections accepted</p>\n";
  return html_page("kiteline relay " + s.uuid.substr(0, 8), b);
}

std::string relay_dump(const relay::relay_snapshot& s) {
  std::size_t streams = 0;
  std::size_t kites = 0;
  for (const auto& t : s.tunnels) {
    streams += t.streams;
    kites += t.kites.size();
  }
  std::string d = "state dump: relay id=" + s.uuid + " uptime=" +
                  std::to_string(uptime(s).count()) + "s tunnels=" +
                  std::to_string(s.tunnels.size()) + " kites=" + std::to_string(kites) +
                  " streams=" + std::to_string(streams) +
                  (s.complete ? "" : " (incomplete: a worker did not answer)");
  for (const auto& t : s.tunnels) {
    d += "\nstate dump: tunnel id=" + std::to_string(t.id) + " worker=" +
         std::to_string(t.worker) + " peer=" + t.peer + " since=" + utc_time(t.since) +
         " streams=" + std::to_string(t.streams) + " visitor_received=" +
         std::to_string(t.visitor_received) + " visitor_sent=" + std::to_string(t.visitor_sent) +
         " buffered=" + std::to_string(t.buffered) + " tls=\"" + (t.tls.empty() ? "none" : t.tls) +
         "\"";
    for (const auto& k : t.kites) {
      d += "\nstate dump: kite " + k + " tunnel=" + std::to_string(t.id);
    }
  }
  return d;
}

}  // namespace kiteline::console
