// Tests of connector command lines: pk-backend.sh / bench words, service specs, TLS, presets.
#include <gtest/gtest.h>

#include <sstream>

#include "config/service_spec.hpp"
#include "config_test_support.hpp"

namespace kiteline::config {
namespace {

using test::dump;
using test::mentions;
using test::parse;
using test::temp_dir;

// The words pk-backend.sh FRONTEND KITES PORTS SECRET [tls] passes.
std::vector<std::string> pk_backend_args(const std::string& frontend, const std::string& kites,
                                         const std::string& ports, const std::string& secret_text,
                                         const std::string& log, const std::string& ca = {}) {
  std::vector<std::string> args{"--clean", "--nullui", "--frontend=" + frontend,
                                "--logfile=" + log};
  std::stringstream ks(kites);
  std::stringstream ps(ports);
  std::string kite;
  std::string port;
  while (std::getline(ks, kite, ',') && std::getline(ps, port, ',')) {
    std::string proto = "http";
    std::string name = kite;
    if (const auto colon = kite.find(':'); colon != std::string::npos) {
      proto = kite.substr(0, colon);
      name = kite.substr(colon + 1);
    }
    args.push_back("--service_on=" + proto + ":" + name + ":127.0.0.1:" + port + ":" +
                   secret_text);
  }
  if (!ca.empty()) {
    args.push_back("--fe_certname=fe.test");
    args.push_back("--ca_certs=" + ca);
  }
  return args;
}

service make_service(std::string proto, std::optional<std::uint16_t> public_port,
                     std::string kite, std::string host, std::uint16_t port, std::string secret_text,
                     std::string origin) {
  service s;
  s.proto = std::move(proto);
  s.public_port = public_port;
  s.kite_name = std::move(kite);
  s.origin_host = std::move(host);
  s.origin_port = port;
  s.kite_secret = secret(std::move(secret_text));
  s.origin = std::move(origin);
  return s;
}

TEST(connector_parse, pk_backend_plain) {
  const auto out = parse(pk_backend_args("127.0.0.1:27080", "foo.test", "8080", "SECRET", "stdio"));
  ASSERT_TRUE(out.ok()) << dump(out.errors);
  EXPECT_TRUE(out.warnings.empty()) << dump(out.warnings);
  EXPECT_EQ(out.what, action::run_connector);
  ASSERT_TRUE(out.connector);
  EXPECT_FALSE(out.relay);
  connector_config want;
  want.frontends = {frontend_address{"127.0.0.1", 27080, "argv[3]"}};
  want.services = {
      make_service("http", std::nullopt, "foo.test", "127.0.0.1", 8080, "SECRET", "argv[5]")};
  want.kitename = "foo.test";
  want.kitesecret = secret("SECRET");
  want.process.logfile = "stdio";
  EXPECT_EQ(*out.connector, want);
}

TEST(connector_parse, pk_backend_several_kites_and_ipv6_frontend) {
  const auto out = parse(pk_backend_args("::1:27080", "foo.test,http:bar.test,raw/22:ssh.test,"
                                         "https:tls.test",
                                         "8080,8081,22,8443", "S", "stdio"));
  ASSERT_TRUE(out.ok()) << dump(out.errors);
  const connector_config& c = *out.connector;
  EXPECT_EQ(c.frontends, (std::vector<frontend_address>{{"::1", 27080, "argv[3]"}}));
  const std::vector<service> want{
      make_service("http", std::nullopt, "foo.test", "127.0.0.1", 8080, "S", "argv[5]"),
      make_service("http", std::nullopt, "bar.test", "127.0.0.1", 8081, "S", "argv[6]"),
      make_service("raw", 22, "ssh.test", "127.0.0.1", 22, "S", "argv[7]"),
      make_service("https", std::nullopt, "tls.test", "127.0.0.1", 8443, "S", "argv[8]")};
  EXPECT_EQ(c.services, want);
  EXPECT_EQ(c.services[2].id(), "raw-22:ssh.test");
}

TEST(connector_parse, pk_backend_tls_and_bench_chain) {
  temp_dir dir;
  const std::string ca = dir.write("pk-state/fe.crt", "cert");
  const auto out = parse(pk_backend_args("127.0.0.1:29100", "bench.test", "8080", "bench-s3cret",
                                         dir.file("backend.log"), ca));
  ASSERT_TRUE(out.ok()) << dump(out.errors);
  EXPECT_TRUE(out.warnings.empty()) << dump(out.warnings);
  const connector_config& c = *out.connector;
  EXPECT_EQ(c.fe_certnames, (std::vector<cert_name>{{"fe.test", std::nullopt}}));
  EXPECT_EQ(c.ca_certs, ca);
  EXPECT_FALSE(c.fe_nocertcheck);
  EXPECT_EQ(c.services[0].kite_name, "bench.test");
  EXPECT_EQ(c.services[0].kite_secret.reveal(), "bench-s3cret");
}

TEST(connector_parse, pk_extra_options) {
  auto args = pk_backend_args("127.0.0.1:27080", "foo.test", "8080", "S", "stdio");
  for (const char* extra : {"--nozchunks", "--keepalive=10", "--fe_nocertcheck"}) {
    args.emplace_back(extra);
  }
  const auto out = parse(args);
  ASSERT_TRUE(out.ok()) << dump(out.errors);
  EXPECT_TRUE(out.connector->process.nozchunks);
  EXPECT_EQ(out.connector->keepalive, std::chrono::seconds(20));
  EXPECT_TRUE(out.connector->fe_nocertcheck);
  ASSERT_EQ(out.warnings.size(), 2u) << dump(out.warnings);
  EXPECT_EQ(out.warnings[0].to_string(),
            "argv[7]: keepalive: raised to the minimum of 20 seconds (as pagekite.py does)");
  EXPECT_EQ(out.warnings[1].to_string(),
            "argv[8]: fe_nocertcheck: relay certificates will NOT be verified");
}

TEST(connector_parse, frontend_forms) {
  const auto out = parse({"--frontend=relay.example", "--frontend=[::1]:443",
                          "--frontend=[2001:db8::1]", "--frontend=::1:27080",
                          "--frontend=10.0.0.1:80", "--service_on=http:a.example:localhost:80:S"});
  ASSERT_TRUE(out.ok()) << dump(out.errors);
  std::vector<std::string> got;
  for (const auto& f : out.connector->frontends) {
    got.push_back(f.host + "|" + std::to_string(f.port));
  }
  EXPECT_EQ(got, (std::vector<std::string>{"relay.example|443", "::1|443", "2001:db8::1|443",
                                           "::1|27080", "10.0.0.1|80"}));
  const auto bad = parse({"--frontend=fe80::1", "--frontend=h:0", "--frontend=:80",
                          "--frontend=[::1", "--service_on=http:a.example:localhost:80:S"});
  EXPECT_EQ(bad.errors.size(), 5u) << dump(bad.errors);  // 4 + "no relay to connect to"
}

TEST(connector_parse, frontends_pool) {
  const auto ok = parse({"--frontends=2:Relays.Example:443", "--kitesecret=S", "80", "a.example"});
  ASSERT_TRUE(ok.ok()) << dump(ok.errors);
  EXPECT_EQ(ok.connector->pool, (frontend_pool{2, "relays.example", "", 443}));
  const auto file = parse({"--frontends=1:@/etc/relays:8443", "--kitesecret=S", "a.example"});
  ASSERT_TRUE(file.ok()) << dump(file.errors);
  EXPECT_EQ(file.connector->pool, (frontend_pool{1, "", "/etc/relays", 8443}));
  const auto bad = parse({"--frontends=0:x.example:443", "--frontends=1:x.example",
                          "--frontends=a:x.example:1", "--kitesecret=S", "a.example"});
  EXPECT_EQ(bad.errors.size(), 4u) << dump(bad.errors);  // 3 + "no relay to connect to"
}

TEST(connector_parse, whitelabel_and_defaults_presets) {
  const auto out = parse({"--whitelabel=Example.NET", "--kitesecret=S", "a.example.net"});
  ASSERT_TRUE(out.ok()) << dump(out.errors);
  const connector_config& c = *out.connector;
  EXPECT_EQ(c.pool, (frontend_pool{1, "fe4_152.example.net", "", 443}));
  std::vector<std::string> names;
  for (const auto& n : c.fe_certnames) {
    names.push_back(n.name);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"fe.example.net", "example.net", "b5p.us",
                                             "frontends.b5p.us", "pagekite.net", "pagekite.me",
                                             "pagekite.com", "pagekite.org", "testing.is",
                                             "302.is"}));
  EXPECT_EQ(c.error_url, "http://www.example.net/offline/?");
  EXPECT_TRUE(out.warnings.empty());
  ASSERT_TRUE(c.dyndns);
  EXPECT_EQ(c.dyndns->url_template,
            "http://dnsup.example.net/?hostname=%(domain)s&myip=%(ips)s&sign=%(sign)s");

