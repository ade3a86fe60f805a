#include "support/vectors.hpp"

#include <fstream>
#include <iterator>

#include <gtest/gtest.h>

namespace kiteline::test {

std::filesystem::path vectors_dir() {
  return std::filesystem::path(KITELINE_SHARED_DIR) / "vectors" / "pagekite-py";
}

std::string read_vector(const std::filesystem::path& path) {
  const auto p = path.is_absolute() ? path : vectors_dir() / path;
  std::ifstream in(p, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot read vector " << p;
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string read_vector(const std::string& set, const std::string& name) {
  return read_vector(std::filesystem::path(set) / name);
}

std::vector<std::byte> read_vector_bytes(const std::filesystem::path& path) {
  const std::string s = read_vector(path);
  const auto* b = reinterpret_cast<const std::byte*>(s.data());
  return {b, b + s.size()};
}

}  // namespace kiteline::test
