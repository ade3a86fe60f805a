#include "support/temp_dir.hpp"

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <system_error>

namespace kiteline::test {

temp_dir::temp_dir(std::string_view prefix) {
  std::error_code ec;
  auto base = std::filesystem::temp_directory_path(ec);
  if (ec) {
    base = "/tmp";
  }
  std::string tmpl = (base / ("kiteline-" + std::string(prefix) + "-XXXXXX")).string();
  if (::mkdtemp(tmpl.data()) != nullptr) {
    path_ = tmpl;
  }
}

temp_dir::~temp_dir() {
  if (!path_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
}

std::string temp_dir::file(std::string_view name) const { return (path_ / name).string(); }

std::string temp_dir::write(std::string_view name, std::string_view text) const {
  const auto p = path_ / name;
  std::error_code ec;
  std::filesystem::create_directories(p.parent_path(), ec);
  write_file(p, text);
  return p.string();
}

void write_file(const std::filesystem::path& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
}

void write_file_atomically(const std::filesystem::path& path, std::string_view text) {
  auto tmp = path;
  tmp += ".tmp";
  write_file(tmp, text);
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace kiteline::test