  const auto secure = parse({"--whitelabels=example.net", "--kitesecret=S", "a.example.net"});
  EXPECT_EQ(secure.connector->error_url, "https://www.example.net/offline/?");
  EXPECT_EQ(secure.connector->dyndns->url_template,
            "https://dnsup.example.net/?hostname=%(domain)s&myip=%(ips)s&sign=%(sign)s");

  const auto defaults = parse({"--defaults", "--kitesecret=S", "a.pagekite.me"});
  ASSERT_TRUE(defaults.ok()) << dump(defaults.errors);
  EXPECT_EQ(defaults.connector->pool, (frontend_pool{1, "fe4_152.b5p.us", "", 443}));
  EXPECT_EQ(defaults.connector->fe_certnames.size(), 8u);
  EXPECT_EQ(defaults.connector->fe_certnames[0].name, "b5p.us");
  EXPECT_EQ(defaults.connector->error_url, "https://pagekite.net/offline/?");
  ASSERT_TRUE(defaults.connector->dyndns);
  EXPECT_EQ(defaults.connector->dyndns->url_template,
            "http://up.pagekite.net/?hostname=%(domain)s&myip=%(ips)s&sign=%(sign)s");
  // A later --dyndns replaces the preset's; an empty one turns updates off (pagekite.py).
  const auto off = parse({"--defaults", "--dyndns=", "--kitesecret=S", "a.pagekite.me"});
  ASSERT_TRUE(off.ok()) << dump(off.errors);
  EXPECT_FALSE(off.connector->dyndns);
}

