// Unit tests for connector::firewall_check: pagekite.py's default request firewall (§7.3 item 4).
// Every row's blocked/allowed outcome was checked against pagekite.py 1.5.2's own matcher
// (filters.py HttpSecurityFilter) on the request line "METHOD TARGET HTTP/1.1".
#include "connector/http_firewall.hpp"

#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

namespace kiteline::connector {
namespace {

struct row {
  std::string_view target;
  firewall_rule rule;
};

void expect_rows(std::string_view method, const std::vector<row>& rows) {
  for (const row& r : rows) {
    EXPECT_EQ(firewall_check(method, r.target), r.rule)
        << method << " " << r.target << " -> "
        << firewall_rule_name(firewall_check(method, r.target)) << ", want "
        << firewall_rule_name(r.rule);
  }
}

TEST(http_firewall, paths_that_start_with_an_admin_tool) {
  expect_rows("GET", {
                         {"/xampp/", firewall_rule::xampp},
                         {"/xampp/phpinfo", firewall_rule::xampp},
                         {"///XAMPP/x", firewall_rule::xampp},
                         {"/security/", firewall_rule::security},
                         {"/licenses/x", firewall_rule::licenses},
                         {"/webalizer/", firewall_rule::webalizer},
                         {"/server-status", firewall_rule::server_status},
                         {"/server-status?auto", firewall_rule::server_status},
                         {"/Server-Statusx", firewall_rule::server_status},
                         {"/server-info", firewall_rule::server_info},
                         {"/adm", firewall_rule::adm_prefix},
                         {"/admin", firewall_rule::adm_prefix},
                         {"/Administrator/index", firewall_rule::adm_prefix},
                         {"//admin", firewall_rule::adm_prefix},
                         {"/ADMIN", firewall_rule::adm_prefix},
                         // Only at the start, and with the trailing '/' where the rule has one.
                         {"/xampp", firewall_rule::none},
                         {"/securityx/", firewall_rule::none},
                         {"/licenses", firewall_rule::none},
                         {"/a/server-status", firewall_rule::none},
                         {"/a/admin", firewall_rule::none},
                         {"/ad", firewall_rule::none},
                         {"http://foo.test/admin", firewall_rule::none},
                         {"*", firewall_rule::none},
                         {"/", firewall_rule::none},
                         {"", firewall_rule::none},
                     });
}

TEST(http_firewall, wordpress_admin_and_its_exceptions) {
  expect_rows("GET", {
                         {"/wp-admin/", firewall_rule::wp_admin},
                         {"/WP-ADMIN/", firewall_rule::wp_admin},
                         {"/blog/wp-admin/options.html", firewall_rule::wp_admin},
                         {"/wp-admin/css", firewall_rule::wp_admin},  // no '/' after css
                         {"/wp-admin/cssx/", firewall_rule::wp_admin},
                         {"/wp-admin/admin-ajax", firewall_rule::none},
                         {"/wp-admin/Admin-AJAX?action=x", firewall_rule::none},
                         {"/wp-admin/css/colors.css", firewall_rule::none},
                         {"/wp-admin/CSS/", firewall_rule::none},
                         {"/wp-admin", firewall_rule::none},
                         // pagekite.py quirk: the exception does not cover admin-ajax.php, which
                         // the adm*.php rule refuses after the '/' before "admin-ajax".
                         {"/wp-admin/admin-ajax.php", firewall_rule::adm_php},
                         {"/wp-admin/css/../x", firewall_rule::dot_dot},
                         // A second wp-admin/ without an exception still counts.
                         {"/wp-admin/css/wp-admin/x", firewall_rule::wp_admin},
                         {"/wp-config.php", firewall_rule::wp_config},
                         {"/blog/WP-Config.PHP.bak", firewall_rule::wp_config},
                         {"/wp-config.txt", firewall_rule::none},
                         {"/xwp-config.php", firewall_rule::none},
                     });
}

TEST(http_firewall, traversal_and_server_files) {
  expect_rows("GET", {
                         {"/x/../../etc/passwd", firewall_rule::dot_dot},
                         {"/..", firewall_rule::dot_dot},
                         {"/..foo", firewall_rule::dot_dot},
                         {"/search?q=/../x", firewall_rule::dot_dot},
                         {"/a..b", firewall_rule::none},  // ".." must follow a '/'
                         {"/a/b..", firewall_rule::none},
                         {"/%2e%2e/x", firewall_rule::none},  // nothing is percent-decoded
                         {"/windows/system32/cmd.exe", firewall_rule::system32},
                         {"/SYSTEM32/", firewall_rule::system32},
                         {"/system32", firewall_rule::none},
                         {"/.htaccess", firewall_rule::htaccess},
                         {"/dir/.HTAccess", firewall_rule::htaccess},
                         {"/.htpasswd", firewall_rule::htpass},
                         {"/.htpass", firewall_rule::htpass},
                         {"/.htp", firewall_rule::none},
                         {"/x.htaccess", firewall_rule::none},
                     });
}

TEST(http_firewall, database_admin_tools) {
  expect_rows("GET", {
                         {"/phpmyadmin/", firewall_rule::db_admin},
                         {"/phpMyAdmin/index", firewall_rule::db_admin},
                         {"/tools/PHPMYADMIN", firewall_rule::db_admin},
                         {"/myadmin", firewall_rule::db_admin},
                         {"/mysqladmin", firewall_rule::db_admin},
                         {"/mysqlmanager", firewall_rule::db_admin},
                         {"/sqlmyadm", firewall_rule::db_admin},
                         {"/phpmysqlmanager", firewall_rule::db_admin},
                         {"/mymanager/", firewall_rule::db_admin},
                         {"/xphpmyadmin", firewall_rule::none},  // must follow a '/'
                         {"/phpmy", firewall_rule::none},
                         {"/mysql/", firewall_rule::none},
                         {"/phpsqlmyadmin", firewall_rule::none},
                     });
}

TEST(http_firewall, setup_and_admin_scripts) {
  expect_rows("GET", {
                         {"/x/admin.php", firewall_rule::adm_php},
                         {"/x/adm.php", firewall_rule::adm_php},
                         {"/x/administrator/index.php", firewall_rule::adm_php},
                         {"/x/admin/?next=a.PHP", firewall_rule::adm_php},
                         {"/x/adm/x.phps", firewall_rule::adm_php},
                         {"/x/install.php", firewall_rule::install_php},
                         {"/x/installer/step1.php", firewall_rule::install_php},
                         {"/Install.Php", firewall_rule::install_php},
                         {"/x/setup.php", firewall_rule::setup_php},
                         {"/SETUP.PHP?x", firewall_rule::setup_php},
                         {"/x/admin.html", firewall_rule::none},
                         {"/x/install", firewall_rule::none},
                         {"/x/setup.html", firewall_rule::none},
                         {"/x/mysetup.php", firewall_rule::none},
                         {"/x/.php/admin", firewall_rule::none},  // ".php" must come after
                         {"/index.php", firewall_rule::none},
                     });
}

TEST(http_firewall, applies_to_five_methods_in_any_case) {
  for (std::string_view m : {"GET", "get", "Post", "PUT", "pAtCh", "DELETE", "delete"}) {
    EXPECT_EQ(firewall_check(m, "/wp-admin/"), firewall_rule::wp_admin) << m;
    EXPECT_EQ(firewall_check(m, "/server-status"), firewall_rule::server_status) << m;
  }
  for (std::string_view m :
       {"HEAD", "OPTIONS", "TRACE", "CONNECT", "PROPFIND", "GETX", "GE", "POSTS", ""}) {
    EXPECT_EQ(firewall_check(m, "/wp-admin/"), firewall_rule::none) << m;
    EXPECT_EQ(firewall_check(m, "/x/../../etc/passwd"), firewall_rule::none) << m;
  }
}

TEST(http_firewall, the_lowest_rule_wins_and_every_rule_has_a_name) {
  EXPECT_EQ(firewall_check("GET", "/admin/../x"), firewall_rule::adm_prefix);
  EXPECT_EQ(firewall_check("GET", "/a/.htaccess/../wp-admin/"), firewall_rule::wp_admin);
  EXPECT_EQ(firewall_check("GET", "/a/setup.php/x/../"), firewall_rule::dot_dot);
  EXPECT_EQ(firewall_rule_name(firewall_rule::none), "none");
  EXPECT_EQ(firewall_rule_name(firewall_rule::server_status), "/server-status");
  EXPECT_EQ(firewall_rule_name(firewall_rule::wp_admin), "wp-admin/");
  EXPECT_EQ(firewall_rule_name(firewall_rule::dot_dot), "/..");
  EXPECT_EQ(firewall_rule_name(firewall_rule::db_admin), "phpMyAdmin-like");
  EXPECT_EQ(firewall_rule_name(firewall_rule::adm_php), "adm*.php");
  for (int r = 0; r <= static_cast<int>(firewall_rule::setup_php); ++r) {
    EXPECT_NE(firewall_rule_name(static_cast<firewall_rule>(r)), "?") << r;
  }
}

TEST(http_firewall, adm_php_looks_for_php_anywhere_after_the_word) {
  // 16 Ki times "/adm": ".php" only at the very end still counts for every one of them.
  std::string t;
  for (int i = 0; i < 16 * 1024; ++i) {
    t += "/adm";
  }
  EXPECT_EQ(firewall_check("GET", "/x" + t), firewall_rule::none);
  EXPECT_EQ(firewall_check("GET", "/x" + t + ".php"), firewall_rule::adm_php);
}

}  // namespace
}  // namespace kiteline::connector
