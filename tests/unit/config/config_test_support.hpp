// Test helpers for the config unit tests: argv building (temp dirs: support/temp_dir.hpp).
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "config/parse.hpp"
#include "support/temp_dir.hpp"

namespace kiteline::config::test {

using kiteline::test::temp_dir;

/// argv with the program name in front.
inline std::vector<std::string> argv_of(std::vector<std::string> args) {
  args.insert(args.begin(), "kiteline");
  return args;
}

/// parse_command_line with no HOME (no ~/.pagekite.rc) unless one is given.
inline parse_outcome parse(std::vector<std::string> args, std::filesystem::path home = {}) {
  const auto argv = argv_of(std::move(args));
  environment env;
  env.home = std::move(home);
  return parse_command_line(argv, env);
}

/// All diagnostics as "origin: key: message" lines, for readable failure output.
inline std::string dump(const std::vector<diagnostic>& ds) {
  std::string out;
  for (const auto& d : ds) {
    out += d.to_string();
    out += '\n';
  }
  return out;
}

/// True when some diagnostic's to_string() contains `needle`.
inline bool mentions(const std::vector<diagnostic>& ds, const std::string& needle) {
  for (const auto& d : ds) {
    if (d.to_string().find(needle) != std::string::npos) {
      return true;
    }
  }
  return false;
}

}  // namespace kiteline::config::test
