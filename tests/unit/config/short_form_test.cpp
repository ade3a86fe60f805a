// Tests of the pagekite.py short form: [SERVICE] KITENAME [+flag ...] [AND ...] (§10.3).
#include <gtest/gtest.h>

#include "config/short_form.hpp"
#include "config_test_support.hpp"

namespace kiteline::config {
namespace {

using test::dump;
using test::parse;
using test::temp_dir;

// The connector parsed from `--clean --frontend=r:443 --kitesecret=S WORDS...`.
parse_outcome short_form(std::vector<std::string> words) {
  std::vector<std::string> args{"--clean", "--frontend=relay.example:443", "--kitesecret=S"};
  args.insert(args.end(), words.begin(), words.end());
  return parse(args);
}

struct expected_kite {
  std::string id;
  std::string host;
  std::uint16_t port;
};

void expect_kites(const parse_outcome& out, const std::vector<expected_kite>& want) {
  ASSERT_TRUE(out.ok()) << dump(out.errors);
  ASSERT_TRUE(out.connector);
  const auto& s = out.connector->services;
  ASSERT_EQ(s.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(s[i].id(), want[i].id) << i;
    EXPECT_EQ(s[i].origin_host, want[i].host) << i;
    EXPECT_EQ(s[i].origin_port, want[i].port) << i;
    EXPECT_EQ(s[i].kind, origin_kind::tcp) << i;
    EXPECT_TRUE(s[i].enabled) << i;
    EXPECT_EQ(s[i].kite_secret.reveal(), "S") << i;
  }
}

TEST(short_form, port_and_name) {
  expect_kites(short_form({"8080", "Name.Example.com"}),
               {{"http:name.example.com", "localhost", 8080}});
}

TEST(short_form, url_service) {
  expect_kites(short_form({"http://localhost:8080", "name.example.com"}),
               {{"http:name.example.com", "localhost", 8080}});
  expect_kites(short_form({"https://127.0.0.1:8443", "name.example.com"}),
               {{"https:name.example.com", "127.0.0.1", 8443}});
}

TEST(short_form, host_port_service) {
  expect_kites(short_form({"localhost:3000", "foo.example"}),
               {{"http:foo.example", "localhost", 3000}});
}

TEST(short_form, proto_port_services) {
  expect_kites(short_form({"ssh:22", "box.example"}), {{"raw-22:box.example", "localhost", 22}});
  expect_kites(short_form({"ssh:10.0.0.2:2222", "box.example"}),
               {{"raw-22:box.example", "10.0.0.2", 2222}});
  expect_kites(short_form({"https", "tls.example"}), {{"https:tls.example", "localhost", 443}});
  expect_kites(short_form({"tls:8443", "tls.example"}),
               {{"https:tls.example", "localhost", 8443}});
  expect_kites(short_form({"irc", "irc.example"}), {{"irc:irc.example", "localhost", 6667}});
  expect_kites(short_form({"minecraft:25566", "mc.example"}),
               {{"minecraft:mc.example", "localhost", 25566}});
}

TEST(short_form, ssh_url_kite_name) {
  expect_kites(short_form({"ssh://box.example"}), {{"raw-22:box.example", "localhost", 22}});
}

TEST(short_form, name_only_means_localhost_80) {
  expect_kites(short_form({"web.example"}), {{"http:web.example", "localhost", 80}});
}

TEST(short_form, public_ports) {
  expect_kites(short_form({"3000", "name.example:8080"}),
               {{"http-8080:name.example", "localhost", 3000}});
  expect_kites(short_form({"https:4443", "https://name.example:8443"}),
               {{"https-8443:name.example", "localhost", 4443}});
  expect_kites(short_form({"ssh:22", "ssh://box.example:2222"}),
               {{"raw-2222:box.example", "localhost", 22}});
}

TEST(short_form, builtin) {
  const auto out = short_form({"builtin", "files.example"});
  ASSERT_TRUE(out.ok()) << dump(out.errors);
  EXPECT_EQ(out.connector->services[0].kind, origin_kind::builtin);
}

TEST(short_form, folder_is_served_by_the_builtin_web_server) {
  temp_dir dir;
  std::filesystem::create_directories(dir.path() / "site");
  const auto out = short_form({dir.file("site"), "demo.localhost", "+indexes"});
  ASSERT_TRUE(out.ok()) << dump(out.errors);
  ASSERT_EQ(out.connector->services.size(), 1u);
  const service& s = out.connector->services[0];
  EXPECT_EQ(s.kind, origin_kind::folder);
  EXPECT_EQ(s.folder, dir.file("site"));
  EXPECT_EQ(s.id(), "http:demo.localhost");
  EXPECT_EQ(s.flags.indexes, index_mode::on);
  const auto file = short_form({dir.write("index.html", "x"), "demo.localhost"});
  ASSERT_EQ(file.errors.size(), 1u);
  EXPECT_NE(file.errors[0].message.find("is a file"), std::string::npos);
}

TEST(short_form, flags) {
  const auto out = short_form({"8080", "name.example", "+rewritehost", "+ip/1.2.3.4", "+ip/5.6.7",
                               "+password/u=p", "+user/v=q", "+noinsecure", "+proxyproto",
                               "+rawheaders", "+hide"});
  ASSERT_TRUE(out.ok()) << dump(out.errors);
  const service_flags& f = out.connector->services[0].flags;
  EXPECT_EQ(f.rewrite_host, "");
  EXPECT_EQ(f.ip_allow, (std::vector<std::string>{"1.2.3.4", "5.6.7"}));
  EXPECT_EQ(f.passwords,
            (std::vector<basic_credential>{{"u", secret("p")}, {"v", secret("q")}}));
  EXPECT_FALSE(f.insecure);
  EXPECT_TRUE(f.proxyproto);
  EXPECT_TRUE(f.rawheaders);
  EXPECT_TRUE(f.hide);
  const auto named = short_form({"8080", "name.example", "+rewritehost=Inside.Example"});
  EXPECT_EQ(named.connector->services[0].flags.rewrite_host, "inside.example");
  const auto bad = short_form({"8080", "name.example", "+bogus", "+a:b", "+password/u"});
  EXPECT_EQ(bad.errors.size(), 3u) << dump(bad.errors);
}

TEST(short_form, and_joins_several_kites) {
  const auto out = short_form({"8080", "a.example", "+insecure", "AND", "ssh:22", "b.example"});
  expect_kites(out, {{"http:a.example", "localhost", 8080}, {"raw-22:b.example", "localhost", 22}});
  EXPECT_TRUE(out.connector->services[0].flags.insecure);
  EXPECT_FALSE(out.connector->services[1].flags.insecure);
  EXPECT_FALSE(short_form({"8080", "a.example", "AND"}).ok());
}

TEST(short_form, spec_verified_offline_form) {
  // §10.3: pagekite --clean --kitename=simple.t.example --kitesecret=s3cret
  //        --frontend=127.0.0.1:18890 18080 simple.t.example
  const auto out = parse({"--clean", "--kitename=simple.t.example", "--kitesecret=s3cret",
                          "--frontend=127.0.0.1:18890", "18080", "simple.t.example"});
  ASSERT_TRUE(out.ok()) << dump(out.errors);
  ASSERT_EQ(out.connector->services.size(), 1u);
  const service& s = out.connector->services[0];
  EXPECT_EQ(s.id(), "http:simple.t.example");
  EXPECT_EQ(s.origin_port, 18080);
  EXPECT_EQ(s.kite_secret.reveal(), "s3cret");
  EXPECT_EQ(s.origin, "argv[6]");
}

TEST(short_form, secret_from_configured_service_and_others_disabled) {
  const auto out = parse({"--clean", "--frontend=r:443",
                          "--service_on=http:a.example:localhost:80:SA",
                          "--service_on=http:b.example:localhost:81:SB", "9000", "a.example"});
  ASSERT_TRUE(out.ok()) << dump(out.errors);
  const auto& s = out.connector->services;
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].id(), "http:a.example");
  EXPECT_EQ(s[0].origin_port, 9000);  // replaced by the short-form kite
  EXPECT_EQ(s[0].kite_secret.reveal(), "SA");
  EXPECT_TRUE(s[0].enabled);
  EXPECT_EQ(s[1].id(), "http:b.example");
  EXPECT_FALSE(s[1].enabled);
}

