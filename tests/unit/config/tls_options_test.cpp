// The TLS options of both roles as the command line gives them (--tls_protocols warnings and
// errors, mutual TLS), and the versioned relay-pool name of --whitelabel.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "config/parse.hpp"
#include "config/values.hpp"

namespace kiteline::config {
namespace {

bool mentions(const std::vector<std::string>& lines, std::string_view part) {
  for (const auto& l : lines) {
    if (l.find(part) != std::string::npos) {
      return true;
    }
  }
  return false;
}

parse_outcome parse(std::vector<std::string> args) {
  args.insert(args.begin(), {"kiteline"});
  return parse_command_line(args, environment{});
}

TEST(tls_protocols, parse_reports_warnings_and_errors_under_the_option) {
  auto out = parse({"frontend", "--clean", "--domain=http:*.test:s",
                    "--tls_protocols=TLSv1.2 TLSv1.3"});
  ASSERT_TRUE(out.ok());
  ASSERT_EQ(out.warnings.size(), 1u);
  EXPECT_EQ(out.warnings[0].origin, "argv[4]");
  EXPECT_EQ(out.warnings[0].key, "tls_protocols");
  out = parse({"frontend", "--clean", "--domain=http:*.test:s", "--tls_protocols=+sslv3"});
  ASSERT_EQ(out.errors.size(), 1u);
  EXPECT_EQ(out.errors[0].key, "tls_protocols");
  // Both roles take the policy options.
  out = parse({"--clean", "--frontend=127.0.0.1:443", "--fe_certname=fe.test", "--tls_legacy",
               "--tls_protocols=all -tlsv1", "--tls_ciphers=HIGH", "--tls_openssl_records",
               "--kitesecret=S", "80", "a.test"});
  ASSERT_TRUE(out.ok()) << (out.errors.empty() ? "" : out.errors[0].to_string());
  EXPECT_TRUE(out.connector->tls_legacy);
  EXPECT_TRUE(out.connector->tls_openssl_records);
  EXPECT_EQ(out.connector->tls_protocols, "all -tlsv1");
  EXPECT_EQ(out.connector->tls_ciphers, "HIGH");
  EXPECT_TRUE(mentions({out.warnings[0].message}, "--tls_legacy is ignored"));
}

TEST(tls_protocols, mutual_tls_options) {
  const std::string pem = "/proc/self/status";  // any readable regular file
  // The relay may authenticate connectors by certificate alone (no --domain).
  auto out = parse({"frontend", "--clean", "--tls_endpoint=fe.test:" + pem,
                    "--tls_client_ca=" + pem, "--tls_client_required"});
  ASSERT_TRUE(out.ok()) << out.errors[0].to_string();
  EXPECT_EQ(out.relay->tls_client_ca, pem);
  EXPECT_TRUE(out.relay->tls_client_required);
  out = parse({"frontend", "--clean", "--domain=http:*.test:s", "--tls_client_required"});
  ASSERT_EQ(out.errors.size(), 1u);
  EXPECT_EQ(out.errors[0].message,
            "needs --tls_client_ca=FILE (the CA that signs the connectors' certificates)");
  // A connector with a client certificate needs no secret.
  out = parse({"--clean", "--frontend=127.0.0.1:443", "--fe_certname=fe.test",
               "--tls_client_cert=" + pem, "--service_on=http:a.test:localhost:80"});
  ASSERT_TRUE(out.ok()) << out.errors[0].to_string();
  EXPECT_EQ(out.connector->tls_client_cert, pem);
  out = parse({"--clean", "--frontend=127.0.0.1:443", "--tls_client_cert=" + pem, "80",
               "a.test"});
  ASSERT_TRUE(out.ok()) << out.errors[0].to_string();
  EXPECT_TRUE(mentions({out.warnings.at(0).message}, "ignored: the tunnels are not TLS"));
  out = parse({"frontend", "--clean", "--domain=http:*.test:s", "--tls_client_cert=" + pem});
  EXPECT_FALSE(out.ok());
}

TEST(whitelabel, versioned_relay_name_follows_pk_appver_dns) {
  EXPECT_EQ(versioned_relay_name("example.net"), "fe4_152.example.net");
  EXPECT_EQ(versioned_relay_name("b5p.us", "0.5.8e"), "fe4_058.b5p.us");
  EXPECT_EQ(versioned_relay_name("x.y", "1.5.2"), "fe4_152.x.y");
  const auto out = parse({"--clean", "--whitelabel=Example.Test", "--kitesecret=S", "80",
                          "a.example.test"});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out.connector->pool->dns_name, "fe4_152.example.test");
  EXPECT_EQ(out.connector->pool->port, 443);
  ASSERT_GE(out.connector->fe_certnames.size(), 2u);
  EXPECT_EQ(out.connector->fe_certnames[0].name, "fe.example.test");
  EXPECT_EQ(out.connector->fe_certnames[1].name, "example.test");
}

TEST(whitelabel, compatible_version_matches_the_installed_pagekite_py) {
  std::ifstream in("/usr/lib/python3/dist-packages/pagekite/common.py");
  if (!in) {
    GTEST_SKIP() << "Debian's pagekite package is not installed";
  }
  std::stringstream text;
  text << in.rdbuf();
  std::smatch m;
  const std::string s = text.str();
  ASSERT_TRUE(std::regex_search(s, m, std::regex("APPVER = '([0-9.]+)'")));
  EXPECT_EQ(std::string(pagekite_compatible_version), m[1].str());
}

}  // namespace
}  // namespace kiteline::config
