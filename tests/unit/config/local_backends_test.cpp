// A relay's own back-ends (--service_on on --isfrontend) and --errorurl on both roles.
#include <gtest/gtest.h>

#include "config/error_url.hpp"
#include "config/local_backends.hpp"
#include "wire/reject.hpp"
#include "config_test_support.hpp"

namespace kiteline::config::test {
namespace {

TEST(local_backends, relay_with_a_backend_gets_a_local_connector) {
  const auto out = parse({"--clean", "--isfrontend", "--ports=8000", "--protos=http,https",
                          "--domain=http:*.example:s3cret",
                          "--backend=http:local.example:localhost:8080:SECRET",
                          "--service_cfg=local.example/80:rewritehost:True", "--insecure"});
  ASSERT_TRUE(out.ok()) << dump(out.errors);
  EXPECT_EQ(out.what, action::run_relay);
  ASSERT_TRUE(out.relay);
  EXPECT_FALSE(out.connector);
  ASSERT_TRUE(out.local_backends);
  EXPECT_EQ(out.relay->local_kites, std::vector<std::string>{"http:local.example"});
  const auto& l = *out.local_backends;
  ASSERT_EQ(l.services.size(), 1u);
  EXPECT_EQ(l.services[0].origin_host, "localhost");
  EXPECT_EQ(l.services[0].origin_port, 8080);
  EXPECT_TRUE(l.services[0].flags.rewrite_host.has_value());
  EXPECT_TRUE(l.insecure);
  ASSERT_EQ(l.frontends.size(), 1u);
  EXPECT_EQ(l.frontends[0].host, "loopback");
  EXPECT_EQ(l.frontends[0].port, 1);
  EXPECT_EQ(l.process.threads, 1u);
  EXPECT_TRUE(l.process.accesslog.empty());
}

TEST(local_backends, no_domain_is_fine_when_the_relay_serves_kites_itself) {
  // pagekite.py's README: "no password is required for configuring local back-ends".
  const auto out = parse({"--clean", "--isfrontend", "--ports=8000",
                          "--service_on=http:old.example:localhost:8080:",
                          "--service_on=https:unknown:localhost:8090:"});
  ASSERT_TRUE(out.ok()) << dump(out.errors);
  ASSERT_TRUE(out.local_backends);
  EXPECT_EQ(out.relay->local_kites,
            (std::vector<std::string>{"http:old.example", "https:unknown"}));
  // Still refused without any kite at all.
  const auto none = parse({"--clean", "--isfrontend", "--ports=8000"});
  EXPECT_TRUE(mentions(none.errors, "no way to authenticate connectors")) << dump(none.errors);
  EXPECT_FALSE(none.local_backends);
}

TEST(local_backends, a_disabled_kite_only_runs_nothing) {
  const auto out = parse({"--clean", "--isfrontend", "--domain=http:a.example:s",
                          "--service_off=http:old.example:localhost:8080:"});
  ASSERT_TRUE(out.ok()) << dump(out.errors);
  EXPECT_FALSE(out.local_backends);
  EXPECT_TRUE(out.relay->local_kites.empty());
}

TEST(local_backends, kites_the_relay_would_refuse_are_warned_about) {
  const auto out = parse({"--clean", "--isfrontend", "--ports=8000", "--protos=http",
                          "--service_on=https:a.example:localhost:8443:",
                          "--service_on=http/9000:b.example:localhost:80:"});
  ASSERT_TRUE(out.ok()) << dump(out.errors);
  EXPECT_TRUE(mentions(out.warnings, "protocol `https` is not in --protos")) << dump(out.warnings);
  EXPECT_TRUE(mentions(out.warnings, "port 9000 is not one of --ports")) << dump(out.warnings);
}

TEST(local_backends, connector_only_options_stay_refused_on_a_relay) {
  const auto out = parse({"--clean", "--isfrontend", "--domain=http:a.example:s",
                          "--service_on=http:b.example:localhost:80:", "--frontend=x:1"});
  ASSERT_EQ(out.errors.size(), 1u) << dump(out.errors);
  EXPECT_EQ(out.errors[0].key, "frontend");
}

TEST(local_backends, the_example_rc_file_loads) {
  const std::string rc = std::string(KITELINE_SOURCE_DIR) +
                         "/dist/examples/relay-with-local-backends.rc";
  const auto out = parse({"--clean", "--optfile=" + rc});
  ASSERT_TRUE(out.ok()) << dump(out.errors);
  ASSERT_TRUE(out.relay);  // the file says isfrontend
  ASSERT_TRUE(out.local_backends);
  EXPECT_EQ(out.relay->local_kites,
            (std::vector<std::string>{"http:www.example.org", "https:www.example.org",
                                      "http:unknown"}));
  EXPECT_TRUE(out.local_backends->services[0].flags.insecure);
  EXPECT_EQ(out.relay->error_url, "https://www.example.org/offline/?");
  ASSERT_EQ(out.relay->error_urls.size(), 1u);
  EXPECT_EQ(out.relay->error_urls[0].domain, "www.example.org");
  EXPECT_EQ(out.local_backends->error_url, out.relay->error_url);
  EXPECT_EQ(out.local_backends->error_urls, out.relay->error_urls);
}

TEST(error_url, relay_takes_errorurl_like_the_connector) {
  const auto out = parse({"--clean", "--isfrontend", "--domain=http:a.example:s",
                          "-Ehttps://err.example/?", "--errorurl=Sub.Example:http://x.example/"});
  ASSERT_TRUE(out.ok()) << dump(out.errors);
  EXPECT_EQ(out.relay->error_url, "https://err.example/?");
  ASSERT_EQ(out.relay->error_urls.size(), 1u);
  EXPECT_EQ(out.relay->error_urls[0].domain, "sub.example");
  EXPECT_EQ(out.relay->error_urls[0].url, "http://x.example/");
  const auto empty = parse({"--clean", "--isfrontend", "--domain=http:a.example:s", "--errorurl="});
  EXPECT_TRUE(mentions(empty.errors, "needs a URL")) << dump(empty.errors);
}

TEST(error_url, choice_walks_up_the_domain_and_drops_the_port) {
  const std::vector<error_url_rule> rules{{"example.com", "http://e/"}, {"a.example.com", "http://a/"}};
  auto c = choose_error_url("https://d/?", rules, "x.a.example.com:8080");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->url, "http://a/");
  EXPECT_FALSE(c->advertise);
  c = choose_error_url("https://d/?", rules, "b.example.com");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->url, "http://e/");
  c = choose_error_url("https://d/?", rules, "other.test");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->url, "https://d/?");
  EXPECT_TRUE(c->advertise);
  EXPECT_FALSE(choose_error_url("", rules, "other.test"));
  EXPECT_FALSE(choose_error_url("", {}, "example.com"));
}

TEST(error_url, page_without_a_url_is_the_plain_one) {
  EXPECT_EQ(unavailable_page("", {}, "u", "fe", "http", "a.test"),
            wire::format_unavailable_page("u", "HTTP", "a.test", "fe"));
  EXPECT_NE(unavailable_page("http://e/?", {}, "u", "be", "http", "a.test")
                .find("src=\"http://e/?&amp;where=BE&amp;proto=http&amp;domain=a.test\""),
            std::string::npos);
}

}  // namespace
}  // namespace kiteline::config::test
