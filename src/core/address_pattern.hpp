// core address_pattern: the one way kiteline compiles and matches the address regexes of
// pagekite.py's access rules (--client_acl, --tunnel_acl, --accept_acl_file). Pure, headers only.
#pragma once

#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <string_view>

namespace kiteline {

/// Longest pattern accepted (an address regex; bounds the compile work on a hostile ACL file).
inline constexpr std::size_t max_address_pattern = 256;

/// A compiled address regex (ECMAScript syntax, which covers the Python syntax of IP patterns).
/// Where libstdc++ offers it the matcher is its breadth-first one (__polynomial): matching
/// costs at most states x input length, never exponential backtracking; back-references are
/// refused at compile time. Copies share the compiled form; const use is thread-safe.
class address_pattern {
 public:
  /// Compiles `text`; nullopt with `why` set when it is empty, too long, or not a regex.
  [[nodiscard]] static std::optional<address_pattern> compile(std::string_view text,
                                                              std::string& why) {
    if (text.empty() || text.size() > max_address_pattern) {
      why = text.empty() ? "empty pattern"
                         : "pattern longer than " + std::to_string(max_address_pattern) + " bytes";
      return std::nullopt;
    }
    auto flags = std::regex::ECMAScript | std::regex::nosubs;
#if defined(__GLIBCXX__)
    flags |= std::regex_constants::__polynomial;
#endif
    try {
      address_pattern p;
      p.text_ = std::string(text);
      p.re_ = std::make_shared<const std::regex>(p.text_, flags);
      return p;
    } catch (const std::regex_error& e) {
      why = std::string("bad regex: ") + e.what();
      return std::nullopt;
    }
  }

  /// The whole address matches (pagekite.py: re.match(PATTERN + '$')).
  [[nodiscard]] bool matches_whole(std::string_view address) const {
    return std::regex_match(address.begin(), address.end(), *re_);
  }
  /// The address starts with a match (pagekite.py's ACL file: re.compile(PATTERN).match).
  [[nodiscard]] bool matches_start(std::string_view address) const {
    return std::regex_search(address.begin(), address.end(), *re_,
                             std::regex_constants::match_continuous);
  }
  [[nodiscard]] const std::string& text() const noexcept { return text_; }

 private:
  address_pattern() = default;
  std::string text_;
  std::shared_ptr<const std::regex> re_;
};

}  // namespace kiteline