TEST(connector_parse, dyndns_forms) {
  const auto one = [](const std::string& v) {
    return parse({"--dyndns=" + v, "--frontend=x:1", "--kitesecret=S", "k.example"});
  };
  const auto named = one("beanstalks.net");
  ASSERT_TRUE(named.ok()) << dump(named.errors);
  EXPECT_EQ(named.connector->dyndns->url_template,
            "http://up.b5p.us/?hostname=%(domain)s&myip=%(ips)s&sign=%(sign)s");
  EXPECT_EQ(named.connector->dyndns->user, "");
  EXPECT_EQ(named.connector->dyndns->origin, "argv[1]");

  const auto dyn = one("me:p@ss:w@dyndns.org");  // split at the last '@', then the first ':'
  ASSERT_TRUE(dyn.ok()) << dump(dyn.errors);
  EXPECT_EQ(dyn.connector->dyndns->user, "me");
  EXPECT_EQ(dyn.connector->dyndns->password.reveal(), "p@ss:w");
  EXPECT_EQ(dyn.connector->dyndns->url_template,
            "https://%(user)s:%(pass)s@members.dyndns.org/nic/update?wildcard=NOCHG&backmx=NOCHG"
            "&hostname=%(domain)s&myip=%(ip)s");
  const auto noip = one("me@no-ip.com");
  ASSERT_TRUE(noip.ok()) << dump(noip.errors);
  EXPECT_EQ(noip.connector->dyndns->user, "me");
  EXPECT_TRUE(noip.connector->dyndns->password.empty());
  EXPECT_EQ(noip.connector->dyndns->url_template,
            "https://%(user)s:%(pass)s@dynupdate.no-ip.com/nic/update?hostname=%(domain)s"
            "&myip=%(ip)s");

  const std::string url =
      "http://127.0.0.1:8/u?h=%(domain)s&ip=%(ip)s&all=%(ips)s&s=%(sign)s&x=100%%";
  const auto tmpl = parse({"-D", url, "--frontend=x:1", "--kitesecret=S", "k.example"});
  ASSERT_TRUE(tmpl.ok()) << dump(tmpl.errors);
  EXPECT_EQ(tmpl.connector->dyndns->url_template, url);

  for (const char* bad : {"example.org", "me:pw@example.org", "ftp://x/",
                          "http://x/?a=%(host)s", "http://x/?a=%s", "http://x/?a=%(domain",
                          "http://x/100%"}) {
    const auto out = one(bad);
    ASSERT_EQ(out.errors.size(), 1u) << bad << dump(out.errors);
    EXPECT_EQ(out.errors[0].key, "dyndns") << bad;
  }
}

