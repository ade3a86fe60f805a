// Finding a row of the option table by long name or getopt letter.
#include "config/options.hpp"

namespace kiteline::config {

const option_spec* find_option(std::string_view long_name) noexcept {
  for (const auto& spec : option_table()) {
    if (spec.name == long_name) {
      return &spec;
    }
  }
  return nullptr;
}

const option_spec* find_short_option(char letter) noexcept {
  if (letter == '\0') {
    return nullptr;
  }
  for (const auto& spec : option_table()) {
    if (spec.short_name == letter) {
      return &spec;
    }
  }
  return nullptr;
}

}  // namespace kiteline::config
