// metrics/proc_stat: the /proc parsers behind process_* (texts as Linux writes them).
#include "metrics/proc_stat.hpp"

#include <gtest/gtest.h>

namespace kiteline::metrics {
namespace {

TEST(proc_stat, fields_after_a_command_name_with_spaces_and_parens) {
  const std::string_view text =
      "4242 (kite line) x) S 1 4242 4242 0 -1 4194560 1200 0 0 0 150 75 0 0 20 0 3 0 "
      "987654 123456789 2500 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0\n";
  const auto st = parse_proc_stat(text);
  ASSERT_TRUE(st);
  EXPECT_EQ(st->utime_ticks, 150u);
  EXPECT_EQ(st->stime_ticks, 75u);
  EXPECT_EQ(st->start_ticks, 987654u);
  EXPECT_EQ(st->vsize_bytes, 123456789u);
  EXPECT_EQ(st->rss_pages, 2500u);
}

TEST(proc_stat, truncated_or_garbled_text_is_refused) {
  EXPECT_FALSE(parse_proc_stat(""));
  EXPECT_FALSE(parse_proc_stat("1 (x) S 1 2 3"));
  EXPECT_FALSE(parse_proc_stat("1 (x) S 1 1 1 0 -1 0 0 0 0 0 1x 2 0 0 20 0 1 0 5 6 7"));
  EXPECT_FALSE(parse_proc_stat("no paren at all 1 2 3"));
}

TEST(proc_stat, limits_and_boot_time) {
  const std::string_view limits =
      "Limit                     Soft Limit           Hard Limit           Units     \n"
      "Max cpu time              unlimited            unlimited            seconds   \n"
      "Max open files            65536                524288               files     \n";
  EXPECT_EQ(parse_max_open_files(limits), 65536u);
  EXPECT_FALSE(parse_max_open_files("Max open files            unlimited            unlimited  files\n"));
  EXPECT_FALSE(parse_max_open_files(""));
  EXPECT_EQ(parse_boot_time("cpu  1 2 3\nintr 5\nbtime 1796630000\nprocesses 9\n"), 1796630000u);
  EXPECT_FALSE(parse_boot_time("cpu 1\n"));
}

}  // namespace
}  // namespace kiteline::metrics
