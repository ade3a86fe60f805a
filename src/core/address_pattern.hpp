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
    if (const char* bad = too_costly(text)) {
      why = bad;
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

  /// What std::regex must not be given: a number of more than 9 digits (libstdc++ parses
  /// back-reference and repetition numbers into a long without an overflow check), and counted
  /// repetitions whose counts multiply past 4096 (libstdc++ copies the repeated part once per
  /// count, so nested {n} make the compiled form grow as their product). IP patterns need
  /// neither ("\\d{1,3}" four times: 81). nullptr when the pattern is fine.
  static const char* too_costly(std::string_view text) {
    std::size_t digits = 0;
    std::size_t product = 1;
    for (std::size_t i = 0; i < text.size(); ++i) {
      const char c = text[i];
      digits = (c >= '0' && c <= '9') ? digits + 1 : 0;
      if (digits > 9) {
        return "number longer than 9 digits in pattern";
      }
      if (c == '\\') {
        ++i;  // an escaped character is never a repetition
        digits = 0;
        continue;
      }
      if (c != '{') {
        continue;
      }
      std::size_t n = 0;
      std::size_t highest = 0;
      std::size_t j = i + 1;
      for (; j < text.size() && j < i + 12 && text[j] != '}'; ++j) {
        if (text[j] >= '0' && text[j] <= '9') {
          n = n * 10 + static_cast<std::size_t>(text[j] - '0');
          highest = highest > n ? highest : n;
        } else if (text[j] == ',') {
          n = 0;
        }
      }
      product *= highest > 0 ? highest : 1;
      if (product > 4096) {
        return "counted repetitions ({n}) too large in pattern";
      }
    }
    return nullptr;
  }
  std::string text_;
  std::shared_ptr<const std::regex> re_;
};

}  // namespace kiteline
