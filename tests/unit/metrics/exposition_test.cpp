// metrics/exposition: the Prometheus text format writer (escaping, families, ordering, values).
#include "metrics/exposition.hpp"

#include "metrics/counter.hpp"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>

namespace kiteline::metrics {
namespace {

TEST(exposition, label_values_escape_backslash_quote_and_newline) {
  EXPECT_EQ(escape_label_value(R"(a\b"c)" "\n" "d"), R"(a\\b\"c\nd)");
  EXPECT_EQ(escape_label_value("plain <script>"), "plain <script>");
  exposition e;
  e.add("x_total", "help", metric_type::counter, 1, {{"kite", "a\"b\\c\nd"}});
  EXPECT_EQ(e.text(),
            "# HELP x_total help\n# TYPE x_total counter\n"
            "x_total{kite=\"a\\\"b\\\\c\\nd\"} 1\n");
}

TEST(exposition, help_escapes_backslash_and_newline_only) {
  EXPECT_EQ(escape_help("a\\b\nc\"d"), "a\\\\b\\nc\"d");
}

TEST(exposition, families_keep_first_declaration_order_and_samples_stay_together) {
  exposition e;
  const auto a = e.declare("b_gauge", "second name, declared first", metric_type::gauge);
  const auto b = e.declare("a_total", "first name, declared second", metric_type::counter);
  e.add(a, {{"x", "1"}}, 1);
  e.add(b, {}, 7);
  e.add(a, {{"x", "2"}}, 2);
  EXPECT_EQ(e.declare("b_gauge", "other help", metric_type::counter), a);  // found, not new
  EXPECT_EQ(e.text(),
            "# HELP b_gauge second name, declared first\n# TYPE b_gauge gauge\n"
            "b_gauge{x=\"1\"} 1\nb_gauge{x=\"2\"} 2\n"
            "# HELP a_total first name, declared second\n# TYPE a_total counter\n"
            "a_total 7\n");
}

TEST(exposition, a_family_without_samples_has_its_help_and_type) {
  exposition e;
  (void)e.declare("empty", "nothing yet", metric_type::gauge);
  EXPECT_EQ(e.text(), "# HELP empty nothing yet\n# TYPE empty gauge\n");
}

TEST(exposition, several_labels_in_the_given_order) {
  exposition e;
  e.add("v_total", "h", metric_type::counter, 3, {{"proto", "http"}, {"result", "routed"}});
  EXPECT_NE(e.text().find("v_total{proto=\"http\",result=\"routed\"} 3\n"), std::string::npos);
}

TEST(exposition, values) {
  EXPECT_EQ(format_value(0), "0");
  EXPECT_EQ(format_value(12345678901234.0), "12345678901234");
  EXPECT_EQ(format_value(-3), "-3");
  EXPECT_EQ(format_value(0.25), "0.25");
  EXPECT_EQ(format_value(0.04), "0.04");
  EXPECT_EQ(format_value(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(format_value(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(format_value(std::nan("")), "NaN");
  EXPECT_EQ(std::stod(format_value(0.1 + 0.2)), 0.1 + 0.2);  // round-trips
}

TEST(exposition, names) {
  EXPECT_TRUE(valid_metric_name("kiteline_relay_tunnels"));
  EXPECT_TRUE(valid_metric_name("a:b_c9"));
  EXPECT_FALSE(valid_metric_name("9a"));
  EXPECT_FALSE(valid_metric_name("a-b"));
  EXPECT_FALSE(valid_metric_name(""));
  EXPECT_TRUE(valid_label_name("proto"));
  EXPECT_FALSE(valid_label_name("__name"));
  EXPECT_FALSE(valid_label_name("a:b"));
  // A slip in code cannot produce an unparseable exposition: bad bytes become '_'.
  exposition e;
  e.add("bad-name", "h", metric_type::gauge, 1, {{"bad-label", "v"}});
  EXPECT_EQ(e.text(), "# HELP bad_name h\n# TYPE bad_name gauge\nbad_name{bad_label=\"v\"} 1\n");
}

TEST(counter, counts_and_gauges_go_both_ways) {
  counter c;
  c.add();
  c.add(41);
  EXPECT_EQ(c.value(), 42u);
  gauge g;
  g.add(5);
  g.sub(7);
  EXPECT_EQ(g.value(), -2);
  g.set(3);
  EXPECT_EQ(g.value(), 3);
}

}  // namespace
}  // namespace kiteline::metrics
