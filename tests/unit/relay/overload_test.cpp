// relay overload: pagekite.py's overload level from --overload, --overload_file, CPU and memory.
#include "relay/overload.hpp"

#include <gtest/gtest.h>

namespace kiteline::relay {
namespace {

TEST(Overload, ParsesProcFiles) {
  EXPECT_DOUBLE_EQ(*parse_loadavg("0.52 1.25 2.00 3/456 7890\n"), 1.25);
  EXPECT_FALSE(parse_loadavg(""));
  EXPECT_FALSE(parse_loadavg("0.5"));
  EXPECT_FALSE(parse_loadavg("0.5 x 1"));
  const auto m = parse_meminfo(
      "MemTotal:        8000000 kB\nMemFree:          100000 kB\nMemAvailable:    2000000 kB\n"
      "Cached:           500000 kB\n");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->total, 8000000U);
  EXPECT_EQ(m->free, 2000000U);
  // Without MemAvailable: MemFree + Cached.
  EXPECT_EQ(parse_meminfo("MemTotal: 100 kB\nMemFree: 10 kB\nCached: 5 kB\n")->free, 15U);
  EXPECT_FALSE(parse_meminfo("MemFree: 10 kB\n"));
}

TEST(Overload, FileValue) {
  EXPECT_EQ(parse_overload_file(" 42\n"), 42U);
  EXPECT_EQ(parse_overload_file("0"), 0U);
  for (const char* bad : {"", "x", "-1", "1.5", "4 2"}) {
    EXPECT_FALSE(parse_overload_file(bad)) << bad;
  }
}

TEST(Overload, NoLevelNeverOverloaded) {
  overload_level l(overload_settings{});
  EXPECT_FALSE(l.overloaded(1000000));
  EXPECT_FALSE(l.update(overload_sample{std::nullopt, 1.0, meminfo_figures{100, 50}, 500}));
  EXPECT_EQ(l.current(), 0U);
}

TEST(Overload, FileSetsTheLevelOutright) {
  overload_level l(overload_settings{});
  EXPECT_TRUE(l.update(overload_sample{1, std::nullopt, std::nullopt, 1}));
  EXPECT_EQ(l.current(), 1U);
  EXPECT_TRUE(l.overloaded(0));  // the load counts as at least 1 (pagekite.py)
  EXPECT_FALSE(l.update(overload_sample{1, std::nullopt, std::nullopt, 1}));  // unchanged
  EXPECT_TRUE(l.update(overload_sample{100, std::nullopt, std::nullopt, 1}));
  EXPECT_FALSE(l.overloaded(99));
  EXPECT_TRUE(l.overloaded(100));
  EXPECT_TRUE(l.update(overload_sample{0, std::nullopt, std::nullopt, 1}));  // 0 turns it off
  EXPECT_FALSE(l.overloaded(1000));
}

TEST(Overload, BaseAloneIsTheBudget) {
  overload_level l(overload_settings{200, 0.75, 0.85});
  EXPECT_FALSE(l.overloaded(199));
  EXPECT_TRUE(l.overloaded(200));
  // Below a load of 50 the CPU/memory formula leaves the level alone.
  EXPECT_FALSE(l.update(overload_sample{std::nullopt, 5.0, meminfo_figures{1000000, 10}, 49}));
  EXPECT_EQ(l.current(), 200U);
}

TEST(Overload, CpuAndMemoryMoveTheLevelAFifthOfTheWay) {
  // pagekite.py, by hand: membase = max(50000, 4000000 - 3000000) = 1000000; memtotal =
  // 3000000; at load 100 with 2000000 free: munit = 10000, moverload = 0.85 * 3000000 / 10000
  // = 255; loadavg 2.0: lunit = 0.02, loverload = 0.75 / 0.02 = 37; target = max(1000 / 2,
  // min(255, 37)) = 500; level = 0.8 * 1000 + 0.2 * 500 = 900.
  overload_level l(overload_settings{1000, 0.75, 0.85});
  EXPECT_FALSE(l.update(overload_sample{std::nullopt, 0.5, meminfo_figures{4000000, 3000000}, 1}));
  EXPECT_TRUE(l.update(overload_sample{std::nullopt, 2.0, meminfo_figures{4000000, 2000000}, 100}));
  EXPECT_EQ(l.current(), 900U);
  // With the CPU check off (0), the memory figure alone decides: target max(500, 255) = 500.
  overload_level m(overload_settings{1000, 0, 0.85});
  (void)m.update(overload_sample{std::nullopt, 0.5, meminfo_figures{4000000, 3000000}, 1});
  EXPECT_TRUE(m.update(overload_sample{std::nullopt, 2.0, meminfo_figures{4000000, 2000000}, 100}));
  EXPECT_EQ(m.current(), 900U);
  // A lightly loaded machine raises the level above --overload.
  overload_level up(overload_settings{100, 0.75, 0.85});
  (void)up.update(overload_sample{std::nullopt, 0.1, meminfo_figures{4000000, 3000000}, 1});
  EXPECT_TRUE(up.update(overload_sample{std::nullopt, 0.1, meminfo_figures{4000000, 2990000}, 60}));
  EXPECT_GT(up.current(), 100U);
}

}  // namespace
}  // namespace kiteline::relay
