// relay acl (pure): pagekite.py's address rules on the relay: the ordered --client_acl /
// --tunnel_acl lists (POLICY:REGEX, anchored at both ends, `localhost` and `any` shorthands,
// default deny once a rule exists) and the --accept_acl_file format (PATTERN POLICY [reason],
// first match wins, default allow). No I/O: the caller reads the file and logs the decisions.
#pragma once

#include "core/address_pattern.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kiteline::relay {

/// One --client_acl / --tunnel_acl rule, compiled.
struct acl_rule {
  bool allow = false;
  std::string pattern;  ///< as configured (`localhost`, `any` or a regex)
  address_pattern re;
};

/// The regex a rule's pattern stands for: `localhost` is ((::ffff:)?127\..*|::1), `any` is .*,
/// anything else itself (pagekite.py ACL_SHORTHAND).
[[nodiscard]] std::string_view expand_acl_shorthand(std::string_view pattern) noexcept;

/// Compiles one rule (`allow`: the POLICY was allow). nullopt with `why` for a bad regex.
[[nodiscard]] std::optional<acl_rule> make_acl_rule(bool allow, std::string_view pattern,
                                                    std::string& why);

/// The verdict of an ordered rule list for one address.
struct acl_verdict {
  bool allowed = true;
  const acl_rule* rule = nullptr;  ///< the rule that matched; null: no rule matched
};

/// pagekite.py CheckAcls: no rules allows everything; else the first rule whose regex matches
/// the whole address decides; no match denies. `address` is the textual form the relay saw
/// ("127.0.0.1", "::1", "::ffff:127.0.0.1" on a dual-stack listener).
[[nodiscard]] acl_verdict check_acl(const std::vector<acl_rule>& rules, std::string_view address);

/// One line of an --accept_acl_file.
struct acl_file_rule {
  std::size_t line = 0;  ///< 1-based line number
  std::string pattern;   ///< lower-cased, as pagekite.py lower-cases the whole line
  bool allow = false;    ///< the POLICY word contains "allow"
  std::string reason;    ///< the words after POLICY, joined by one space
  address_pattern re;
};

/// A parsed --accept_acl_file.
struct acl_file {
  std::vector<acl_file_rule> rules;
  std::vector<std::size_t>
      skipped;  ///< lines with a pattern but no POLICY (pagekite.py skips them)
};

/// What parse_acl_file refuses: the line and why.
struct acl_file_error {
  std::size_t line = 0;
  std::string why;
};

/// Most rules an ACL file may hold (each costs a regex per connection).
inline constexpr std::size_t max_acl_file_rules = 10000;

/// Parses the text of an --accept_acl_file: each line is lower-cased and trimmed; empty lines and
/// lines starting with `#` are comments; else `PATTERN POLICY [REASON...]` split on blanks. A
/// line with one word is skipped (as pagekite.py does). A pattern that is not a regex (or over
/// max_address_pattern bytes), or more than max_acl_file_rules rules, fails the whole file:
/// the caller refuses every connection until the file is fixed (fail closed; pagekite.py fails
/// open here). `error` is set on failure.
[[nodiscard]] std::optional<acl_file> parse_acl_file(std::string_view text, acl_file_error& error);

/// The verdict of an ACL file for one address.
struct acl_file_verdict {
  bool allowed = true;
  std::size_t line = 0;  ///< the matching line; 0 = no line matched (default allow)
  std::string_view reason = "Default";
};

/// pagekite.py Listener.check_acl: the first line whose pattern equals the address or matches
/// at its start decides (its POLICY contains "allow": allowed); no match allows.
[[nodiscard]] acl_file_verdict check_acl_file(const acl_file& file, std::string_view address);

}  // namespace kiteline::relay
