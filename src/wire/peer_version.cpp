// Recognising the peer from its X-PageKite-Version: a kiteline connector, or pagekite.py.
#include <algorithm>

#include "wire/handshake.hpp"

namespace kiteline::wire {

bool is_kiteline_version(std::string_view version) noexcept {
  return version.starts_with("kiteline") || version.ends_with("+kiteline");
}

bool is_pagekite_py_version(std::string_view version) noexcept {
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (version.empty() || !digit(version.front()) || !digit(version.back())) {
    return false;
  }
  return std::all_of(version.begin(), version.end(),
                     [&](char c) { return digit(c) || c == '.'; });
}

}  // namespace kiteline::wire
