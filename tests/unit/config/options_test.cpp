// Tests of the option stream: argv lexing, rc-file syntax, optfile/optdir, ~/.pagekite.rc.
#include "config/options.hpp"

#include <gtest/gtest.h>

#include "config_test_support.hpp"

namespace kiteline::config {
namespace {

using test::argv_of;
using test::temp_dir;

expansion expand(std::vector<std::string> args, std::filesystem::path home = {}) {
  const auto argv = argv_of(std::move(args));
  environment env;
  env.home = std::move(home);
  return expand_options(argv, env);
}

raw_option opt(std::string name, std::optional<std::string> value, std::string origin) {
  return raw_option{std::move(name), std::move(value), std::move(origin)};
}

TEST(rc_line, follows_pagekite_syntax) {
  EXPECT_EQ(rc_line_to_option("service_on = http : foo.example : localhost : 80 : s3cret"),
            "--service_on=http:foo.example:localhost:80:s3cret");
  EXPECT_EQ(rc_line_to_option("  isfrontend  "), "--isfrontend");
  EXPECT_EQ(rc_line_to_option("\tfrontend\t=\t1.2.3.4 :443\r"), "--frontend=1.2.3.4:443");
  EXPECT_EQ(rc_line_to_option("--clean"), "--clean");
  EXPECT_EQ(rc_line_to_option("-o x.rc"), "-o x.rc");
  EXPECT_EQ(rc_line_to_option("a = = b"), "--a==b");
  EXPECT_EQ(rc_line_to_option("kitesecret = has space inside"), "--kitesecret=has space inside");
  EXPECT_EQ(rc_line_to_option(""), std::nullopt);
  EXPECT_EQ(rc_line_to_option("   "), std::nullopt);
  EXPECT_EQ(rc_line_to_option("# comment = x"), std::nullopt);
  EXPECT_EQ(rc_line_to_option("   # indented comment"), std::nullopt);
  EXPECT_TRUE(is_rc_end_line("END"));
  EXPECT_TRUE(is_rc_end_line("  ENDING here"));
  EXPECT_FALSE(is_rc_end_line("# END"));
  EXPECT_FALSE(is_rc_end_line("end"));
}

TEST(expand, long_options_both_spellings_and_origins) {
  const auto e = expand({"--clean", "--frontend=a:1", "--frontend", "b:2", "--kitename", "-x"});
  EXPECT_TRUE(e.errors.empty()) << test::dump(e.errors);
  const std::vector<raw_option> want{opt("clean", std::nullopt, "argv[1]"),
                                     opt("frontend", "a:1", "argv[2]"),
                                     opt("frontend", "b:2", "argv[3]"),
                                     opt("kitename", "-x", "argv[5]")};
  EXPECT_EQ(e.options, want);
  EXPECT_TRUE(e.positionals.empty());
}

TEST(expand, short_options_getopt_style) {
  const auto e = expand({"-fa", "-p8080", "-h", "127.0.0.1", "-Lstdio", "-N"});
  EXPECT_TRUE(e.errors.empty()) << test::dump(e.errors);
  const std::vector<raw_option> want{
      opt("isfrontend", std::nullopt, "argv[1]"), opt("all", std::nullopt, "argv[1]"),
      opt("ports", "8080", "argv[2]"),            opt("host", "127.0.0.1", "argv[3]"),
      opt("logfile", "stdio", "argv[5]"),         opt("new", std::nullopt, "argv[6]")};
  EXPECT_EQ(e.options, want);
}

TEST(expand, aliases_are_reported_under_the_canonical_name) {
  const auto e = expand({"--backend=x:1", "--define_backend=y:2", "--be_config=a:b:c",
                         "--check-config", "--appver"});
  ASSERT_EQ(e.options.size(), 5u);
  EXPECT_EQ(e.options[0].name, "service_on");
  EXPECT_EQ(e.options[1].name, "service_off");
  EXPECT_EQ(e.options[2].name, "service_cfg");
  EXPECT_EQ(e.options[3].name, "check_config");
  EXPECT_EQ(e.options[4].name, "version");
}

TEST(expand, positionals_interleave_and_double_dash_ends_options) {
  const auto e = expand({"8080", "--clean", "name.example", "+rewritehost", "--", "--x", "-y"});
  EXPECT_TRUE(e.errors.empty()) << test::dump(e.errors);
  EXPECT_EQ(e.positionals,
            (std::vector<std::string>{"8080", "name.example", "+rewritehost", "--x", "-y"}));
  EXPECT_EQ(e.positional_origins[0], "argv[1]");
  EXPECT_EQ(e.positional_origins[4], "argv[7]");
  ASSERT_EQ(e.options.size(), 1u);
}

TEST(expand, subcommand_only_in_first_position) {
  EXPECT_EQ(expand({"frontend", "--clean"}).subcommand, "frontend");
  EXPECT_EQ(expand({"backend"}).subcommand, "backend");
  const auto later = expand({"--clean", "frontend"});
  EXPECT_FALSE(later.subcommand);
  EXPECT_EQ(later.positionals, std::vector<std::string>{"frontend"});
}

TEST(expand, lexing_errors_name_the_option_and_origin) {
  const auto e = expand({"--nosuch=1", "--clean=yes", "--frontend", "-R", "-o"});
  ASSERT_EQ(e.errors.size(), 3u) << test::dump(e.errors);
  EXPECT_EQ(e.errors[0].to_string(), "argv[1]: nosuch: unknown option --nosuch");
  EXPECT_EQ(e.errors[1].to_string(), "argv[2]: clean: --clean takes no value");
  // "--frontend" takes "-R" as its value (getopt does the same); "-o" has none.
  EXPECT_EQ(e.errors[2].to_string(), "argv[5]: optfile: -o needs a value");
  ASSERT_EQ(e.options.size(), 1u);
  EXPECT_EQ(e.options[0], opt("frontend", "-R", "argv[3]"));
  const auto missing = expand({"--kitename"});
  ASSERT_EQ(missing.errors.size(), 1u);
  EXPECT_EQ(missing.errors[0].to_string(),
            "argv[1]: kitename: --kitename needs a value (--kitename=NAME)");
  const auto bad_short = expand({"-fq"});
  ASSERT_EQ(bad_short.errors.size(), 1u);
  EXPECT_EQ(bad_short.errors[0].to_string(), "argv[1]: q: unknown option -q");
}

TEST(expand, rc_file_syntax) {
  temp_dir dir;
  const std::string rc = dir.write("a.rc",
                                   "# a comment\n"
                                   "\n"
                                   "   isfrontend\r\n"
                                   "frontend = 1.2.3.4 : 443\n"
                                   "--kitename=Foo.Example\r"
                                   "fe_certname =\n"
                                   "-L stdio\n"
                                   "END of the useful part\n"
                                   "nosuch = never read\n");
  const auto e = expand({"--clean", "--optfile=" + rc});
  EXPECT_TRUE(e.errors.empty()) << test::dump(e.errors);
  const std::vector<raw_option> want{
      opt("clean", std::nullopt, "argv[1]"), opt("isfrontend", std::nullopt, rc + ":3"),
      opt("frontend", "1.2.3.4:443", rc + ":4"), opt("kitename", "Foo.Example", rc + ":5"),
      opt("fe_certname", "", rc + ":6"), opt("logfile", "stdio", rc + ":7")};
  EXPECT_EQ(e.options, want);
}

TEST(expand, rc_file_errors_carry_file_and_line) {
  temp_dir dir;
  const std::string rc = dir.write("bad.rc",
                                   "clean\n"
                                   "frontend 1.2.3.4:443\n"
                                   "kitename\n"
                                   "nosuch = 1\n"
                                   "--\n"
                                   "clean = yes\n");
  const auto e = expand({"-o", rc});
  ASSERT_EQ(e.errors.size(), 5u) << test::dump(e.errors);
  EXPECT_EQ(e.errors[0].to_string(),
            rc + ":2: frontend 1.2.3.4:443: unknown option --frontend 1.2.3.4:443 (rc-file lines "
                 "are `name = value`)");
  EXPECT_EQ(e.errors[1].to_string(),
            rc + ":3: kitename: --kitename needs a value (write `kitename = NAME`)");
  EXPECT_EQ(e.errors[2].to_string(), rc + ":4: nosuch: unknown option --nosuch");
  EXPECT_EQ(e.errors[3].to_string(), rc + ":5: `--` is not an option");
  EXPECT_EQ(e.errors[4].to_string(), rc + ":6: clean: --clean takes no value");
  ASSERT_EQ(e.options.size(), 1u);
  EXPECT_EQ(e.options[0], opt("clean", std::nullopt, rc + ":1"));
}

TEST(expand, optfile_is_spliced_in_place_and_nests) {
  temp_dir dir;
  const std::string inner = dir.write("inner.rc", "frontend = inner:1\n");
  const std::string outer =
      dir.write("outer.rc", "frontend = outer:1\noptfile = " + inner + "\nfrontend = outer:2\n");
  const auto e = expand({"--frontend=argv:1", "-o" + outer, "--frontend=argv:2"});
  EXPECT_TRUE(e.errors.empty()) << test::dump(e.errors);
  std::vector<std::string> order;
  for (const auto& o : e.options) {
    order.push_back(*o.value + "@" + o.origin);
  }
  EXPECT_EQ(order, (std::vector<std::string>{"argv:1@argv[1]", "outer:1@" + outer + ":1",
                                             "inner:1@" + inner + ":1", "outer:2@" + outer + ":3",
                                             "argv:2@argv[3]"}));
}

TEST(expand, optdir_reads_rc_files_in_lexical_order_skipping_dot_files) {
  temp_dir dir;
  dir.write("d/20_frontends.rc", "frontend = b:1\n");
  dir.write("d/10_account.rc", "kitename = a.example\n");
  dir.write("d/.hidden.rc", "frontend = hidden:1\n");
  dir.write("d/80_x.rc.sample", "abort_not_configured\n");
  dir.write("d/notes.txt", "nosuch\n");
  dir.write("d/90_debian_certs.rc", "ca_certs = /etc/ssl/certs/ca-certificates.crt\n");
  std::filesystem::create_directories(dir.path() / "d" / "50_dir.rc");
  const auto e = expand({"--clean", "-O", dir.file("d")});
  EXPECT_TRUE(e.errors.empty()) << test::dump(e.errors);
  ASSERT_EQ(e.options.size(), 4u);
  EXPECT_EQ(e.options[1], opt("kitename", "a.example", dir.file("d/10_account.rc") + ":1"));
  EXPECT_EQ(e.options[2], opt("frontend", "b:1", dir.file("d/20_frontends.rc") + ":1"));
  EXPECT_EQ(e.options[3].name, "ca_certs");
}

TEST(expand, missing_files_and_directories_are_errors) {
  temp_dir dir;
  const auto e = expand({"--optfile=" + dir.file("nope.rc"), "--optdir=" + dir.file("nodir"),
                         "--optfile=" + dir.path().string()});
  ASSERT_EQ(e.errors.size(), 3u) << test::dump(e.errors);
  EXPECT_EQ(e.errors[0].to_string(),
            "argv[1]: optfile: cannot read " + dir.file("nope.rc") + ": no such file");
  EXPECT_EQ(e.errors[1].origin, "argv[2]");
  EXPECT_EQ(e.errors[1].key, "optdir");
  EXPECT_EQ(e.errors[2].to_string(),
            "argv[3]: optfile: cannot read " + dir.path().string() + ": is a directory");
}

TEST(expand, nesting_limit_is_25_files) {
  temp_dir dir;
  // chain: f1 includes f2 ... f(n-1) includes fn; fn sets a kitename.
  const auto chain = [&](int n) {
    for (int i = 1; i <= n; ++i) {
      const std::string name = "c" + std::to_string(n) + "_" + std::to_string(i) + ".rc";
      const std::string body =
          i < n ? "optfile = " + dir.file("c" + std::to_string(n) + "_" + std::to_string(i + 1) +
                                         ".rc") + "\n"
                : "kitename = deep.example\n";
      dir.write(name, body);
    }
    return expand({"-o", dir.file("c" + std::to_string(n) + "_1.rc")});
  };
  const auto ok = chain(25);
  EXPECT_TRUE(ok.errors.empty()) << test::dump(ok.errors);
  ASSERT_EQ(ok.options.size(), 1u);
  EXPECT_EQ(ok.options[0].name, "kitename");

  const auto too_deep = chain(26);
  ASSERT_EQ(too_deep.errors.size(), 1u);
  EXPECT_EQ(too_deep.errors[0].origin, dir.file("c26_25.rc") + ":1");
  EXPECT_NE(too_deep.errors[0].message.find("nested more than 25 levels"), std::string::npos);
  EXPECT_TRUE(too_deep.options.empty());

  const std::string self = dir.file("self.rc");
  dir.write("self.rc", "frontend = x:1\noptfile = " + self + "\n");
  const auto loop = expand({"--optfile", self});
  ASSERT_EQ(loop.errors.size(), 1u) << test::dump(loop.errors);
  EXPECT_EQ(loop.options.size(), 25u);
}

TEST(expand, file_size_limit) {
  temp_dir dir;
  const std::string big = dir.write("big.rc", std::string(2000, '#'));
  const auto argv = argv_of({"-o", big});
  environment env;
  env.limits.max_file_bytes = 1000;
  const auto e = expand_options(argv, env);
  ASSERT_EQ(e.errors.size(), 1u);
  EXPECT_EQ(e.errors[0].to_string(),
            "argv[1]: optfile: cannot read " + big + ": larger than 1000 bytes");
}

TEST(expand, home_rc_is_read_first_unless_clean) {
  temp_dir home;
  const std::string rc = home.write(".pagekite.rc", "frontend = home:1\n");
  const auto with_rc = expand({"--frontend=argv:1"}, home.path());
  EXPECT_TRUE(with_rc.errors.empty()) << test::dump(with_rc.errors);
  ASSERT_EQ(with_rc.options.size(), 2u);
  EXPECT_EQ(with_rc.options[0], opt("frontend", "home:1", rc + ":1"));
  EXPECT_EQ(with_rc.options[1], opt("frontend", "argv:1", "argv[1]"));

  for (const char* skip : {"--clean", "--help", "--version"}) {
    const auto clean = expand({"--frontend=argv:1", skip}, home.path());
    ASSERT_EQ(clean.options.size(), 2u) << skip;
    EXPECT_EQ(clean.options[0].origin, "argv[1]") << skip;
  }
  // --clean inside an rc file does not stop ~/.pagekite.rc (it is already being read).
  temp_dir empty_home;
  EXPECT_TRUE(expand({"--frontend=x:1"}, empty_home.path()).errors.empty());
}

TEST(expand, option_count_limit) {
  const auto argv = argv_of({"-N", "-N", "-N", "-N"});
  environment env;
  env.limits.max_options = 3;
  const auto e = expand_options(argv, env);
  EXPECT_EQ(e.options.size(), 3u);
  ASSERT_EQ(e.errors.size(), 1u);
  EXPECT_EQ(e.errors[0].to_string(), "argv[4]: new: more than 3 options");
}

// Same configuration given as argv words or as rc lines: identical option values, whatever
// line-ending style the file uses.
TEST(expand, rc_file_and_argv_agree_for_every_line_ending) {
  const std::vector<std::string> words{"--isfrontend", "--host=127.0.0.1", "--ports=80,443",
                                       "--domain=http,https:*.example.com:S3",
                                       "--tls_endpoint=fe.example:/x/fe.pem"};
  const auto from_argv = expand(words);
  for (const char* eol : {"\n", "\r\n", "\r"}) {
    temp_dir dir;
    std::string text;
    for (const auto& w : words) {
      text += w.substr(2) + eol;
    }
    const auto from_file = expand({"-o", dir.write("x.rc", text)});
    ASSERT_EQ(from_file.options.size(), from_argv.options.size());
    for (std::size_t i = 0; i < words.size(); ++i) {
      EXPECT_EQ(from_file.options[i].name, from_argv.options[i].name);
      EXPECT_EQ(from_file.options[i].value, from_argv.options[i].value);
      EXPECT_EQ(from_file.options[i].origin, dir.file("x.rc") + ":" + std::to_string(i + 1));
    }
  }
}

TEST(option_table, rows_are_consistent) {
  for (const auto& spec : option_table()) {
    EXPECT_EQ(find_option(spec.name), &spec) << spec.name;
    if (!spec.alias_of.empty()) {
      const auto* target = find_option(spec.alias_of);
      ASSERT_NE(target, nullptr) << spec.name;
      EXPECT_TRUE(target->alias_of.empty()) << spec.name;
      EXPECT_EQ(target->kind, spec.kind) << spec.name;
    } else {
      EXPECT_FALSE(spec.help.empty()) << spec.name;
    }
    EXPECT_EQ(spec.takes_value(), !spec.value_name.empty()) << spec.name;
    if (spec.short_name != '\0') {
      EXPECT_EQ(find_short_option(spec.short_name), &spec) << spec.name;
    }
  }
  // pagekite.py's getopt letters (OPT_FLAGS 'o:O:S:H:P:X:L:ZI:fA:R:h:p:aD:U:NE:') minus R.
  for (const char* pair : {"ooptfile", "Ooptdir", "Ssavefile", "Hhttpd", "Ppemfile", "Xhttppass",
                           "Llogfile", "Zdaemonize", "Ipidfile", "fisfrontend", "Aauthdomain",
                           "hhost", "pports", "aall", "Ddyndns", "Urunas", "Nnew",
                           "Eerrorurl"}) {
    const auto* spec = find_short_option(pair[0]);
    ASSERT_NE(spec, nullptr) << pair;
    EXPECT_EQ(spec->name, std::string_view(pair + 1));
  }
}

TEST(help, lists_every_option_with_short_forms_and_status) {
  const std::string help = help_text();
  for (const auto& spec : option_table()) {
    EXPECT_NE(help.find("--" + std::string(spec.name)), std::string::npos) << spec.name;
  }
  EXPECT_NE(help.find("-o, --optfile=FILE"), std::string::npos);
  EXPECT_NE(help.find("-f, --isfrontend"), std::string::npos);
  EXPECT_NE(help.find("--service_on=PROTOS:KITE:HOST:PORT:SECRET"), std::string::npos);
  EXPECT_NE(help.find("(also --backend)"), std::string::npos);
  EXPECT_NE(help.find("--authdomain=[DOMAIN:]SUFFIX"), std::string::npos);
  EXPECT_NE(help.find("[not implemented yet: refused]"), std::string::npos);
  EXPECT_NE(help.find("[accepted and ignored]"), std::string::npos);
  EXPECT_NE(help.find("+rewritehost"), std::string::npos);
  EXPECT_NE(help.find("kiteline frontend"), std::string::npos);
  for (const char* title : {"general options:", "relay options", "connector options",
                            "TLS options:"}) {
    EXPECT_NE(help.find(title), std::string::npos) << title;
  }
}

}  // namespace
}  // namespace kiteline::config
