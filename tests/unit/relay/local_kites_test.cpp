// relay/local_kites: which kite lines of outside connectors would take a kite the relay serves
// itself.
#include "relay/local_kites.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace kiteline::relay {
namespace {

const std::vector<std::string> local{"http:local.example", "https:unknown", "raw-22:ssh.example"};

TEST(LocalKites, SameProtocolAndDomainWhateverThePort) {
  EXPECT_TRUE(takes_local_kite(local, "http:local.example"));
  EXPECT_TRUE(takes_local_kite(local, "http-8080:local.example"));
  EXPECT_TRUE(takes_local_kite(local, "HTTP:Local.Example"));
  EXPECT_TRUE(takes_local_kite(local, "https:unknown"));
  EXPECT_TRUE(takes_local_kite(local, "raw:ssh.example"));
  EXPECT_TRUE(takes_local_kite(local, "raw-2222:ssh.example"));
}

TEST(LocalKites, OtherProtocolsDomainsAndWildcardsAreFree) {
  EXPECT_FALSE(takes_local_kite(local, "https:local.example"));
  EXPECT_FALSE(takes_local_kite(local, "http:other.example"));
  EXPECT_FALSE(takes_local_kite(local, "http:*.example"));
  EXPECT_FALSE(takes_local_kite(local, "http:sub.local.example"));
  EXPECT_FALSE(takes_local_kite(local, "http:"));
  EXPECT_FALSE(takes_local_kite(local, "garbage"));
  EXPECT_FALSE(takes_local_kite({}, "http:local.example"));
}

TEST(LocalKites, NamesLocalKite) {
  EXPECT_TRUE(names_local_kite(local, "local.example"));
  EXPECT_TRUE(names_local_kite(local, "UNKNOWN"));
  EXPECT_FALSE(names_local_kite(local, "other.example"));
  EXPECT_FALSE(names_local_kite(local, ""));
}

}  // namespace
}  // namespace kiteline::relay