TEST(connector_parse, fe_certname_pins_and_clearing) {
  const std::string pin = "0123456789ABCDEF0123456789abcdef01234567";
  const auto out = parse({"--fe_certname=A.example", "--fe_certname=a.example",
                          "--fe_certname=pinned.example/" + pin, "--frontend=x:1",
                          "--kitesecret=S", "k.example"});
  ASSERT_TRUE(out.ok()) << dump(out.errors);
  EXPECT_EQ(out.connector->fe_certnames,
            (std::vector<cert_name>{{"a.example", std::nullopt},
                                    {"pinned.example", "0123456789abcdef0123456789abcdef01234567"}}));
  const auto cleared = parse({"--fe_certname=a.example", "--fe_certname=", "--fe_certname=b.x",
                              "--frontend=x:1", "--kitesecret=S", "k.example"});
  ASSERT_TRUE(cleared.ok()) << dump(cleared.errors);
  EXPECT_EQ(cleared.connector->fe_certnames, (std::vector<cert_name>{{"b.x", std::nullopt}}));
  const auto bad = parse({"--fe_certname=a.example/1234", "--frontend=x:1", "--kitesecret=S",
                          "k.example"});
  ASSERT_EQ(bad.errors.size(), 1u);
  EXPECT_EQ(bad.errors[0].key, "fe_certname");
}

TEST(connector_parse, service_spec_forms) {
  struct row {
    const char* spec;
    const char* proto;
    std::optional<std::uint16_t> public_port;
    const char* kite;
    const char* host;
    std::uint16_t port;
    const char* secret_text;
  };
  const row rows[] = {
      {"http:Foo.Example:127.0.0.1:8080:S", "http", std::nullopt, "foo.example", "127.0.0.1",
       8080, "S"},
      {"http-8080:foo.example:localhost:80:S", "http", 8080, "foo.example", "localhost", 80, "S"},
      {"http/8080:foo.example:localhost:80:S", "http", 8080, "foo.example", "localhost", 80, "S"},
      {"https:foo.example:localhost:8443", "https", std::nullopt, "foo.example", "localhost", 8443,
       ""},
      {"tls:foo.example:[::1]:8443:S", "https", std::nullopt, "foo.example", "::1", 8443, "S"},
      {"ssh:foo.example:localhost:2222:S", "raw", 22, "foo.example", "localhost", 2222, "S"},
      {"ssh:foo.example", "raw", 22, "foo.example", "localhost", 22, ""},
      {"irc:foo.example:7000", "irc", std::nullopt, "foo.example", "localhost", 7000, ""},
      {"foo.example:3000", "http", std::nullopt, "foo.example", "localhost", 3000, ""},
      {"https:foo.example", "https", std::nullopt, "foo.example", "localhost", 443, ""},
      {"xmpp:foo.example", "xmpp", std::nullopt, "foo.example", "localhost", 5222, ""},
      {"minecraft:foo.example", "minecraft", std::nullopt, "foo.example", "localhost", 25565, ""},
      {"http://foo.example", "http", std::nullopt, "foo.example", "localhost", 80, ""},
      {"foo.example", "http", std::nullopt, "foo.example", "localhost", 80, ""},
      {"*.Foo.example", "http", std::nullopt, "*.foo.example", "localhost", 80, ""},
      {"raw-22:foo.example", "raw", 22, "foo.example", "localhost", 22, ""},
  };
  for (const auto& r : rows) {
    const auto got = parse_service_spec(r.spec, true, "o");
    ASSERT_TRUE(got.error.empty()) << r.spec << ": " << got.error;
    ASSERT_EQ(got.services.size(), 1u) << r.spec;
    const service& s = got.services[0];
    EXPECT_EQ(s.proto, r.proto) << r.spec;
    EXPECT_EQ(s.public_port, r.public_port) << r.spec;
    EXPECT_EQ(s.kite_name, r.kite) << r.spec;
    EXPECT_EQ(s.origin_host, r.host) << r.spec;
    EXPECT_EQ(s.origin_port, r.port) << r.spec;
    EXPECT_EQ(s.kite_secret.reveal(), r.secret_text) << r.spec;
    EXPECT_EQ(s.kind, origin_kind::tcp) << r.spec;
  }
  const auto multi = parse_service_spec("http,https-8443:foo.example:localhost:80:S", true, "o");
  ASSERT_EQ(multi.services.size(), 2u);
  EXPECT_EQ(multi.services[0].id(), "http:foo.example");
  EXPECT_EQ(multi.services[1].id(), "https-8443:foo.example");
  const auto builtin = parse_service_spec("foo.example:builtin", true, "o");
  ASSERT_EQ(builtin.services.size(), 1u);
  EXPECT_EQ(builtin.services[0].kind, origin_kind::builtin);
  for (const char* bad : {"a:b:c:d:e:f", "gopher:foo.example:localhost:70:S",
                          "http:foo.example:localhost:0:S", "http:foo.example:localhost:x:S",
                          "raw:foo.example", "http-0:foo.example:localhost:80:S",
                          "http:bad name:localhost:80:S", "http:foo.example:localhost:99999:S",
                          "http-80-1:foo.example:h:80:S"}) {
    const auto got = parse_service_spec(bad, true, "o");
    EXPECT_FALSE(got.error.empty()) << bad;
    EXPECT_TRUE(got.services.empty()) << bad;
  }
}

