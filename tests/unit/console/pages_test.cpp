// console pages: the relay's and the connector's metrics, JSON and HTML from snapshots.
#include <string>

#include <gtest/gtest.h>

#include "console/connector_pages.hpp"
#include "console/format.hpp"
#include "console/relay_pages.hpp"

namespace kiteline::console {
namespace {

relay::relay_snapshot sample_relay() {
  relay::relay_snapshot s;
  s.uuid = "0123456789abcdef";
  s.started = std::chrono::system_clock::time_point(std::chrono::seconds(1796600000));
  s.taken = s.started + std::chrono::seconds(3725);
  s.ports = {8080};
  s.workers = 2;
  relay::tunnel_snapshot t;
  t.id = 7;
  t.peer = "192.0.2.9";
  t.kites = {"http:foo.test", "raw-22:foo.test"};
  t.since = s.started + std::chrono::seconds(5);
  t.visitor_received = 1000;
  t.visitor_sent = 3000;
  t.streams = 2;
  t.tls = "TLSv1.3 TLS_AES_128_GCM_SHA256";
  s.tunnels.push_back(t);
  s.visitor_received = 5000;
  s.visitor_sent = 9000;
  s.tunnels_up = 3;
  s.handshakes_refused = 1;
  s.visitors[0][0] = 11;  // http routed
  s.refusals.push_back({s.taken, "kite", "http:<script>alert(1)</script>.test", "198.51.100.1",
                        "bad signature"});
  return s;
}

TEST(relay_pages, metrics_families_and_values) {
  const std::string m = relay_metrics(sample_relay(), {false, "1.2.3", false});
  EXPECT_NE(m.find("# TYPE kiteline_relay_tunnels gauge\nkiteline_relay_tunnels 1\n"),
            std::string::npos) << m;
  EXPECT_NE(m.find("kiteline_relay_kites{proto=\"http\"} 1\n"), std::string::npos);
  EXPECT_NE(m.find("kiteline_relay_kites{proto=\"raw\"} 1\n"), std::string::npos);
  EXPECT_NE(m.find("kiteline_relay_tunnel_handshakes_total{result=\"ok\"} 3\n"), std::string::npos);
  EXPECT_NE(m.find("kiteline_relay_tunnel_handshakes_total{result=\"refused\"} 1\n"),
            std::string::npos);
  EXPECT_NE(m.find("kiteline_relay_visitor_connections_total{proto=\"http\",result=\"routed\"} 11\n"),
            std::string::npos);
  EXPECT_NE(m.find("kiteline_relay_visitor_received_bytes_total 5000\n"), std::string::npos);
  EXPECT_NE(m.find("kiteline_relay_visitor_sent_bytes_total 9000\n"), std::string::npos);
  EXPECT_NE(m.find("kiteline_relay_streams 2\n"), std::string::npos);
  // No address, stream id or kite name unless asked for.
  EXPECT_EQ(m.find("192.0.2.9"), std::string::npos);
  EXPECT_EQ(m.find("foo.test"), std::string::npos);
  const std::string per_kite = relay_metrics(sample_relay(), {true, "1.2.3", false});
  EXPECT_NE(per_kite.find("kiteline_relay_kite_tunnels{kite=\"http:foo.test\"} 1\n"),
            std::string::npos);
}

TEST(relay_pages, fleet_metrics_only_with_a_fleet) {
  auto s = sample_relay();
  EXPECT_EQ(relay_metrics(s, {false, "1.2.3", false}).find("fleet"), std::string::npos);
  EXPECT_EQ(relay_json(s).find("\"fleet\""), std::string::npos);
  relay::fleet_snapshot f;
  f.forwarded = 4;
  f.forward_failed[static_cast<std::size_t>(relay::forward_failure::no_holder)] = 2;
  f.peer_accepted = 3;
  f.peer_refused[static_cast<std::size_t>(relay::peer_refusal::bad_mac)] = 5;
  s.fleet = f;
  std::string m = relay_metrics(s, {false, "1.2.3", false});
  EXPECT_NE(m.find("# TYPE kiteline_relay_fleet_forwarded_total counter\n"
                   "kiteline_relay_fleet_forwarded_total 4\n"), std::string::npos) << m;
  EXPECT_NE(m.find("kiteline_relay_fleet_forward_failures_total{reason=\"no_holder\"} 2\n"),
            std::string::npos);
  EXPECT_NE(m.find("kiteline_relay_fleet_forward_failures_total{reason=\"holders_failed\"} 0\n"),
            std::string::npos);
  EXPECT_NE(m.find("kiteline_relay_fleet_peer_visitors_total 3\n"), std::string::npos);
  EXPECT_NE(m.find("kiteline_relay_fleet_peer_refused_total{reason=\"bad_mac\"} 5\n"),
            std::string::npos);
  EXPECT_EQ(m.find("kiteline_relay_fleet_in_pool"), std::string::npos);  // no publisher
  s.fleet->publishing = true;
  s.fleet->kites_published = 7;
  s.fleet->in_pool = true;
  s.fleet->updates_ok = 9;
  s.fleet->updates_refused = 1;
  s.fleet->zone_reads = 6;
  m = relay_metrics(s, {false, "1.2.3", false});
  EXPECT_NE(m.find("# TYPE kiteline_relay_fleet_kites_published gauge\n"
                   "kiteline_relay_fleet_kites_published 7\n"), std::string::npos) << m;
  EXPECT_NE(m.find("kiteline_relay_fleet_in_pool 1\n"), std::string::npos);
  EXPECT_NE(m.find("kiteline_relay_fleet_dns_updates_total{result=\"ok\"} 9\n"),
            std::string::npos);
  EXPECT_NE(m.find("kiteline_relay_fleet_dns_updates_total{result=\"refused\"} 1\n"),
            std::string::npos);
  EXPECT_NE(m.find("kiteline_relay_fleet_zone_reads_total 6\n"), std::string::npos);
  EXPECT_NE(m.find("kiteline_relay_fleet_peers_removed_total 0\n"), std::string::npos);
  const std::string j = relay_json(s);
  EXPECT_NE(j.find("\"fleet\":{\"forwarded\":4,\"forward_failures\":2,\"peer_visitors\":3,"
                   "\"peer_refused\":5,\"kites_published\":7,\"in_pool\":true,"), std::string::npos)
      << j;
}

TEST(relay_pages, html_escapes_every_value_and_has_no_script) {
  const std::string h = relay_html(sample_relay());
  EXPECT_EQ(h.find("<script"), std::string::npos);
  EXPECT_NE(h.find("http:&lt;script&gt;alert(1)&lt;/script&gt;.test"), std::string::npos);
  EXPECT_NE(h.find("0123456789abcdef"), std::string::npos);
  EXPECT_NE(h.find("up 1h 2m 5s"), std::string::npos);
  EXPECT_NE(h.find("<td>http:foo.test, raw-22:foo.test</td>"), std::string::npos);
  EXPECT_NE(h.find("TLSv1.3 TLS_AES_128_GCM_SHA256"), std::string::npos);
  EXPECT_EQ(h.find("http://"), std::string::npos);  // nothing loaded from elsewhere
}

TEST(relay_pages, json_and_dump) {
  const std::string j = relay_json(sample_relay());
  EXPECT_NE(j.find("\"relay_id\":\"0123456789abcdef\""), std::string::npos);
  EXPECT_NE(j.find("\"uptime_seconds\":3725"), std::string::npos);
  EXPECT_NE(j.find("\"name\":\"http:<script>alert(1)</script>.test\""), std::string::npos);
  const std::string d = relay_dump(sample_relay());
  EXPECT_EQ(d.substr(0, 60),
            std::string("state dump: relay id=0123456789abcdef uptime=3725s tunnels=1 ").substr(0, 60));
  EXPECT_NE(d.find("state dump: kite raw-22:foo.test tunnel=7"), std::string::npos);
}

TEST(console_format, json_strings_and_units) {
  EXPECT_EQ(json_string("a\"b\\c\n\x01"), "\"a\\\"b\\\\c\\n\\u0001\"");
  EXPECT_EQ(bytes_text(512), "512 B");
  EXPECT_EQ(bytes_text(1536), "1.5 KiB");
  EXPECT_EQ(duration_text(std::chrono::seconds(0)), "0s");
  EXPECT_EQ(duration_text(std::chrono::seconds(90061)), "1d 1h 1m 1s");
}

TEST(connector_pages, public_urls) {
  config::service s;
  s.kite_name = "foo.test";
  s.proto = "http";
  EXPECT_EQ(public_url(s), "http://foo.test/");
  s.public_port = 8080;
  EXPECT_EQ(public_url(s), "http://foo.test:8080/");
  s.proto = "https";
  s.public_port = std::nullopt;
  EXPECT_EQ(public_url(s), "https://foo.test/");
  s.proto = "raw";
  s.public_port = 22;
  EXPECT_EQ(public_url(s), "foo.test:22");
}

TEST(connector_pages, relays_kites_and_requests) {
  config::connector_config cfg;
  config::service s;
  s.kite_name = "foo.test";
  s.proto = "http";
  s.enabled = true;
  cfg.services.push_back(s);
  connector::connector_snapshot snap;
  connector::relay_snapshot r;
  r.status.label = "127.0.0.1:443";
  r.status.live = true;
  r.status.attempts = 1;
  r.status.ping_rtt = std::chrono::microseconds(1500);
  r.status.live_services = {0};
  snap.relays.push_back(r);
  snap.reconnects = 4;
  snap.requests.push_back({snap.taken, "127.0.0.1:443", "http:<b>x</b>:80", "203.0.113.5",
                           "origin 127.0.0.1:80"});
  const std::string m = connector_metrics(snap, cfg, {false, "1", false});
  EXPECT_NE(m.find("kiteline_connector_relay_up{relay=\"127.0.0.1:443\"} 1\n"), std::string::npos)
      << m;
  EXPECT_NE(m.find("kiteline_connector_relay_ping_seconds{relay=\"127.0.0.1:443\"} 0.0015\n"),
            std::string::npos);
  EXPECT_NE(m.find("kiteline_connector_reconnects_total 4\n"), std::string::npos);
  const std::string h = connector_html(snap, cfg);
  EXPECT_NE(h.find("http://foo.test/"), std::string::npos);
  EXPECT_NE(h.find("1.5 ms"), std::string::npos);
  EXPECT_NE(h.find("http:&lt;b&gt;x&lt;/b&gt;:80"), std::string::npos);
  EXPECT_EQ(h.find("<b>"), std::string::npos);
  const std::string j = connector_json(snap, cfg);
  EXPECT_NE(j.find("\"url\":\"http://foo.test/\",\"live_on\":[\"127.0.0.1:443\"]"),
            std::string::npos) << j;
}

// The relay's limits on the tunnel (--authdomain): pagekite.py's names in /status.json (null
// when the relay set none), a Quota column on the page, quota_kb in the state dump.
TEST(connector_pages, relay_quota_fields) {
  config::connector_config cfg;
  connector::connector_snapshot snap;
  connector::relay_snapshot plain;
  plain.status.label = "a.example:443";
  connector::relay_snapshot limited;
  limited.status.label = "b.example:443";
  limited.status.quota.quota_kb = 2048;
  limited.status.quota.quota_conns = 5;
  limited.status.quota.quota_days = 30;
  limited.status.quota.ips_per_sec = "2/3600";
  snap.relays = {plain, limited};
  const std::string j = connector_json(snap, cfg);
  EXPECT_NE(j.find("\"last_error\":\"\",\"quota_kb\":null,\"quota_conns\":null,"
                   "\"quota_days\":null,\"ips_per_sec\":null}"),
            std::string::npos)
      << j;
  EXPECT_NE(j.find("\"quota_kb\":2048,\"quota_conns\":5,\"quota_days\":30,"
                   "\"ips_per_sec\":\"2/3600\"}"),
            std::string::npos)
      << j;
  const std::string h = connector_html(snap, cfg);
  EXPECT_NE(h.find("<th>Quota</th>"), std::string::npos);
  EXPECT_NE(h.find("<td>2048 kB, 5 conns, 30 days, 2 IPs/3600 s</td>"), std::string::npos) << h;
  EXPECT_NE(h.find("<td>-</td>"), std::string::npos);
  const std::string d = connector_dump(snap, cfg);
  EXPECT_NE(d.find("relay b.example:443 state=starting"), std::string::npos) << d;
  EXPECT_NE(d.find(" quota_kb=2048"), std::string::npos) << d;
  EXPECT_EQ(d.find(" quota_kb=", d.find("relay a.example")), d.find(" quota_kb=2048"));
}

}  // namespace
}  // namespace kiteline::console
