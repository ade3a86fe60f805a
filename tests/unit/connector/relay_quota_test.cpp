// connector relay_quota: X-PageKite-IPsPerSec checked at every split point, a round's limit
// fields and the Quota: chunks of re-checks.
#include "connector/relay_quota.hpp"

#include <string>

#include <gtest/gtest.h>

namespace kiteline::connector {
namespace {

TEST(RelayQuota, IpsPerSecIsCheckedAsAWhole) {
  EXPECT_TRUE(valid_ips_per_sec("2/3600"));
  EXPECT_TRUE(valid_ips_per_sec("4294967295/1"));
  EXPECT_TRUE(valid_ips_per_sec("007/060"));  // leading zeros, as int() reads them
  // Every cut of "12/3600": a prefix is whole once a digit follows the slash, a suffix while
  // it still holds a digit before the slash.
  const std::string full = "12/3600";
  for (std::size_t n = 0; n <= full.size(); ++n) {
    EXPECT_EQ(valid_ips_per_sec(full.substr(0, n)), n > 3) << n;
    EXPECT_EQ(valid_ips_per_sec(full.substr(n)), n < 2) << n;
  }
  for (const char* bad :
       {"", "/", "2/", "/60", "0/60", "2/0", "-2/60", "2/-60", " 2/60", "2/60 ", "2 / 60", "2/60/1",
        "4294967296/1", "2/4294967296", "x/60", "2/6x", "+2/60"}) {
    EXPECT_FALSE(valid_ips_per_sec(bad)) << bad;
  }
}

TEST(RelayQuota, ARoundSetsTheFieldsItCarries) {
  relay_quota q;
  EXPECT_TRUE(q.empty());
  round_outcome none;
  EXPECT_FALSE(q.apply_round(none));
  EXPECT_TRUE(q.empty());

  round_outcome r;
  r.quota_kb = 2048;
  r.qconns = 5;
  r.qdays = 30;
  r.ips_per_sec = "2/3600";
  EXPECT_TRUE(q.apply_round(r));
  EXPECT_EQ(q.quota_kb, 2048);
  EXPECT_EQ(q.quota_conns, 5);
  EXPECT_EQ(q.quota_days, 30);
  EXPECT_EQ(q.ips_per_sec, "2/3600");

  // A later round (AddKites) with only a quota keeps the other fields, as pagekite.py does.
  round_outcome later;
  later.quota_kb = 100;
  EXPECT_TRUE(q.apply_round(later));
  EXPECT_EQ(q.quota_kb, 100);
  EXPECT_EQ(q.quota_conns, 5);
  EXPECT_EQ(q.ips_per_sec, "2/3600");

  // A malformed IPsPerSec counts as sent but does not replace a good one.
  round_outcome bad;
  bad.ips_per_sec = "lots";
  EXPECT_TRUE(q.apply_round(bad));
  EXPECT_EQ(q.ips_per_sec, "2/3600");
}

TEST(RelayQuota, QuotaChunksReplaceTheQuota) {
  relay_quota q;
  EXPECT_TRUE(q.apply_chunk(2048));
  EXPECT_FALSE(q.apply_chunk(2048));  // re-sent unchanged at each re-check
  EXPECT_TRUE(q.apply_chunk(1024));
  EXPECT_TRUE(q.apply_chunk(-2));  // the frame decoder lets a sign through; shown as sent
  EXPECT_EQ(q.quota_kb, -2);
  EXPECT_FALSE(q.quota_conns || q.quota_days || !q.ips_per_sec.empty());
}

}  // namespace
}  // namespace kiteline::connector
