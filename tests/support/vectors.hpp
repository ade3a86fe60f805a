// The captured pagekite.py conversations in ../shared/vectors/pagekite-py (KITELINE_SHARED_DIR,
// set by CMake): the one place tests find and read them.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

namespace kiteline::test {

/// KITELINE_SHARED_DIR/vectors/pagekite-py.
[[nodiscard]] std::filesystem::path vectors_dir();

/// The bytes of a capture file, `path` relative to vectors_dir() (e.g.
/// "nozchunks/01-handshake-get.tunnel2.be2fe.bin") or absolute. A file that cannot be read
/// fails the current test (and gives "").
[[nodiscard]] std::string read_vector(const std::filesystem::path& path);
/// read_vector(set / name), e.g. ("nozchunks", "01-handshake-get.tunnel1.be2fe.bin").
[[nodiscard]] std::string read_vector(const std::string& set, const std::string& name);
/// The same as bytes.
[[nodiscard]] std::vector<std::byte> read_vector_bytes(const std::filesystem::path& path);

}  // namespace kiteline::test
