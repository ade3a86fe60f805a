// Tests of relay command lines: the interop/bench scripts' exact words, roles, refusals.
#include <gtest/gtest.h>

#include "config_test_support.hpp"

namespace kiteline::config {
namespace {

using test::dump;
using test::mentions;
using test::parse;
using test::temp_dir;

// The words pk-frontend.sh PORT SECRET [tls] passes (shared/interop/pk-frontend.sh), with its
// defaults, or the bench chain's values (bench-peers/lib/chains.sh start_pk).
std::vector<std::string> pk_frontend_args(const std::string& host, const std::string& port,
                                          const std::string& secret_text, const std::string& log,
                                          const std::string& pem = {}) {
  const std::string protos = "http,https,raw";
  std::vector<std::string> args{"--clean",           "--nullui",
                                "--isfrontend",      "--host=" + host,
                                "--ports=" + port,   "--protos=" + protos,
                                "--rawports=virtual", "--domain=" + protos + ":*.test:" + secret_text,
                                "--logfile=" + log};
  if (!pem.empty()) {
    args.push_back("--tls_endpoint=fe.test:" + pem);
    args.push_back("--tls_default=fe.test");
  }
  return args;
}

relay_config expected_script_relay(const std::string& host, std::uint16_t port,
                                   const std::string& secret_text, const std::string& log) {
  relay_config want;
  want.host = host;
  want.ports = {port};
  want.protos = {"http", "https", "raw"};
  want.raw_virtual = true;
  want.domains.push_back(domain_rule{false,
                                     {{"http", std::nullopt}, {"https", std::nullopt},
                                      {"raw", std::nullopt}},
                                     "*.test",
                                     secret(secret_text),
                                     "argv[8]"});
  want.process.logfile = log;
  return want;
}

TEST(relay_parse, pk_frontend_plain) {
  const auto out = parse(pk_frontend_args("127.0.0.1", "27080", "SECRET", "stdio"));
  ASSERT_TRUE(out.ok()) << dump(out.errors);
  EXPECT_TRUE(out.warnings.empty()) << dump(out.warnings);
  EXPECT_EQ(out.what, action::run_relay);
  ASSERT_TRUE(out.relay);
  EXPECT_FALSE(out.connector);
  EXPECT_EQ(*out.relay, expected_script_relay("127.0.0.1", 27080, "SECRET", "stdio"));
}

TEST(relay_parse, pk_frontend_ipv6_loopback) {
  const auto out = parse(pk_frontend_args("::1", "27080", "SECRET", "stdio"));
  ASSERT_TRUE(out.ok()) << dump(out.errors);
  EXPECT_EQ(out.relay->host, "::1");
}

TEST(relay_parse, pk_frontend_tls_and_bench_chain) {
  temp_dir dir;
  const std::string pem = dir.write("pk-state/fe.pem", "key+cert");
  const std::string log = dir.file("chains/kiteline.1/frontend.log");
  // chains.sh: PORT_BASE 29000 + 100 for the TLS chain, PK_SECRET=bench-s3cret.
  const auto out = parse(pk_frontend_args("127.0.0.1", "29100", "bench-s3cret", log, pem));
  ASSERT_TRUE(out.ok()) << dump(out.errors);
  EXPECT_TRUE(out.warnings.empty()) << dump(out.warnings);
  auto want = expected_script_relay("127.0.0.1", 29100, "bench-s3cret", log);
  want.tls_endpoints.push_back(tls_endpoint{"fe.test", pem, "argv[10]"});
  want.tls_default = "fe.test";
  EXPECT_EQ(*out.relay, want);
  // The plain bench chain (PORT_BASE + 110).
  const auto plain = parse(pk_frontend_args("127.0.0.1", "29110", "bench-s3cret", log));
  ASSERT_TRUE(plain.ok()) << dump(plain.errors);
  EXPECT_EQ(plain.relay->ports, std::vector<std::uint16_t>{29110});
}

TEST(relay_parse, pk_extra_words_are_appended) {
  // PK_EXTRA is split on blanks and appended, e.g. --nozchunks.
  auto args = pk_frontend_args("127.0.0.1", "27080", "S", "stdio");
  args.push_back("--nozchunks");
  const auto out = parse(args);
  ASSERT_TRUE(out.ok()) << dump(out.errors);
  EXPECT_TRUE(out.relay->process.nozchunks);
}

TEST(relay_parse, issue_command_line_and_subcommand_agree) {
  const std::vector<std::string> words{"--clean",          "--isfrontend",
                                       "--host=127.0.0.1", "--ports=8080",
                                       "--protos=http,https,raw", "--rawports=virtual",
                                       "--domain=http,https,raw:*.example.com:SECRET"};
  const auto out = parse(words);
  ASSERT_TRUE(out.ok()) << dump(out.errors);
  const relay_config& r = *out.relay;
  EXPECT_EQ(r.host, "127.0.0.1");
  EXPECT_EQ(r.ports, std::vector<std::uint16_t>{8080});
  EXPECT_EQ(r.protos, (std::vector<std::string>{"http", "https", "raw"}));
  EXPECT_TRUE(r.raw_virtual);
  EXPECT_TRUE(r.raw_ports.empty());
  ASSERT_EQ(r.domains.size(), 1u);
  EXPECT_EQ(r.domains[0].domain, "*.example.com");
  EXPECT_EQ(r.domains[0].shared_secret.reveal(), "SECRET");
  EXPECT_EQ(r.domains[0].origin, "argv[7]");

  std::vector<std::string> sub{"frontend"};
  for (const auto& w : words) {
    if (w != "--isfrontend") {
      sub.push_back(w);
    }
  }
  const auto via_sub = parse(sub);
  ASSERT_TRUE(via_sub.ok()) << dump(via_sub.errors);
  relay_config a = *out.relay;
  relay_config b = *via_sub.relay;
  a.domains[0].origin = b.domains[0].origin = "";
  EXPECT_EQ(a, b);
}

TEST(relay_parse, defaults) {
  const auto out = parse({"frontend", "--domain=*:example.com:S"});
  ASSERT_TRUE(out.ok()) << dump(out.errors);
  const relay_config& r = *out.relay;
  EXPECT_EQ(r.host, "");
  EXPECT_EQ(r.ports, std::vector<std::uint16_t>{80});
  EXPECT_EQ(r.protos, default_relay_protos());
  EXPECT_EQ(r.process.threads, 0u);
  EXPECT_EQ(r.visitor_timeout, std::chrono::seconds(10));
  EXPECT_EQ(r.process.buffers_kib, 16384u);
  EXPECT_EQ(r.process.evict_after_s, 10u);
  EXPECT_TRUE(r.domains[0].any_proto);
  EXPECT_TRUE(r.domains[0].protos.empty());
}

// The hardening options (hostile rows 1-3, 8): defaults, values and their refusals.
TEST(relay_parse, hardening_options) {
  {
    const auto out = parse({"frontend", "--domain=*:example.com:S"});
    ASSERT_TRUE(out.ok()) << dump(out.errors);
    const relay_config& r = *out.relay;
    EXPECT_EQ(r.auth_timeout, std::chrono::seconds(20));
    EXPECT_EQ(r.max_unauth_tunnels, 256u);
    EXPECT_EQ(r.max_unauth_per_ip, 16u);
    EXPECT_EQ(r.process.stalled_after_s, 1u);
    EXPECT_EQ(r.process.half_closed_timeout_s, 120u);
  }
  {
    const auto out = parse({"frontend", "--domain=*:example.com:S", "--auth_timeout=60",
                            "--max_unauth_tunnels=1000/4", "--stalled_after=0",
                            "--half_closed_timeout=0"});
    ASSERT_TRUE(out.ok()) << dump(out.errors);
    EXPECT_EQ(out.relay->auth_timeout, std::chrono::seconds(60));
    EXPECT_EQ(out.relay->max_unauth_tunnels, 1000u);
    EXPECT_EQ(out.relay->max_unauth_per_ip, 4u);
    EXPECT_EQ(out.relay->process.stalled_after_s, 0u);
    EXPECT_EQ(out.relay->process.half_closed_timeout_s, 0u);
  }
  {
    const auto out = parse({"frontend", "--domain=*:example.com:S", "--max_unauth_tunnels=32"});
    ASSERT_TRUE(out.ok()) << dump(out.errors);
    EXPECT_EQ(out.relay->max_unauth_tunnels, 32u);
    EXPECT_EQ(out.relay->max_unauth_per_ip, 16u) << "PER_IP keeps its default";
  }
  const auto bad = parse({"frontend", "--domain=*:example.com:S", "--auth_timeout=0",
                          "--max_unauth_tunnels=0", "--max_unauth_tunnels=5/x",
                          "--stalled_after=-1", "--half_closed_timeout=1h"});
  EXPECT_EQ(bad.errors.size(), 5u) << dump(bad.errors);
  EXPECT_TRUE(mentions(bad.errors, "argv[3]: auth_timeout: expected seconds, 1-3600"));
  EXPECT_TRUE(mentions(bad.errors, "argv[4]: max_unauth_tunnels: expected N or N/PER_IP"));
  EXPECT_TRUE(mentions(bad.errors, "argv[5]: max_unauth_tunnels: expected N or N/PER_IP"));
  EXPECT_TRUE(mentions(bad.errors, "argv[6]: stalled_after: expected seconds, 0-86400 (0 = never)"));
  EXPECT_TRUE(
      mentions(bad.errors, "argv[7]: half_closed_timeout: expected seconds, 0-86400 (0 = never)"));
}

TEST(relay_parse, all_relay_options) {
  temp_dir dir;
  const std::string ca = dir.write("ca.pem", "x");
  const std::string motd = dir.write("motd.txt", "hi");
  const auto out = parse({"-f", "-h", "[::]", "-p80,443", "--portalias=443:8443",
                          "--protos=http,https", "--rawports=2222,virtual",
                          "--domain=http-8080,https/443:Foo.Example.com:S1",
                          "--domain=:other.example:S2", "--tls_endpoint=*.Example.com:" + ca,
                          "--tls_default=www.example.com", "--tls_legacy",
                          "--tls_openssl_records", "--tls_ciphers=DEFAULT@SECLEVEL=1",
                          "--tls_protocols=all -tlsv1 -tlsv1.1", "--tls_client_ca=" + ca,
                          "--motd=" + motd, "--threads=4", "--visitor_timeout=30",
                          "--buffers=2048", "--evict_after=0", "--runas=daemon:daemon", "--chroot=/var/empty",
                          "--loglevel=debug", "-L/tmp/log"});
  ASSERT_TRUE(out.ok()) << dump(out.errors);
  // --tls_legacy next to a --tls_protocols list: the list decides, and that is said.
  ASSERT_EQ(out.warnings.size(), 1u) << dump(out.warnings);
  EXPECT_EQ(out.warnings[0].key, "tls_protocols");
  EXPECT_NE(out.warnings[0].message.find("--tls_legacy is ignored"), std::string::npos);
  const relay_config& r = *out.relay;
  EXPECT_EQ(r.host, "::");
  EXPECT_EQ(r.ports, (std::vector<std::uint16_t>{80, 443}));
  EXPECT_EQ(r.port_aliases, (std::vector<port_alias>{{443, 8443}}));
  EXPECT_EQ(r.raw_ports, std::vector<std::uint16_t>{2222});
  EXPECT_TRUE(r.raw_virtual);
  ASSERT_EQ(r.domains.size(), 2u);
  EXPECT_EQ(r.domains[0].protos,
            (std::vector<proto_port>{{"http", 8080}, {"https", 443}}));
  EXPECT_EQ(r.domains[0].domain, "foo.example.com");
  EXPECT_TRUE(r.domains[1].any_proto);
  EXPECT_EQ(r.tls_endpoints[0].name, "*.example.com");
  EXPECT_EQ(r.tls_default, "www.example.com");
  EXPECT_TRUE(r.tls_legacy);
  EXPECT_TRUE(r.tls_openssl_records);
  EXPECT_EQ(r.tls_ciphers, "DEFAULT@SECLEVEL=1");
  EXPECT_EQ(r.tls_protocols, "all -tlsv1 -tlsv1.1");
  EXPECT_EQ(r.tls_client_ca, ca);
  EXPECT_EQ(r.motd_file, motd);
  EXPECT_EQ(r.process.threads, 4u);
  EXPECT_EQ(r.visitor_timeout, std::chrono::seconds(30));
  EXPECT_EQ(r.process.buffers_kib, 2048u);
  EXPECT_EQ(r.process.evict_after_s, 0u);
  EXPECT_EQ(r.process.runas, "daemon:daemon");
  EXPECT_EQ(r.process.chroot, "/var/empty");
  EXPECT_EQ(r.process.loglevel, "debug");
  EXPECT_EQ(r.process.logfile, "/tmp/log");
}

TEST(relay_parse, no_way_to_authenticate_is_refused) {
  const auto out = parse({"--clean", "--isfrontend", "--ports=8080"});
  ASSERT_EQ(out.errors.size(), 1u) << dump(out.errors);
  EXPECT_EQ(out.errors[0].key, "domain");
  EXPECT_NE(out.errors[0].message.find(
                "the relay refuses to start with no way to authenticate connectors"),
            std::string::npos);
}

TEST(relay_parse, unimplemented_relay_options_are_refused_by_name) {
  // (--authdomain and its options, --client_acl, --tunnel_acl, --accept_acl_file,
  // --ratelimit_ips, --overload* and --errorurl are implemented now.)
  for (const char* word : {"--dns_hints=a.example", "--upgradeinfo=x"}) {
    const auto out = parse({"--isfrontend", "--domain=*:a.example:S", word});
    ASSERT_EQ(out.errors.size(), 1u) << word << "\n" << dump(out.errors);
    EXPECT_EQ(out.errors[0].origin, "argv[3]");
    EXPECT_NE(out.errors[0].message.find("not implemented yet by kiteline"), std::string::npos)
        << word;
  }
  const auto out = parse({"--isfrontend", "--domain=*:a.example:S", "--dns_hints=x"});
  EXPECT_EQ(out.errors[0].to_string(),
            "argv[3]: dns_hints: --dns_hints is recognised but not implemented yet by kiteline");
}

TEST(relay_parse, connector_options_are_role_errors) {
  const auto out = parse({"frontend", "--domain=*:a.example:S", "--frontend=x:1",
                          "--fe_certname=a", "--dyndns=x", "80", "a.example"});
  ASSERT_EQ(out.errors.size(), 4u) << dump(out.errors);
  EXPECT_EQ(out.errors[0].key, "frontend");
  EXPECT_NE(out.errors[0].message.find("--frontend is a connector option; it makes no sense "
                                       "for the relay"),
            std::string::npos);
  EXPECT_EQ(out.errors[1].key, "fe_certname");
  EXPECT_EQ(out.errors[2].key, "dyndns");  // --service_on is a relay's own back-end now
  EXPECT_EQ(out.errors[3].origin, "argv[6]");
  EXPECT_NE(out.errors[3].message.find("short form"), std::string::npos);
}

TEST(relay_parse, bad_values_are_all_reported) {
  temp_dir dir;
  const auto out =
      parse({"--isfrontend", "--ports=80,x0", "--protos=http,gopher", "--rawports=virtual,x",
             "--portalias=1", "--domain=http:a.example", "--domain=http:a b:S",
             "--domain=http:a.example:", "--domain=ftp:a.example:S", "--tls_endpoint=x",
             "--tls_endpoint=a.example:" + dir.file("missing.pem"), "--visitor_timeout=0",
             "--threads=many", "--loglevel=loud", "--runas=:g", "--tls_default=bad name", "--evict_after=-1"});
  // 15 option errors + the missing PEM file + no --domain.
  EXPECT_EQ(out.errors.size(), 17u) << dump(out.errors);
  EXPECT_TRUE(mentions(out.errors, "argv[17]: evict_after: expected seconds, 0-86400 (0 = never evict)"));
  EXPECT_TRUE(mentions(out.errors, "argv[2]: ports: `x0` is not a port (0-65535; 0 = any free port)"));
  EXPECT_TRUE(mentions(out.errors, "argv[3]: protos: unknown protocol `gopher`"));
  EXPECT_TRUE(mentions(out.errors, "argv[6]: domain: expected PROTOS:DOMAIN:SECRET"));
  EXPECT_TRUE(mentions(out.errors, "argv[8]: domain: the secret is empty"));
  EXPECT_TRUE(mentions(out.errors, "argv[11]: tls_endpoint: cannot read " +
                                       dir.file("missing.pem") + ": no such file"));
  EXPECT_TRUE(mentions(out.errors, "domain: the relay refuses to start"));
}

TEST(relay_parse, later_scalars_win_lists_accumulate_rc_first) {
  temp_dir home;
  home.write(".pagekite.rc",
             "isfrontend\nports = 80\nhost = 10.0.0.1\ndomain = http:a.example:S1\n");
  const auto out = parse({"--ports=8080", "--domain=http:b.example:S2"}, home.path());
  ASSERT_TRUE(out.ok()) << dump(out.errors);
  EXPECT_EQ(out.relay->ports, std::vector<std::uint16_t>{8080});
  EXPECT_EQ(out.relay->host, "10.0.0.1");
  ASSERT_EQ(out.relay->domains.size(), 2u);
  EXPECT_EQ(out.relay->domains[0].domain, "a.example");
  EXPECT_EQ(out.relay->domains[0].origin, (home.path() / ".pagekite.rc").string() + ":4");
  EXPECT_EQ(out.relay->domains[1].domain, "b.example");
  // With --clean the rc file (and its isfrontend) is not read: a connector, with errors.
  const auto clean = parse({"--clean", "--ports=8080"}, home.path());
  EXPECT_FALSE(clean.relay);
  EXPECT_TRUE(mentions(clean.errors, "argv[2]: ports: --ports is a relay option"));
}

TEST(relay_parse, duplicate_domain_is_an_error) {
  const auto out = parse({"-f", "--domain=http:a.example:S", "--domain=http,raw:a.example:T"});
  ASSERT_EQ(out.errors.size(), 1u) << dump(out.errors);
  EXPECT_EQ(out.errors[0].to_string(),
            "argv[3]: domain: same protocol and domain defined twice (first at argv[2])");
}

TEST(relay_parse, warnings_for_questionable_but_valid_settings) {
  const auto out = parse({"-f", "--protos=http", "--domain=raw:a.example:S", "--portalias=81:80",
                          "--tls_default=nothing.example", "--webroot=/x"});
  ASSERT_TRUE(out.ok()) << dump(out.errors);
  EXPECT_EQ(out.warnings.size(), 4u) << dump(out.warnings);
  EXPECT_TRUE(mentions(out.warnings, "protocol `raw` is not in --protos"));
  EXPECT_TRUE(mentions(out.warnings, "port 81 is not one of --ports"));
  EXPECT_TRUE(mentions(out.warnings, "matches no --tls_endpoint"));
  EXPECT_TRUE(mentions(out.warnings, "argv[6]: webroot: deprecated pagekite.py option, ignored"));
}

TEST(relay_parse, check_config_action) {
  for (const char* word : {"--check-config", "--check_config"}) {
    const auto out = parse({"-f", "--domain=*:a.example:S", word});
    ASSERT_TRUE(out.ok()) << dump(out.errors);
    EXPECT_EQ(out.what, action::check_config);
    EXPECT_TRUE(out.relay);
  }
}

}  // namespace
}  // namespace kiteline::config
