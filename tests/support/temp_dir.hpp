// A fresh temporary directory for a test, removed with everything in it by the destructor.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace kiteline::test {

class temp_dir {
 public:
  /// Creates $TMPDIR/kiteline-<prefix>-XXXXXX; path() is empty if that failed.
  explicit temp_dir(std::string_view prefix = "test");
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  [[nodiscard]] bool ok() const noexcept { return !path_.empty(); }
  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }
  /// dir/name as a string (the file need not exist).
  [[nodiscard]] std::string file(std::string_view name) const;
  /// Writes `text` to dir/name (creating sub-directories) and returns the full path.
  std::string write(std::string_view name, std::string_view text) const;

 private:
  std::filesystem::path path_;
};

/// Writes `text` to `path` (binary, truncating).
void write_file(const std::filesystem::path& path, std::string_view text);
/// Writes `text` to `path` atomically (temp file + rename), as certificate tools and
/// configuration managers do: a reader never sees half a file.
void write_file_atomically(const std::filesystem::path& path, std::string_view text);
/// The whole file as bytes in a string ("" if unreadable).
[[nodiscard]] std::string read_file(const std::filesystem::path& path);

}  // namespace kiteline::test
