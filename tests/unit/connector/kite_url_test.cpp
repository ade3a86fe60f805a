// connector::kite_public_url: the URL printed when a kite goes live, per proto and port.
#include <gtest/gtest.h>

#include "connector/kite_url.hpp"

namespace kiteline::connector {
namespace {

TEST(KiteUrl, HttpUsesTheRelayPortUnlessItIs80) {
  EXPECT_EQ(kite_public_url("http:demo.localhost", "127.0.0.1:40123"),
            "http://demo.localhost:40123/");
  EXPECT_EQ(kite_public_url("http:a.example.com", "relay.example.com:80"),
            "http://a.example.com/");
  EXPECT_EQ(kite_public_url("websocket:ws.example.com", "[::1]:8080"),
            "http://ws.example.com:8080/");
}

TEST(KiteUrl, AKitePortWinsOverTheRelayPort) {
  EXPECT_EQ(kite_public_url("http-8080:a.example.com", "relay.example.com:443"),
            "http://a.example.com:8080/");
  EXPECT_EQ(kite_public_url("http-80:a.example.com", "relay.example.com:443"),
            "http://a.example.com/");
}

TEST(KiteUrl, HttpsLeavesOut443) {
  EXPECT_EQ(kite_public_url("https:a.example.com", "relay.example.com:443"),
            "https://a.example.com/");
  EXPECT_EQ(kite_public_url("https:a.example.com", "127.0.0.1:5000"),
            "https://a.example.com:5000/");
  EXPECT_EQ(kite_public_url("https-8443:a.example.com", "relay.example.com:443"),
            "https://a.example.com:8443/");
}

TEST(KiteUrl, RawIsNameAndPort) {
  EXPECT_EQ(kite_public_url("raw-22:ssh.example.com", "relay.example.com:443"),
            "ssh.example.com:22");
  EXPECT_EQ(kite_public_url("raw:x.example.com", "[2001:db8::1]:443"), "x.example.com:443");
}

}  // namespace
}  // namespace kiteline::connector