TEST(connector_parse, service_on_substitution_defaults_and_duplicates) {
  const auto out = parse({"--frontend=x:1", "--kitename=Main.Example", "--kitesecret=K",
                          "--service_on=http:@kitename:localhost:80:@kitesecret",
                          "--service_on=https:@kitename:localhost:443",
                          "--service_off=http:off.example:localhost:81:O",
                          "--backend=http:main.example:localhost:82:X"});
  ASSERT_EQ(out.errors.size(), 1u) << dump(out.errors);
  EXPECT_EQ(out.errors[0].to_string(),
            "argv[7]: service_on: same kite defined twice: http:main.example (first at argv[4])");
  const auto& s = out.connector->services;
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0].kite_name, "main.example");
  EXPECT_EQ(s[0].kite_secret.reveal(), "K");
  EXPECT_EQ(s[1].kite_secret.reveal(), "K");  // borrowed from the kite's other service
  EXPECT_FALSE(s[2].enabled);
  // The first service sets kitename/kitesecret when they are unset.
  const auto first = parse({"--frontend=x:1", "--service_on=http:a.example:localhost:80:S1",
                            "--service_on=http:b.example:localhost:81:S2"});
  ASSERT_TRUE(first.ok()) << dump(first.errors);
  EXPECT_EQ(first.connector->kitename, "a.example");
  EXPECT_EQ(first.connector->kitesecret.reveal(), "S1");
}

