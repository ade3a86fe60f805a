#include "relay/acl.hpp"

#include "core/text.hpp"

namespace kiteline::relay {

std::string_view expand_acl_shorthand(std::string_view pattern) noexcept {
  if (pattern == "localhost") {
    return R"(((::ffff:)?127\..*|::1))";
  }
  if (pattern == "any") {
    return ".*";
  }
  return pattern;
}

std::optional<acl_rule> make_acl_rule(bool allow, std::string_view pattern, std::string& why) {
  auto re = address_pattern::compile(expand_acl_shorthand(pattern), why);
  if (!re) {
    return std::nullopt;
  }
  return acl_rule{allow, std::string(pattern), std::move(*re)};
}

acl_verdict check_acl(const std::vector<acl_rule>& rules, std::string_view address) {
  if (rules.empty()) {
    return {true, nullptr};
  }
  for (const auto& r : rules) {
    if (r.re.matches_whole(address)) {
      return {r.allow, &r};
    }
  }
  return {false, nullptr};
}

namespace {

bool is_blank(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/// The blank-separated words of `line`.
std::vector<std::string_view> words_of(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && is_blank(line[i])) {
      ++i;
    }
    const std::size_t b = i;
    while (i < line.size() && !is_blank(line[i])) {
      ++i;
    }
    if (i > b) {
      out.push_back(line.substr(b, i - b));
    }
  }
  return out;
}

}  // namespace

std::optional<acl_file> parse_acl_file(std::string_view text, acl_file_error& error) {
  acl_file out;
  std::size_t lc = 0;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    const std::string raw(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    ++lc;
    const std::string lower = to_lower(raw);
    const auto words = words_of(lower);
    if (words.empty() || words[0].front() == '#') {
      continue;
    }
    if (words.size() < 2) {
      out.skipped.push_back(lc);
      continue;
    }
    if (out.rules.size() >= max_acl_file_rules) {
      error = {lc, "more than " + std::to_string(max_acl_file_rules) + " rules"};
      return std::nullopt;
    }
    std::string why;
    auto re = address_pattern::compile(words[0], why);
    if (!re) {
      error = {lc, "pattern `" + std::string(words[0]) + "`: " + why};
      return std::nullopt;
    }
    acl_file_rule rule{lc,
                       std::string(words[0]),
                       words[1].find("allow") != std::string_view::npos,
                       {},
                       std::move(*re)};
    for (std::size_t i = 2; i < words.size(); ++i) {
      rule.reason.append(i > 2 ? " " : "").append(words[i]);
    }
    out.rules.push_back(std::move(rule));
  }
  return out;
}

acl_file_verdict check_acl_file(const acl_file& file, std::string_view address) {
  for (const auto& r : file.rules) {
    if (address == r.pattern || r.re.matches_start(address)) {
      return {r.allow, r.line, r.reason};
    }
  }
  return {};
}

}  // namespace kiteline::relay
