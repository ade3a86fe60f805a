#include "config/secret.hpp"

#include <ostream>

namespace kiteline::config {

std::ostream& operator<<(std::ostream& os, const secret& s) { return os << s.to_string(); }

}  // namespace kiteline::config