TEST(connector_parse, service_cfg_and_flags) {
  const auto out =
      parse({"--frontend=x:1", "--service_on=http:foo.example:localhost:80:S",
             "--service_on=raw-22:foo.example:localhost:22:S",
             "--service_cfg=Foo.Example/80:insecure:True", "--be_config=foo.example:rawheaders:True",
             "--service_cfg=foo.example/80:rewritehost:Internal.Example",
             "--service_cfg=foo.example/80:user/bob:pw:with:colons",
             "--service_cfg=foo.example/80:ip/1.2.3:True",
             "--service_cfg=foo.example/22:proxyproto:True",
             "--service_cfg=foo.example/80:indexes:all",
             "--service_cfg=foo.example/80:rawheaders:False",
             "--service_cfg=nothing.example/80:hide:True"});
  ASSERT_TRUE(out.ok()) << dump(out.errors);
  ASSERT_EQ(out.warnings.size(), 1u) << dump(out.warnings);
  EXPECT_EQ(out.warnings[0].to_string(),
            "argv[12]: service_cfg: `nothing.example/80` matches no kite");
  const auto& http = out.connector->services[0].flags;
  EXPECT_TRUE(http.insecure);
  EXPECT_FALSE(http.rawheaders);
  EXPECT_EQ(http.rewrite_host, "internal.example");
  EXPECT_EQ(http.passwords, (std::vector<basic_credential>{{"bob", secret("pw:with:colons")}}));
  EXPECT_EQ(http.ip_allow, std::vector<std::string>{"1.2.3"});
  EXPECT_EQ(http.indexes, index_mode::all);
  EXPECT_FALSE(http.proxyproto);
  EXPECT_TRUE(out.connector->services[1].flags.proxyproto);
  EXPECT_FALSE(out.connector->services[1].flags.insecure);

  const auto bad = parse({"--frontend=x:1", "--service_on=http:foo.example:localhost:80:S",
                          "--service_cfg=foo.example/80:bogus:True",
                          "--service_cfg=foo.example/80:cgi:x", "--service_cfg=foo.example",
                          "--service_cfg=foo.example/x:insecure:True",
                          "--service_cfg=foo.example/80:password/bob:True"});
  ASSERT_EQ(bad.errors.size(), 5u) << dump(bad.errors);
  EXPECT_NE(bad.errors[0].message.find("unknown flag `bogus`"), std::string::npos);
  EXPECT_NE(bad.errors[1].message.find("not implemented yet"), std::string::npos);
}

TEST(connector_parse, all_connector_options) {
  const auto out = parse({"--frontend=x:1", "--kitesecret=S", "--keepalive=auto", "--insecure",
                          "--noprobes", "-a", "-N", "--errorurl=http://err.example/",
                          "--errorurl=a.example:https://err.example/a", "--ca_certs=auto",
                          "--threads=2", "--all", "--noall", "k.example"});
  ASSERT_TRUE(out.ok()) << dump(out.errors);
  const connector_config& c = *out.connector;
  EXPECT_FALSE(c.keepalive);
  EXPECT_TRUE(c.insecure);
  EXPECT_TRUE(c.noprobes);
  EXPECT_FALSE(c.require_all);
  EXPECT_TRUE(c.new_only);
  EXPECT_EQ(c.error_url, "http://err.example/");
  EXPECT_EQ(c.error_urls, (std::vector<error_url_rule>{{"a.example", "https://err.example/a"}}));
  EXPECT_EQ(c.ca_certs, "auto");
  EXPECT_EQ(c.process.threads, 2u);
  const auto ka = parse({"--frontend=x:1", "--kitesecret=S", "--keepalive=60", "k.example"});
  EXPECT_EQ(ka.connector->keepalive, std::chrono::seconds(60));
  const auto bad_ka = parse({"--frontend=x:1", "--kitesecret=S", "--keepalive=often", "k.example"});
  ASSERT_EQ(bad_ka.errors.size(), 1u);
  EXPECT_EQ(bad_ka.errors[0].key, "keepalive");
}

// The hardening options of the connector (hostile rows 8, 9): defaults, values, refusals.
TEST(connector_parse, max_conns_and_origin_idle_timeout) {
  const auto d = parse({"--frontend=x:1", "--kitesecret=S", "k.example"});
  ASSERT_TRUE(d.ok()) << dump(d.errors);
  EXPECT_EQ(d.connector->max_conns, 4096u);
  EXPECT_EQ(d.connector->origin_idle_timeout, std::chrono::seconds(3600));
  EXPECT_EQ(d.connector->process.half_closed_timeout_s, 120u);
  const auto v = parse({"--frontend=x:1", "--kitesecret=S", "--max_conns=20000",
                        "--origin_idle_timeout=0", "--half_closed_timeout=30", "k.example"});
  ASSERT_TRUE(v.ok()) << dump(v.errors);
  EXPECT_EQ(v.connector->max_conns, 20000u);
  EXPECT_EQ(v.connector->origin_idle_timeout, std::chrono::seconds(0));
  EXPECT_EQ(v.connector->process.half_closed_timeout_s, 30u);
  const auto bad = parse({"--frontend=x:1", "--kitesecret=S", "--max_conns=0",
                          "--origin_idle_timeout=forever", "k.example"});
  EXPECT_EQ(bad.errors.size(), 2u) << dump(bad.errors);
  EXPECT_TRUE(mentions(bad.errors, "argv[3]: max_conns: expected a number of streams, 1-1000000"));
  EXPECT_TRUE(mentions(bad.errors,
                       "argv[4]: origin_idle_timeout: expected seconds, 0-604800 (0 = never)"));
}

