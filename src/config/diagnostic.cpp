#include "config/diagnostic.hpp"

namespace kiteline::config {

std::string diagnostic::to_string() const {
  std::string out;
  if (!origin.empty()) {
    out += origin;
    out += ": ";
  }
  if (!key.empty()) {
    out += key;
    out += ": ";
  }
  out += message;
  return out;
}

}  // namespace kiteline::config
