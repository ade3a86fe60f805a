// Test helpers for the config unit tests: temporary directories and argv building.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "config/parse.hpp"

namespace kiteline::config::test {

/// A fresh directory under the system temp dir, removed with everything in it on destruction.
class temp_dir {
 public:
  temp_dir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "kl-config-XXXXXX").string();
    if (::mkdtemp(pattern.data()) != nullptr) {
      path_ = pattern;
    }
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  [[nodiscard]] const std::filesystem::path& path() const { return path_; }
  /// Writes `text` to dir/name (creating sub-directories) and returns the full path.
  std::string write(const std::string& name, const std::string& text) const {
    const auto p = path_ / name;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
    return p.string();
  }
  [[nodiscard]] std::string str(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

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