TEST(connector_parse, unimplemented_connector_options_are_refused_by_name) {
  for (const char* word : {"--proxy=socks5:h:1", "--socksify=h:1", "--torify=h:1",
                           "--remoteui",
                           "--nofrontend=1.2.3.4:443", "--wschunks", "--signup", "--settings",
                           "--save", "--list", "--local=80", "--nossl", "--sslzlib",
                           "--noisfrontend"}) {
    const auto out = parse({"--frontend=x:1", "--kitesecret=S", word, "k.example"});
    ASSERT_EQ(out.errors.size(), 1u) << word << "\n" << dump(out.errors);
    EXPECT_EQ(out.errors[0].origin, "argv[3]") << word;
    EXPECT_NE(out.errors[0].message.find("is recognised but not implemented yet by kiteline"),
              std::string::npos)
        << word;
    EXPECT_EQ(out.errors[0].message.rfind("--", 0), 0u) << word;
  }
}

TEST(connector_parse, accepted_and_ignored_options) {
  const auto quiet = parse({"--clean", "--nullui", "--nocrashreport", "--noloop", "--nodaemonize",
                            "--noproxy", "--nopyopenssl", "--noupgradeinfo",
                            "--max_read_bytes=16256x3.1", "--select_loop_min_ms=5",
                            "--frontend=x:1", "--kitesecret=S", "k.example"});
  ASSERT_TRUE(quiet.ok()) << dump(quiet.errors);
  EXPECT_TRUE(quiet.warnings.empty()) << dump(quiet.warnings);
  const auto deprecated =
      parse({"--reloadfile=x", "--autosave", "--noautosave", "--webroot=x", "--webaccess=x",
             "--webindexes=x", "--delete_backend=x", "--frontend=x:1", "--kitesecret=S",
             "k.example"});
  ASSERT_TRUE(deprecated.ok()) << dump(deprecated.errors);
  EXPECT_EQ(deprecated.warnings.size(), 7u) << dump(deprecated.warnings);
}

TEST(connector_parse, role_errors) {
  const auto out = parse({"--frontend=x:1", "--kitesecret=S", "--ports=80", "--domain=*:a.b:S",
                          "--tls_endpoint=a:b", "k.example"});
  ASSERT_EQ(out.errors.size(), 3u) << dump(out.errors);
  EXPECT_EQ(out.errors[0].to_string(),
            "argv[3]: ports: --ports is a relay option; it makes no sense for the connector "
            "(add --isfrontend or run `kiteline frontend`)");
  const auto conflict = parse({"backend", "--isfrontend", "--frontend=x:1", "--kitesecret=S",
                               "k.example"});
  ASSERT_EQ(conflict.errors.size(), 1u) << dump(conflict.errors);
  EXPECT_EQ(conflict.errors[0].to_string(),
            "argv[2]: isfrontend: --isfrontend conflicts with `kiteline backend`");
  EXPECT_TRUE(conflict.connector);
}