TEST(short_form, omitted_service_reenables_configured_kite) {
  const auto out = parse({"--clean", "--frontend=r:443",
                          "--service_off=http:a.example:localhost:3000:SA",
                          "--service_on=http:b.example:localhost:81:SB", "a.example"});
  ASSERT_TRUE(out.ok()) << dump(out.errors);
  const auto& s = out.connector->services;
  ASSERT_EQ(s.size(), 2u);
  EXPECT_TRUE(s[0].enabled);
  EXPECT_EQ(s[0].origin_port, 3000);
  EXPECT_FALSE(s[1].enabled);
}

TEST(short_form, no_secret_is_an_explained_error) {
  const auto out = parse({"--clean", "--frontend=r:443", "8080", "name.example.com"});
  ASSERT_EQ(out.errors.size(), 1u) << dump(out.errors);
  EXPECT_EQ(out.errors[0].origin, "argv[4]");
  EXPECT_NE(out.errors[0].message.find("no secret for kite `name.example.com`: give "
                                       "--kitesecret=SECRET"),
            std::string::npos);
  EXPECT_NE(out.errors[0].message.find("never signs up"), std::string::npos);
}

TEST(short_form, bad_words) {
  for (const std::vector<std::string>& words :
       std::vector<std::vector<std::string>>{{"notaport", "a.example"},
                                             {"a:b:c", "a.example"},
                                             {"8080", "a.example:1:2:3"},
                                             {"8080", "http://a.example/path"},
                                             {"+insecure"},
                                             {"8080", "bad name"},
                                             {"8080", "a.example:0"},
                                             {"1", "2", "a.example"}}) {
    const auto out = short_form(words);
    EXPECT_FALSE(out.ok()) << words.front();
    ASSERT_FALSE(out.errors.empty());
    EXPECT_EQ(out.errors[0].origin.rfind("argv[", 0), 0u) << dump(out.errors);
  }
}

TEST(short_form, kitename_substitution) {
  const auto out = parse({"--clean", "--frontend=r:443", "--kitename=me.example",
                          "--kitesecret=S", "8080", "@kitename"});
  ASSERT_TRUE(out.ok()) << dump(out.errors);
  EXPECT_EQ(out.connector->services[0].kite_name, "me.example");
}

}  // namespace
}  // namespace kiteline::config