TEST(connector_parse, validation_collects_every_problem) {
  temp_dir dir;
  const auto out = parse({"--clean", "--ca_certs=" + dir.file("nope.crt"),
                          "--service_off=http:a.example:localhost:80:S", "--threads=-1"});
  ASSERT_EQ(out.errors.size(), 4u) << dump(out.errors);
  EXPECT_EQ(out.errors[0].to_string(),
            "argv[4]: threads: expected a number of threads 0-1024 (0 = one per core)");
  EXPECT_TRUE(mentions(out.errors, "frontend: no relay to connect to"));
  EXPECT_TRUE(mentions(out.errors, "service_on: no kites to serve"));
  EXPECT_TRUE(mentions(out.errors, "argv[2]: ca_certs: cannot read " + dir.file("nope.crt")));
  const auto no_secret = parse({"--frontend=x:1", "--service_on=http:a.example:localhost:80"});
  ASSERT_EQ(no_secret.errors.size(), 1u) << dump(no_secret.errors);
  EXPECT_EQ(no_secret.errors[0].to_string(),
            "argv[2]: service_on: no secret for kite `http:a.example`: add :SECRET to the spec "
            "or give --kitesecret=SECRET");
}

TEST(connector_parse, rc_file_like_the_debian_service) {
  temp_dir dir;
  const std::string d = dir.file("pagekite.d");
  dir.write("pagekite.d/10_account.rc", "kitename   = Me.Example\nkitesecret = s3cret\n");
  dir.write("pagekite.d/20_frontends.rc", "frontend = relay.example : 443\n");
  dir.write("pagekite.d/80_httpd.rc",
            "service_on = http : @kitename : localhost : 80 : @kitesecret\n"
            "service_cfg = me.example/80 : insecure : True\n"
            "END\n"
            "abort_not_configured\n");
  dir.write("pagekite.d/80_sshd.rc.sample", "abort_not_configured\n");
  dir.write("pagekite.d/90_debian_certs.rc", "ca_certs = " + dir.write("ca.crt", "x") + "\n");
  const auto out = parse({"--clean", "--runas=daemon:daemon", "--optdir=" + d});
  ASSERT_TRUE(out.ok()) << dump(out.errors);
  const connector_config& c = *out.connector;
  EXPECT_EQ(c.kitename, "me.example");
  EXPECT_EQ(c.frontends, (std::vector<frontend_address>{
                             {"relay.example", 443, d + "/20_frontends.rc:1"}}));
  ASSERT_EQ(c.services.size(), 1u);
  EXPECT_EQ(c.services[0].kite_secret.reveal(), "s3cret");
  EXPECT_EQ(c.services[0].origin, d + "/80_httpd.rc:1");
  EXPECT_TRUE(c.services[0].flags.insecure);
  EXPECT_EQ(c.ca_certs, dir.file("ca.crt"));
  EXPECT_EQ(c.process.runas, "daemon:daemon");
}

TEST(connector_parse, bad_rc_line_reported_with_file_line_and_key) {
  temp_dir dir;
  const std::string rc =
      dir.write("k.rc", "# kites\nfrontend = x:1\nservice_on = http:a.example:h:notaport:S\n");
  const auto out = parse({"--clean", "-o", rc});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.errors[0].to_string(),
            rc + ":3: service_on: bad origin port `notaport` (1-65535 or builtin)");
}

TEST(connector_parse, help_and_version_actions) {
  const auto help = parse({"--frontend=x", "--help", "--nosuch"});
  EXPECT_EQ(help.what, action::help);
  EXPECT_TRUE(help.ok());
  EXPECT_EQ(help.help_text, help_text());
  EXPECT_EQ(help.warnings.size(), 1u);
  EXPECT_EQ(parse({"--version"}).what, action::version);
  EXPECT_EQ(parse({"--appver"}).what, action::version);
}

TEST(secret, never_prints_its_value) {
  const secret s("hunter2");
  std::ostringstream os;
  os << s;
  EXPECT_EQ(os.str(), "***");
  EXPECT_EQ(s.to_string(), "***");
  EXPECT_EQ(testing::PrintToString(s), "***");
  EXPECT_EQ(s.reveal(), "hunter2");
  EXPECT_FALSE(s.empty());
  EXPECT_TRUE(secret().empty());
  EXPECT_EQ(secret().to_string(), "");
  EXPECT_EQ(secret("a"), secret("a"));
  EXPECT_NE(secret("a"), secret("b"));
  // Diagnostics never carry secrets.
  const auto out = parse({"-f", "--domain=http:a.example:hunter2", "--domain=http:a.example:x"});
  EXPECT_EQ(test::dump(out.errors).find("hunter2"), std::string::npos);
}

}  // namespace
}  // namespace kiteline::config
